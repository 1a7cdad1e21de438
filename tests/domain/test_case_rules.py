"""The case's rules (R2–R19) on the plain ``Case`` aggregate: guards, actions, deadlines,
events and lights. Pure tests, no Temporal server; time moves only by ``advance_time``.

Dates (2026, Asia/Shanghai, no holiday in March): a case received on Monday 2026-03-02 with
a 5 WD period has 2026-03-09 as its last day, and the deadline passes at 2026-03-10 00:00.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from approval.domain.case import Case
from approval.domain.catalogue import DepartmentReview, MaterialRequirement, Matter
from approval.domain.errors import (
    ExtensionRefusedError,
    InvalidInputError,
    PermissionDeniedError,
    PiecemealNoticeError,
    StageError,
    TaskClosedError,
)
from approval.domain.events import (
    ApplicationDeemedAccepted,
    ApplicationReceived,
    CaseApproved,
    CaseEvent,
    CaseExtended,
    CaseRejected,
    ConsolidatedNoticeIssued,
    OneTimeNoticeIssued,
    ReviewDeemedApproved,
    ReviewEscalated,
    ReviewTaskCancelled,
    ReviewTaskDispatched,
    SupplementForwarded,
)
from approval.domain.models import (
    Accept,
    Actor,
    CollectFee,
    Decide,
    Deliver,
    Extend,
    IssueNotice,
    Outcome,
    Refuse,
    Supplement,
    Withdraw,
)
from approval.domain.notices import DepartmentReason, NoticeKind
from approval.domain.state import Stage, TaskState
from approval.domain.status import Light
from approval.routing import department_messages
from tests.domain_fixtures import (
    BDC,
    CASE_NO,
    GHXK,
    GTBG,
    MONDAY,
    QYSL,
    SGXK,
    SPJY,
    WHPJY,
    accepted_case,
    applicant_actor,
    approve,
    at,
    clerk,
    demanded,
    departments_of,
    item,
    material,
    midnight,
    notices,
    of_type,
    received_case,
    reject,
    request,
    reviewer,
    shared,
    snapshot,
    stage_of,
    status,
    supervisor,
    types,
)

GHXK_DEPARTMENTS = ["ZRZY", "ZJJ", "RFB", "CGJ"]


def supplement(*codes: str) -> Supplement:
    """The applicant's supplement of ``codes``, recorded at the window."""
    return Supplement(actor=clerk(), materials=tuple(material(c) for c in codes))


def consolidated_ghxk() -> tuple[Case, list[CaseEvent]]:
    """JS-GHXK-001 accepted on Monday; on Wednesday 10:00 ZJJ asks for SJFA, RFB for SJFA and
    RFSJ, ZRZY and CGJ approve (CGJ last). Returns the case and the events of CGJ's step."""
    case = accepted_case(GHXK)
    wednesday = at(date(2026, 3, 4), 10)
    case.handle(request("ZJJ", item("SJFA", "总平面图比例不符")), wednesday)
    case.handle(
        request("RFB", item("SJFA", "缺人防区域标注"), item("RFSJ", "防护等级未注明")), wednesday
    )
    case.handle(approve("ZRZY"), wednesday)
    case.drain()
    case.handle(approve("CGJ"), wednesday)
    return case, case.drain()


# ---- R2 materials --------------------------------------------------------------------------


def test_R2_accept_is_refused_while_a_demanded_material_is_missing() -> None:
    """R2: the clerk cannot accept while a demanded material is missing; nothing changes."""
    case = received_case(GHXK, materials=["SQB", "XMPZ", "SJFA"])
    before = snapshot(case)

    with pytest.raises(InvalidInputError) as info:
        case.handle(Accept(actor=clerk()), MONDAY)

    assert info.value.field == "materials"
    assert "RFSJ" in info.value.reason
    assert case.missing_materials() == ["RFSJ"]
    assert snapshot(case) == before


def test_R2_shared_items_are_never_required() -> None:
    """R2: a case with every demanded material but none of the 免提交 items is complete and is
    accepted; the shared items are not listed as missing at receipt."""
    assert set(shared(GHXK)) == {"BDCQZ", "YYZZ"}
    case = received_case(GHXK)  # demanded materials only

    received = of_type(case.outbox, ApplicationReceived)[0]
    assert received.missing == ()
    assert case.missing_materials() == []
    case.handle(Accept(actor=clerk()), MONDAY)
    assert stage_of(case) is Stage.IN_REVIEW


def test_R2_a_shared_item_cannot_be_named_defective_in_a_notice() -> None:
    """R2: the one-time notice may not demand a 免提交 item, even one the applicant handed in."""
    case = received_case(GHXK, materials=[*demanded(GHXK), "BDCQZ"])
    before = snapshot(case)

    with pytest.raises(InvalidInputError) as info:
        case.handle(IssueNotice(actor=clerk(), defective=(item("BDCQZ"),)), MONDAY)

    assert info.value.field == "defective"
    assert snapshot(case) == before


def test_R2_a_department_cannot_request_a_shared_item() -> None:
    """R2: a department's request naming a 免提交 item is refused; the task stays open."""
    case = accepted_case(GHXK)
    before = snapshot(case)

    with pytest.raises(InvalidInputError) as info:
        case.handle(request("ZJJ", item("SJFA"), item("YYZZ", "营业执照过期")), MONDAY)

    assert info.value.field == "items"
    assert snapshot(case) == before
    assert case.state.tasks["ZJJ"].state is TaskState.PENDING


# ---- R3 one-time notice and deemed acceptance ------------------------------------------------


def test_R3_one_time_notice_lists_every_missing_item_and_the_defective_ones() -> None:
    """R3: one notice lists ALL missing demanded items (found by the engine) plus the defective
    ones the clerk names; it never lists a shared item, and states the supplement due date."""
    case = received_case(GHXK, materials=["SQB", "SJFA"])
    case.drain()

    case.handle(IssueNotice(actor=clerk(), defective=(item("SQB", "未签章"),)), MONDAY)
    events = case.drain()

    assert types(events) == ["OneTimeNoticeIssued", "NoticeIssued"]
    listed = of_type(events, OneTimeNoticeIssued)[0].items
    assert listed == (item("XMPZ", "未提交"), item("RFSJ", "未提交"), item("SQB", "未签章"))
    (notice,) = notices(events, NoticeKind.ONE_TIME_NOTICE)
    assert notice.items == listed
    assert notice.due == date(2026, 4, 1)
    assert stage_of(case) is Stage.AWAITING_INTAKE_SUPPLEMENT
    assert case.state.first_intake_notice == ("XMPZ", "RFSJ", "SQB")


def test_R3_window_silence_for_5_wd_accepts_as_of_the_receipt_date() -> None:
    """R3: neither accepted nor noticed within 5 WD of receipt, the case counts as accepted as
    of the receipt date: the case's committed period runs from receipt."""
    case = received_case(GHXK)
    case.drain()

    case.advance_time(at(date(2026, 3, 9), 23, 59))  # last WD of the notice period
    assert stage_of(case) is Stage.RECEIVED
    assert case.drain() == []

    case.advance_time(midnight(date(2026, 3, 10)))
    events = case.drain()

    assert types(events)[:2] == ["ApplicationDeemedAccepted", "NoticeIssued"]
    assert case.state.deemed_accepted
    assert case.state.accepted_as_of == case.state.received_at == MONDAY
    assert events[0].actor.id == "engine"
    assert of_type(events, ApplicationDeemedAccepted)[0].due == date(2026, 3, 16)  # 10 WD
    (voucher,) = notices(events, NoticeKind.ACCEPTANCE_VOUCHER)
    assert voucher.as_of == date(2026, 3, 2)
    assert voucher.due == date(2026, 3, 16)


def test_R3_window_silence_with_a_2_wd_notice_period() -> None:
    """R3 (configurable 2 WD, SC-QYSL-001): deemed acceptance at the end of the 2nd WD after
    receipt, as of the receipt date."""
    case = received_case(QYSL)
    assert case.state.matter.notice_period_wd == 2

    case.advance_time(at(date(2026, 3, 4), 23, 59))
    assert stage_of(case) is Stage.RECEIVED
    assert case.next_due() == midnight(date(2026, 3, 5))

    case.advance_time(midnight(date(2026, 3, 5)))

    assert case.state.deemed_accepted
    assert case.state.accepted_as_of == case.state.received_at
    assert case.state.accepted_at == midnight(date(2026, 3, 5))
    assert of_type(case.outbox, ApplicationDeemedAccepted)[0].as_of == MONDAY


def test_R3_a_notice_stops_the_window_clock() -> None:
    """R3: once the one-time notice is issued the window's period no longer runs, so the case
    is not deemed accepted while the applicant supplements."""
    case = received_case(GHXK, materials=["SQB"])
    case.handle(IssueNotice(actor=clerk()), MONDAY)
    case.drain()

    case.advance_time(midnight(date(2026, 3, 20)))

    assert case.drain() == []
    assert stage_of(case) is Stage.AWAITING_INTAKE_SUPPLEMENT
    assert not case.state.deemed_accepted


# ---- R4 no piecemeal notices -------------------------------------------------------------------


def noticed_and_supplemented() -> Case:
    """JS-GHXK-001 received without RFSJ; the notice names RFSJ; the applicant supplies it."""
    case = received_case(GHXK, materials=["SQB", "XMPZ", "SJFA"])
    case.handle(IssueNotice(actor=clerk()), MONDAY)
    case.handle(supplement("RFSJ"), at(date(2026, 3, 3)))
    case.drain()
    return case


def test_R4_a_second_notice_naming_a_new_item_is_refused() -> None:
    """R4: after the supplement, a second notice may not name an item that was not in the first
    notice (here SQB, handed in at receipt); it is refused and changes nothing."""
    case = noticed_and_supplemented()
    assert stage_of(case) is Stage.RECEIVED
    before = snapshot(case)

    with pytest.raises(PiecemealNoticeError) as info:
        case.handle(IssueNotice(actor=clerk(), defective=(item("SQB"),)), at(date(2026, 3, 4)))

    assert "SQB" in info.value.reason
    assert snapshot(case) == before


def test_R4_a_second_notice_about_a_defective_supplement_is_allowed() -> None:
    """R4: a second notice naming an item of the first notice whose supplement is defective is
    allowed."""
    case = noticed_and_supplemented()

    case.handle(
        IssueNotice(actor=clerk(), defective=(item("RFSJ", "补正材料未盖章"),)),
        at(date(2026, 3, 4)),
    )

    (event,) = of_type(case.drain(), OneTimeNoticeIssued)
    assert event.items == (item("RFSJ", "补正材料未盖章"),)
    assert stage_of(case) is Stage.AWAITING_INTAKE_SUPPLEMENT


# ---- R5 vouchers ----------------------------------------------------------------------------


def test_R5_acceptance_issues_a_voucher_with_the_committed_due_date() -> None:
    """R5: acceptance issues a dated acceptance voucher with the case number and the committed
    completion date (10 WD from Monday 2026-03-02 → 2026-03-16)."""
    case = received_case(GHXK)
    case.drain()

    case.handle(Accept(actor=clerk()), MONDAY)
    events = case.drain()

    assert types(events)[:2] == ["ApplicationAccepted", "NoticeIssued"]
    (voucher,) = notices(events, NoticeKind.ACCEPTANCE_VOUCHER)
    assert voucher.case_no == CASE_NO
    assert voucher.issued_at == MONDAY
    assert voucher.as_of == date(2026, 3, 2)
    assert voucher.due == date(2026, 3, 16)
    assert voucher.due_provisional is False
    assert not case.state.deemed_accepted
    assert case.state.accepted_as_of == MONDAY


def test_R5_R17_voucher_due_in_an_unknown_year_is_provisional() -> None:
    """R5/R17: a committed date that counts days of 2027 (no official schedule) is stated on
    the voucher and marked provisional, and the status says so."""
    received = at(date(2026, 12, 21))
    case = accepted_case(GHXK, now=received)

    (voucher,) = notices(case.drain(), NoticeKind.ACCEPTANCE_VOUCHER)

    assert voucher.due == date(2027, 1, 5)  # 2027-01-01 (元旦) is a statutory holiday
    assert voucher.due_provisional is True
    assert status(case, received).provisional


def test_R5_refusal_issues_a_non_acceptance_voucher() -> None:
    """R5 (and R1): a non-acceptance closes the case with a written voucher giving the reason
    and the competent organ; no review starts."""
    case = received_case(GHXK)
    case.drain()

    case.handle(
        Refuse(actor=clerk(), reason="不属于本机关职权范围", competent_organ="山东省自然资源厅"),
        MONDAY,
    )
    events = case.drain()

    (voucher,) = notices(events, NoticeKind.NON_ACCEPTANCE_VOUCHER)
    assert voucher.reason == "不属于本机关职权范围"
    assert voucher.competent_organ == "山东省自然资源厅"
    assert voucher.case_no == CASE_NO
    assert stage_of(case) is Stage.NOT_ACCEPTED
    assert "ReviewTaskDispatched" not in types(events)
    assert case.next_due() is None


# ---- R6 supplement deadline ------------------------------------------------------------------


def test_R6_no_supplement_within_the_period_withdraws_the_case() -> None:
    """R6: without a supplement within 30 calendar days of the one-time notice the case closes
    as withdrawn and the applicant gets a lapse notice."""
    case = received_case(GHXK, materials=["SQB"])
    case.handle(IssueNotice(actor=clerk()), MONDAY)
    case.drain()
    due = midnight(date(2026, 4, 2))  # the end of 2026-04-01, the 30th day after the notice
    assert case.next_due() == due

    case.advance_time(due - timedelta(minutes=1))
    assert stage_of(case) is Stage.AWAITING_INTAKE_SUPPLEMENT

    case.advance_time(due)
    events = case.drain()

    assert types(events) == ["CaseLapsed", "NoticeIssued", "CaseClosed"]
    (lapse,) = notices(events, NoticeKind.LAPSE_NOTICE)
    assert lapse.due == date(2026, 4, 1)
    assert stage_of(case) is Stage.WITHDRAWN
    assert case.next_due() is None


def test_R6_no_supplement_during_review_withdraws_and_cancels_the_tasks() -> None:
    """R6: a consolidated notice left unanswered also closes the case as withdrawn, and the
    departments that asked have their tasks cancelled."""
    case, _ = consolidated_ghxk()
    due = case.state.supplement_due
    assert due == midnight(date(2026, 4, 4))  # end of the 30th day after the notice of 03-04

    case.advance_time(due)
    events = case.drain()

    assert sorted(departments_of(events, ReviewTaskCancelled)) == ["RFB", "ZJJ"]
    assert "CaseLapsed" in types(events)
    assert stage_of(case) is Stage.WITHDRAWN


def test_R6_a_supplement_on_the_due_date_stated_in_the_notice_is_taken() -> None:
    """R6: the one-time notice tells the applicant to supplement by 2026-04-01; a supplement
    handed in at 10:00 on that date is within the period and must be taken."""
    case = received_case(GHXK, materials=["SQB", "XMPZ", "SJFA"])
    case.handle(IssueNotice(actor=clerk()), MONDAY)
    (notice,) = notices(case.drain(), NoticeKind.ONE_TIME_NOTICE)
    assert notice.due == date(2026, 4, 1)
    on_the_due_date = at(date(2026, 4, 1), 10)

    case.advance_time(on_the_due_date)

    assert stage_of(case) is Stage.AWAITING_INTAKE_SUPPLEMENT
    case.handle(supplement("RFSJ"), on_the_due_date)
    assert stage_of(case) is Stage.RECEIVED


# ---- R7 parallel dispatch ------------------------------------------------------------------


def test_R7_every_department_gets_its_task_at_acceptance_with_the_same_materials() -> None:
    """R7: in the acceptance step every reviewing department without a dependency is sent its
    task, all with the same full set of materials and each with its own period (R8)."""
    case = received_case(GHXK)
    case.drain()

    case.handle(Accept(actor=clerk()), MONDAY)
    dispatched = of_type(case.drain(), ReviewTaskDispatched)

    assert [e.department for e in dispatched] == GHXK_DEPARTMENTS
    assert {e.at for e in dispatched} == {MONDAY}
    expected = tuple(sorted(demanded(GHXK)))
    assert all(e.materials == expected for e in dispatched)
    assert all(e.round == 1 for e in dispatched)
    due = {e.department: e.due for e in dispatched}
    assert due["ZRZY"] == midnight(date(2026, 3, 13))  # 8 WD
    assert due["ZJJ"] == due["RFB"] == due["CGJ"] == midnight(date(2026, 3, 10))
    assert all(t.state is TaskState.PENDING for t in case.state.tasks.values())


def test_R7_a_dependent_department_waits_for_its_declared_dependency() -> None:
    """R7: for JS-SGXK-001, ZJJ and RFB depend on ZRZY: they are dispatched only in the step in
    which ZRZY approves, with their periods counted from then and the same materials."""
    case = received_case(SGXK)
    case.drain()

    case.handle(Accept(actor=clerk()), MONDAY)
    first = case.drain()
    assert departments_of(first, ReviewTaskDispatched) == ["ZRZY", "CGJ", "JJ"]
    assert case.state.tasks["ZJJ"].state is TaskState.WAITING
    assert case.state.tasks["RFB"].state is TaskState.WAITING

    case.handle(approve("CGJ"), MONDAY)
    assert departments_of(case.drain(), ReviewTaskDispatched) == []

    tuesday = at(date(2026, 3, 3))
    case.handle(approve("ZRZY"), tuesday)
    later = of_type(case.drain(), ReviewTaskDispatched)

    assert [e.department for e in later] == ["ZJJ", "RFB"]
    assert all(e.materials == of_type(first, ReviewTaskDispatched)[-1].materials for e in later)
    clock = case.state.tasks["ZJJ"].clock
    assert clock is not None and clock.deadline is not None
    assert clock.deadline.last_day == date(2026, 3, 12)  # 7 WD from Tuesday 2026-03-03


def test_R7_R9_a_deemed_dependency_also_releases_the_dependants() -> None:
    """R7/R9: a dependency deemed approved by silent consent counts as agreement: the
    dependants are dispatched when its period ends."""
    case = accepted_case(SGXK)
    case.drain()

    case.advance_time(midnight(date(2026, 3, 6)))  # ZRZY's 3 WD end
    events = case.drain()

    assert "ZRZY" in departments_of(events, ReviewDeemedApproved)
    assert departments_of(events, ReviewTaskDispatched) == ["ZJJ", "RFB"]


# ---- R8 department period, closed tasks, permissions -----------------------------------------


def _approved(case: Case) -> None:
    case.handle(approve("ZJJ"), MONDAY)


def _deemed(case: Case) -> None:
    case.handle(approve("ZRZY"), MONDAY)
    case.advance_time(midnight(date(2026, 3, 10)))  # ZJJ's 5 WD end, RFB/CGJ too


def _cancelled(case: Case) -> None:
    case.handle(Withdraw(actor=applicant_actor()), MONDAY)


@pytest.mark.parametrize(
    "close",
    [_approved, _deemed, _cancelled],
    ids=["approved", "deemed_approved", "cancelled"],
)
def test_R8_a_decision_on_a_closed_task_is_refused(close: Callable[[Case], None]) -> None:
    """R8: once ZJJ's task is decided, deemed or cancelled, a (further) decision of ZJJ is
    refused with TaskClosedError and changes nothing."""
    case = accepted_case(GHXK)
    close(case)
    before = snapshot(case)

    with pytest.raises(TaskClosedError) as info:
        case.handle(reject("ZJJ"), at(date(2026, 3, 11)))

    assert info.value.field == "department"
    assert snapshot(case) == before


def test_R8_a_decision_for_a_department_not_on_the_case_is_refused() -> None:
    """R8: a reviewer of WJW, which does not review JS-GHXK-001, cannot decide on the case."""
    case = accepted_case(GHXK)
    before = snapshot(case)

    with pytest.raises(InvalidInputError) as info:
        case.handle(approve("WJW"), MONDAY)

    assert info.value.field == "department"
    assert snapshot(case) == before


def test_R8_R22_a_reviewer_decides_only_for_their_own_department() -> None:
    """R8/R22: a reviewer of ZJJ cannot decide ZRZY's task, and a clerk decides no review."""
    case = accepted_case(GHXK)
    before = snapshot(case)

    with pytest.raises(PermissionDeniedError):
        case.handle(
            Decide(actor=reviewer("ZJJ"), department="ZRZY", outcome=Outcome.APPROVE), MONDAY
        )
    with pytest.raises(PermissionDeniedError):
        case.handle(Decide(actor=clerk(), department="ZRZY", outcome=Outcome.APPROVE), MONDAY)

    assert snapshot(case) == before
    assert case.state.tasks["ZRZY"].state is TaskState.PENDING


# ---- R9 silent consent ---------------------------------------------------------------------


def test_R9_silent_department_is_deemed_approved_and_overdue() -> None:
    """R9: CGJ (3 WD) never answers: when its period ends the task is closed as deemed
    approved — not a plain approval — recorded overdue, and the decision lists it as deemed."""
    case = accepted_case(SPJY)
    case.handle(approve("SCJG"), MONDAY)
    case.drain()

    case.advance_time(at(date(2026, 3, 5), 23, 59))
    assert case.state.tasks["CGJ"].state is TaskState.PENDING

    case.advance_time(midnight(date(2026, 3, 6)))
    events = case.drain()

    task = case.state.tasks["CGJ"]
    assert task.state is TaskState.DEEMED_APPROVED
    assert task.overdue
    (deemed,) = of_type(events, ReviewDeemedApproved)
    assert (deemed.department, deemed.overdue) == ("CGJ", True)
    assert "ReviewApproved" not in types(events)
    assert case.state.decision is not None
    assert case.state.decision.approved
    assert case.state.decision.deemed_departments == ("CGJ",)


def test_R9_without_silent_consent_the_task_is_escalated_and_stays_open() -> None:
    """R9: for AJ-WHPJY-001 (safety, silent consent excluded) YJJ's unanswered task is escalated
    instead: still pending, red, and the case waits; YJJ's late answer then decides it."""
    case = accepted_case(WHPJY)
    assert not case.state.matter.silent_consent
    for department in ("ZRZY", "XF", "GA"):
        case.handle(approve(department), MONDAY)
    case.drain()
    end = midnight(date(2026, 3, 24))  # YJJ's 15 WD end

    case.advance_time(end)
    events = case.drain()

    assert types(events) == ["ReviewEscalated"]
    (escalated,) = of_type(events, ReviewEscalated)
    assert (escalated.department, escalated.overdue) == ("YJJ", True)
    task = case.state.tasks["YJJ"]
    assert task.state is TaskState.PENDING
    assert task.escalated and task.overdue
    assert stage_of(case) is Stage.IN_REVIEW
    assert case.state.decision is None
    (yjj,) = [t for t in status(case, end).tasks if t.department == "YJJ"]
    assert yjj.escalated
    assert yjj.clock is not None and yjj.clock.light is Light.RED

    case.handle(approve("YJJ"), at(date(2026, 3, 25)))
    assert case.state.decision is not None
    assert case.state.decision.approved
    assert case.state.decision.deemed_departments == ()


# ---- R11 one consolidated supplement ---------------------------------------------------------


def test_R11_requests_are_sent_as_one_notice_once_every_department_answered() -> None:
    """R11: ZJJ's and RFB's requests produce no notice while CGJ has not answered; CGJ's answer
    produces exactly one consolidated notice with both departments' items."""
    case = accepted_case(GHXK)
    wednesday = at(date(2026, 3, 4), 10)
    case.handle(request("ZJJ", item("SJFA")), wednesday)
    case.handle(request("RFB", item("RFSJ")), wednesday)
    case.handle(approve("ZRZY"), wednesday)
    assert "ConsolidatedNoticeIssued" not in types(case.drain())
    assert stage_of(case) is Stage.IN_REVIEW

    case.handle(approve("CGJ"), wednesday)
    events = case.drain()

    (notice_event,) = of_type(events, ConsolidatedNoticeIssued)
    assert notice_event.departments == ("ZJJ", "RFB")
    assert [i.code for i in notice_event.items] == ["SJFA", "RFSJ"]
    assert len(notices(events, NoticeKind.CONSOLIDATED_NOTICE)) == 1
    assert stage_of(case) is Stage.AWAITING_SUPPLEMENT


def test_R11_the_notice_waits_for_a_silent_department_until_its_period_ends() -> None:
    """R11: ZRZY asks on Monday; CGJ never answers: the consolidated notice is sent when CGJ's
    period ends (and CGJ is deemed approved), not before."""
    case = accepted_case(GHXK)
    case.handle(request("ZRZY", item("XMPZ")), MONDAY)
    case.handle(approve("ZJJ"), MONDAY)
    case.handle(approve("RFB"), MONDAY)
    case.drain()

    case.advance_time(at(date(2026, 3, 9), 23, 59))
    assert case.drain() == []

    case.advance_time(midnight(date(2026, 3, 10)))
    events = case.drain()

    assert types(events)[0] == "ReviewDeemedApproved"
    (notice_event,) = of_type(events, ConsolidatedNoticeIssued)
    assert notice_event.departments == ("ZRZY",)
    assert notice_event.items == (item("XMPZ", "不符合法定形式"),)


def test_R11_items_of_two_departments_for_the_same_code_are_merged() -> None:
    """R11: ZJJ and RFB both ask for SJFA: the notice lists SJFA once, with both reasons."""
    _, events = consolidated_ghxk()

    (notice_event,) = of_type(events, ConsolidatedNoticeIssued)
    assert notice_event.items == (
        item("SJFA", "总平面图比例不符；缺人防区域标注"),
        item("RFSJ", "防护等级未注明"),
    )
    (notice,) = notices(events, NoticeKind.CONSOLIDATED_NOTICE)
    assert notice.items == notice_event.items


def test_R11_after_the_notice_a_request_for_a_new_item_is_refused() -> None:
    """R11: after the consolidated notice and the supplement, RFB may ask again about an item of
    the notice (a defective supplement) but not for a new item."""
    case, _ = consolidated_ghxk()
    case.handle(supplement("SJFA", "RFSJ"), at(date(2026, 3, 9)))
    before = snapshot(case)

    with pytest.raises(PiecemealNoticeError) as info:
        case.handle(request("RFB", item("XMPZ")), at(date(2026, 3, 10)))
    assert "XMPZ" in info.value.reason
    assert snapshot(case) == before

    case.handle(request("RFB", item("RFSJ", "补正后仍未注明")), at(date(2026, 3, 10)))
    assert case.state.tasks["RFB"].state is TaskState.SUPPLEMENT_REQUESTED


# ---- R12 clock stop --------------------------------------------------------------------------


def test_R12_no_deadline_fires_while_the_applicant_supplements() -> None:
    """R12: while awaiting the supplement the only deadline is the supplement's; passing every
    original deadline of the case and its tasks fires nothing."""
    case, events = consolidated_ghxk()
    assert types(events)[-3:] == ["ClocksStopped", "ConsolidatedNoticeIssued", "NoticeIssued"]

    assert case.next_due() == case.state.supplement_due

    case.advance_time(midnight(date(2026, 3, 25)))  # past 2026-03-16, the case's last day
    assert case.drain() == []
    assert stage_of(case) is Stage.AWAITING_SUPPLEMENT
    assert not case.state.case_overdue


def test_R12_every_clock_resumes_with_the_working_days_it_had_left() -> None:
    """R12: the case's and each open task's remaining WD at the stop (Wednesday 2026-03-04) are
    the same when the supplement arrives on 2026-03-23; the askers get the supplement."""
    case = accepted_case(GHXK)
    wednesday = at(date(2026, 3, 4), 10)
    case.handle(request("ZJJ", item("SJFA")), wednesday)
    case.handle(request("RFB", item("RFSJ")), wednesday)
    case.handle(approve("ZRZY"), wednesday)
    before = status(case, wednesday)
    case.handle(approve("CGJ"), wednesday)
    case.drain()
    assert before.case_clock is not None
    assert before.case_clock.remaining_wd == 8  # Thu 3-5 .. Mon 3-16
    left = {t.department: t.clock.remaining_wd for t in before.tasks if t.clock}
    assert left["ZJJ"] == left["RFB"] == 3  # Thu 3-5, Fri 3-6, Mon 3-9

    monday = at(date(2026, 3, 23))
    case.handle(supplement("SJFA", "RFSJ"), monday)
    events = case.drain()
    after = status(case, monday)

    assert departments_of(events, SupplementForwarded) == ["ZJJ", "RFB"]
    assert "ClocksResumed" in types(events)
    assert after.case_clock is not None
    assert after.case_clock.remaining_wd == 8
    assert after.case_clock.last_day == date(2026, 4, 2)
    for task in after.tasks:
        if task.department in ("ZJJ", "RFB"):
            assert task.state is TaskState.PENDING
            assert task.round == 2
            assert task.clock is not None and task.clock.remaining_wd == left[task.department]


def test_R12_R13_an_extension_during_the_supplement_does_not_start_the_case_clock() -> None:
    """R12/R13: the case clock of AJ-WHPJY-001 expires while YJJ is escalated; YJJ then asks for
    a supplement and the supervisor extends the case while the applicant supplements: the case
    clock must stay stopped, so the supplement deadline is still the only one."""
    case = accepted_case(WHPJY)
    for department in ("ZRZY", "XF", "GA"):
        case.handle(approve(department), MONDAY)
    case.advance_time(midnight(date(2026, 3, 24)))  # YJJ escalated
    case.advance_time(midnight(date(2026, 3, 31)))  # case period (20 WD) expired
    assert case.state.case_overdue
    case.handle(request("YJJ", item("AQPJ")), at(date(2026, 3, 31), 10))
    assert stage_of(case) is Stage.AWAITING_SUPPLEMENT

    case.handle(Extend(actor=supervisor(), reason="需组织专家评审"), at(date(2026, 4, 1)))

    assert case.next_due() == case.state.supplement_due


# ---- R13 overall limit and extension -----------------------------------------------------------


def test_R13_a_joint_matter_is_extended_once_by_15_wd() -> None:
    """R13: a supervisor extends a joint case by 15 WD after its last day (2026-03-16 → 04-07,
    skipping the Qingming holiday), with the reason sent to the applicant."""
    case = accepted_case(GHXK)
    case.drain()
    thursday = at(date(2026, 3, 5))

    case.handle(Extend(actor=supervisor(), reason="需现场踏勘"), thursday)
    events = case.drain()

    (extended,) = of_type(events, CaseExtended)
    assert (extended.extra_wd, extended.reason) == (15, "需现场踏勘")
    (notice,) = notices(events, NoticeKind.EXTENSION_NOTICE)
    assert notice.reason == "需现场踏勘"
    assert notice.due == date(2026, 4, 7)
    clock = status(case, thursday).case_clock
    assert clock is not None
    assert clock.last_day == date(2026, 4, 7)
    assert clock.period_wd == 25
    assert case.state.extended


def test_R13_a_single_organ_matter_is_extended_by_10_wd() -> None:
    """R13: a matter reviewed by one organ only is extended by 10 WD (2026-03-16 → 03-30)."""
    single = Matter(
        code="TEST-DJ-001",
        name="单部门审批测试事项",
        lead_department="SCJG",
        reviews=(DepartmentReview(department="SCJG", name="市场监督管理局", period_wd=5),),
        materials=(MaterialRequirement(code="SQS", name="申请书"),),
        statutory_period_wd=20,
        committed_period_wd=10,
    )
    assert not single.is_joint
    case = accepted_case(single)

    case.handle(Extend(actor=supervisor(), reason="需补充调查"), MONDAY)

    assert of_type(case.outbox, CaseExtended)[0].extra_wd == 10
    clock = case.state.case_clock
    assert clock is not None and clock.deadline is not None
    assert clock.deadline.last_day == date(2026, 3, 30)


def test_R13_a_second_extension_is_refused() -> None:
    """R13: the case is extended once; a second extension is refused and changes nothing."""
    case = accepted_case(GHXK)
    case.handle(Extend(actor=supervisor(), reason="需现场踏勘"), MONDAY)
    before = snapshot(case)

    with pytest.raises(ExtensionRefusedError):
        case.handle(Extend(actor=supervisor(), reason="再次延期"), at(date(2026, 3, 5)))

    assert snapshot(case) == before


@pytest.mark.parametrize("who", [clerk(), reviewer("ZRZY")], ids=["clerk", "reviewer"])
def test_R13_R22_only_a_supervisor_extends(who: Actor) -> None:
    """R13/R22: neither a clerk nor a reviewer may extend the case."""
    case = accepted_case(GHXK)
    before = snapshot(case)

    with pytest.raises(PermissionDeniedError):
        case.handle(Extend(actor=who, reason="延期"), MONDAY)

    assert snapshot(case) == before
    assert not case.state.extended


def test_R13_R12_an_extension_while_stopped_adds_to_the_days_left() -> None:
    """R13/R12: extending while the clocks are stopped adds 15 WD to the case's days left."""
    case, _ = consolidated_ghxk()
    clock = case.state.case_clock
    assert clock is not None and clock.remaining_wd == 8

    case.handle(Extend(actor=supervisor(), reason="需专家评审"), at(date(2026, 3, 5)))

    assert clock.remaining_wd == 23
    assert case.next_due() == case.state.supplement_due


# ---- R14 decision ----------------------------------------------------------------------------


def test_R14_any_rejection_rejects_the_case_with_every_rejecting_reason() -> None:
    """R14: two departments reject, two approve: once all have answered the case is rejected in
    writing with both departments' reasons."""
    case = accepted_case(GHXK)
    case.handle(reject("ZJJ", "不符合建筑间距要求"), MONDAY)
    case.handle(reject("RFB", "未按规定配建人防工程"), MONDAY)
    case.handle(approve("ZRZY"), MONDAY)
    assert case.state.decision is None  # CGJ has not answered yet
    case.drain()

    case.handle(approve("CGJ"), at(date(2026, 3, 3)))
    events = case.drain()

    (rejected,) = of_type(events, CaseRejected)
    assert rejected.rejections == {
        "ZJJ": "不符合建筑间距要求",
        "RFB": "未按规定配建人防工程",
    }
    assert "CaseApproved" not in types(events)
    (notice,) = notices(events, NoticeKind.REJECTION_DECISION)
    assert notice.rejections == (
        DepartmentReason(department="住房和城乡建设局", reasons="不符合建筑间距要求"),
        DepartmentReason(department="人民防空办公室", reasons="未按规定配建人防工程"),
    )
    assert notices(events, NoticeKind.CERTIFICATE) == []
    assert case.state.decision is not None and not case.state.decision.approved
    assert stage_of(case) is Stage.AWAITING_DELIVERY


def test_R14_approval_lists_the_deemed_department() -> None:
    """R14: all approved, CGJ by silent consent: CaseApproved and the approval decision name CGJ
    as deemed."""
    case = accepted_case(SPJY)
    case.handle(approve("SCJG"), MONDAY)
    case.drain()

    case.advance_time(midnight(date(2026, 3, 6)))
    events = case.drain()

    (approved,) = of_type(events, CaseApproved)
    assert approved.deemed_departments == ("CGJ",)
    (decision,) = notices(events, NoticeKind.APPROVAL_DECISION)
    assert decision.deemed_departments == ("城市管理局",)


# ---- R15 fee ---------------------------------------------------------------------------------


def test_R15_the_fee_is_collected_once_before_the_certificate() -> None:
    """R15: BDC-ZYDJ-001 (80 yuan) waits for the fee after approval; a wrong amount is refused;
    the right amount issues the certificate once; a second collection is refused."""
    case = accepted_case(BDC)
    case.handle(approve("SW"), MONDAY)
    case.handle(approve("ZJJ"), MONDAY)
    case.handle(approve("ZRZY"), at(date(2026, 3, 3)))
    events = case.drain()
    assert "CaseApproved" in types(events)
    assert notices(events, NoticeKind.CERTIFICATE) == []
    assert stage_of(case) is Stage.AWAITING_FEE
    before = snapshot(case)

    with pytest.raises(InvalidInputError) as info:
        case.handle(CollectFee(actor=clerk(), amount_yuan=Decimal(50), receipt_no="R-1"), MONDAY)
    assert info.value.field == "amount_yuan"
    assert snapshot(case) == before

    paid = at(date(2026, 3, 4))
    case.handle(CollectFee(actor=clerk(), amount_yuan=Decimal("80.00"), receipt_no="R-2"), paid)
    events = case.drain()
    assert types(events) == ["FeeCollected", "NoticeIssued", "CertificateIssued"]
    assert len(notices(events, NoticeKind.CERTIFICATE)) == 1
    assert case.state.fee_paid
    assert stage_of(case) is Stage.AWAITING_DELIVERY

    with pytest.raises(StageError):
        case.handle(CollectFee(actor=clerk(), amount_yuan=Decimal(80), receipt_no="R-3"), paid)
    assert case.outbox == []


# ---- R16 delivery ---------------------------------------------------------------------------


def test_R16_delivery_is_due_10_wd_after_approval_and_overdue_is_recorded_once() -> None:
    """R16: approved on Monday 2026-03-02, the result is due by 2026-03-16; when that passes
    DeliveryOverdue is recorded once; delivery then completes the case."""
    case = accepted_case(SPJY)
    case.handle(approve("SCJG"), MONDAY)
    case.handle(approve("CGJ"), MONDAY)
    case.drain()
    assert stage_of(case) is Stage.AWAITING_DELIVERY
    assert case.next_due() == midnight(date(2026, 3, 17))

    case.advance_time(at(date(2026, 3, 16), 23, 59))
    assert case.drain() == []
    case.advance_time(midnight(date(2026, 3, 17)))
    case.advance_time(at(date(2026, 3, 20)))
    events = case.drain()

    assert types(events) == ["DeliveryOverdue"]
    assert case.state.delivery_overdue
    late = status(case, at(date(2026, 3, 20)))
    assert late.delivery_clock is not None and late.delivery_clock.light is Light.RED

    case.handle(Deliver(actor=clerk()), at(date(2026, 3, 20)))
    assert types(case.drain()) == ["ResultDelivered", "CaseClosed"]
    assert stage_of(case) is Stage.COMPLETED
    assert case.next_due() is None


# ---- R18 withdrawal --------------------------------------------------------------------------


def test_R18_withdrawal_cancels_every_open_task_and_no_timer_fires_afterwards() -> None:
    """R18: withdrawing JS-SGXK-001 cancels the three dispatched tasks (each department is told)
    and the two waiting ones, closes the case, and nothing is due afterwards."""
    case = accepted_case(SGXK)
    case.drain()

    case.handle(Withdraw(actor=applicant_actor()), at(date(2026, 3, 3)))
    events = case.drain()

    assert departments_of(events, ReviewTaskCancelled) == ["ZRZY", "CGJ", "JJ"]
    assert "CaseWithdrawn" in types(events)
    assert len(notices(events, NoticeKind.WITHDRAWAL_NOTICE)) == 1
    assert all(t.state is TaskState.CANCELLED for t in case.state.tasks.values())
    assert stage_of(case) is Stage.WITHDRAWN
    assert case.next_due() is None

    case.advance_time(at(date(2026, 6, 1)))
    assert case.drain() == []


def test_R18_withdrawal_after_the_decision_is_refused() -> None:
    """R18: once the case is decided it can no longer be withdrawn."""
    case = accepted_case(SPJY)
    case.handle(approve("SCJG"), MONDAY)
    case.handle(approve("CGJ"), MONDAY)
    before = snapshot(case)

    with pytest.raises(StageError):
        case.handle(Withdraw(actor=applicant_actor()), at(date(2026, 3, 3)))

    assert snapshot(case) == before


def test_R18_every_department_is_told_of_the_withdrawal() -> None:
    """R18: ZRZY approved, then the applicant withdraws: every dispatched department, ZRZY
    included, receives a message in the withdrawal step."""
    case = accepted_case(GHXK)
    case.handle(approve("ZRZY"), MONDAY)
    case.drain()

    case.handle(Withdraw(actor=applicant_actor()), at(date(2026, 3, 3)))
    messages = department_messages(case.state, case.drain())

    assert sorted(m.department for m in messages) == sorted(GHXK_DEPARTMENTS)


# ---- instant matters, event numbering --------------------------------------------------------


def test_instant_matter_is_decided_at_acceptance() -> None:
    """即办件: accepting SC-GTBG-001 decides it at once — approved, no review task, certificate
    issued, awaiting delivery."""
    case = received_case(GTBG)
    case.drain()

    case.handle(Accept(actor=clerk()), MONDAY)
    events = case.drain()

    assert case.state.tasks == {}
    assert "ReviewTaskDispatched" not in types(events)
    assert case.state.decision is not None and case.state.decision.approved
    assert case.state.decision.decided_at == MONDAY
    assert len(notices(events, NoticeKind.CERTIFICATE)) == 1
    assert stage_of(case) is Stage.AWAITING_DELIVERY


def test_events_are_numbered_1_to_n_without_gaps_across_steps() -> None:
    """Events are numbered per case from 1, without gaps or repeats, across drains."""
    case = received_case(SPJY)
    seen: list[CaseEvent] = case.drain()
    case.handle(Accept(actor=clerk()), MONDAY)
    case.handle(approve("SCJG"), MONDAY)
    seen += case.drain()
    case.advance_time(midnight(date(2026, 3, 6)))
    seen += case.drain()
    case.handle(Deliver(actor=clerk()), at(date(2026, 3, 9)))
    seen += case.drain()

    assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
    assert case.state.last_seq == len(seen)
    assert case.drain() == []


# ---- R19 lights ------------------------------------------------------------------------------


def test_R19_case_light_is_green_then_yellow_then_red() -> None:
    """R19: AJ-WHPJY-001's 20 WD case clock (last day Monday 2026-03-30) is green at acceptance
    and with 5 WD left, yellow once 80 % is used (4 WD left) and with 1 WD left, and red once
    its period has passed."""
    case = accepted_case(WHPJY)
    for department in ("ZRZY", "XF", "GA"):
        case.handle(approve(department), MONDAY)

    def case_clock_at(now: datetime) -> tuple[Light, int | None]:
        case.advance_time(now)
        clock = status(case, now).case_clock
        assert clock is not None
        return clock.light, clock.remaining_wd

    assert case_clock_at(MONDAY) == (Light.GREEN, 20)
    assert case_clock_at(at(date(2026, 3, 23))) == (Light.GREEN, 5)
    assert case_clock_at(at(date(2026, 3, 24))) == (Light.YELLOW, 4)
    assert case_clock_at(at(date(2026, 3, 27))) == (Light.YELLOW, 1)
    light, _ = case_clock_at(midnight(date(2026, 3, 31)))
    assert light is Light.RED
    assert case.state.case_overdue
    assert "CasePeriodExpired" in types(case.outbox)


def test_R19_a_task_light_is_its_own() -> None:
    """R19: on Wednesday 2026-03-04 CGJ (3 WD) has 1 WD left and is yellow (by the 1 WD rule
    alone: only 2 of 3 WD used) while SCJG (5 WD) and the case are green."""
    case = accepted_case(SPJY)
    wednesday = at(date(2026, 3, 4))

    seen = status(case, wednesday)

    lights = {t.department: t.clock.light for t in seen.tasks if t.clock}
    assert lights == {"SCJG": Light.GREEN, "CGJ": Light.YELLOW}
    assert seen.case_clock is not None and seen.case_clock.light is Light.GREEN


def test_R19_lights_are_paused_while_the_clocks_are_stopped() -> None:
    """R19/R12: during the supplement the case's and the askers' clocks show paused."""
    case, _ = consolidated_ghxk()

    seen = status(case, at(date(2026, 3, 12)))

    assert seen.case_clock is not None and seen.case_clock.light is Light.PAUSED
    assert seen.case_clock.stopped
    lights = {t.department: t.clock.light for t in seen.tasks if t.clock}
    assert lights == {"ZJJ": Light.PAUSED, "RFB": Light.PAUSED}


# ---- bugs found ------------------------------------------------------------------------------


def test_R11_R12_an_asking_department_does_not_leave_next_due_in_the_past() -> None:
    """R11/R12: CGJ asks for a supplement on Tuesday while SCJG is still reviewing; when CGJ's
    own period (3 WD) would have ended, applying the deadlines leaves nothing due at or before
    that instant."""
    case = accepted_case(SPJY)
    case.handle(request("CGJ", item("PMT")), at(date(2026, 3, 3)))
    cgj_end = midnight(date(2026, 3, 6))

    case.advance_time(cgj_end)

    due = case.next_due()
    assert due is None or due > cgj_end


def test_R3_R8_a_deemed_acceptance_leaves_each_department_its_period() -> None:
    """R3/R8: SC-QYSL-001 is deemed accepted (as of receipt) at the end of the 2nd WD; its
    departments, dispatched only then, must still have their review periods."""
    case = received_case(QYSL)

    case.advance_time(midnight(date(2026, 3, 5)))

    assert "ReviewDeemedApproved" not in types(case.outbox)
    assert all(t.state is TaskState.PENDING for t in case.state.tasks.values())
    assert case.state.decision is None


def test_R3_R13_capped_review_periods_end_by_the_case_deadline() -> None:
    """R3, R13: under the capped rule a deemed acceptance (counted from receipt) dispatches
    tasks whose periods end no later than the case's deadline; under the old rule ZRZY's 8 WD
    from dispatch ran past it."""
    for capped in (False, True):
        case = received_case("JS-GHXK-001", review_periods_capped=capped)
        case.advance_time(midnight(date(2026, 3, 10)))  # the window stayed silent for 5 WD
        assert case.state.deemed_accepted
        case_due = case.state.case_clock.deadline.due  # type: ignore[union-attr]
        zrzy_due = case.state.tasks["ZRZY"].clock.deadline.due  # type: ignore[union-attr]
        assert (zrzy_due <= case_due) is capped
