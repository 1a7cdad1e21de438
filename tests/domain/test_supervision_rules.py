"""The supervisor's two powers over a running review, as pure rules: an excluded period that
stops every clock (art. 45, R12) and a joint review meeting whose absent departments are
deemed to agree (R10); and the auditor's check of both from the record."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from approval.auditing.timeline import timeline
from approval.domain.case import Case
from approval.domain.compliance import Verdict, check_case
from approval.domain.errors import InvalidInputError, PermissionDeniedError, StageError
from approval.domain.events import (
    CaseEvent,
    ClocksResumed,
    ExcludedPeriodOpened,
    JointMeetingRecorded,
    ReviewDeemedApprovedInAbsence,
    ReviewTaskCancelled,
    as_events,
)
from approval.domain.models import (
    CloseExcludedPeriod,
    ExcludedProcedure,
    OpenExcludedPeriod,
    RecordMeeting,
    Withdraw,
)
from approval.domain.notices import NoticeKind
from approval.domain.state import Stage, TaskState
from approval.domain.status import Light
from approval.routing import department_messages
from tests.domain_fixtures import (
    CALENDAR,
    GHXK,
    accepted_case,
    approve,
    at,
    clerk,
    departments_of,
    item,
    midnight,
    notices,
    of_type,
    request,
    snapshot,
    stage_of,
    status,
    supervisor,
    types,
)

WEDNESDAY = at(date(2026, 3, 4), 10)
"""Two days after the Monday acceptance: the case has 8 WD left, each 5 WD task 3 WD."""
RESUMED = at(date(2026, 3, 23))
"""Monday, 13 working days later: the expert review is over."""


def expert_review(expected_wd: int = 10) -> OpenExcludedPeriod:
    """The supervisor sends the plans to an expert review (专家评审)."""
    return OpenExcludedPeriod(
        actor=supervisor(),
        procedure=ExcludedProcedure.EXPERT_REVIEW,
        reason="建设方案涉及重大安全事项",
        expected_wd=expected_wd,
    )


def review_over() -> CloseExcludedPeriod:
    """The supervisor records the experts' conclusion."""
    return CloseExcludedPeriod(actor=supervisor(), result="专家评审意见：方案可行")


def meeting(present: tuple[str, ...], absent: tuple[str, ...]) -> RecordMeeting:
    """A joint review meeting with its attendance, recorded by the supervisor."""
    return RecordMeeting(
        actor=supervisor(), present=present, absent=absent, minutes="联合审查会议纪要"
    )


def in_expert_review() -> Case:
    """JS-GHXK-001 accepted on Monday 2026-03-02; on Wednesday 10:00 the expert review opens."""
    case = accepted_case(GHXK)
    case.handle(expert_review(), WEDNESDAY)
    return case


def recorded_verdicts(events: list[CaseEvent]) -> dict[str, Verdict]:
    """The auditor's verdicts on the whole record."""
    return {r.rule: r.verdict for r in check_case(as_events(events), CALENDAR)}


# ---- R12 excluded periods (art. 45) ------------------------------------------------------------


def test_R12_an_excluded_period_stops_every_clock_and_tells_the_applicant_its_length() -> None:
    """R12: opening an expert review stops the case's and every task's clock and issues a
    written notice naming the procedure and its expected length (10 WD → 2026-03-18)."""
    case = in_expert_review()
    events = case.drain()
    opened = of_type(events, ExcludedPeriodOpened)[0]

    assert types(events)[-3:] == ["ExcludedPeriodOpened", "ClocksStopped", "NoticeIssued"]
    assert opened.expected_last_day == date(2026, 3, 18)
    (notice,) = notices(events, NoticeKind.EXCLUDED_PERIOD_NOTICE)
    assert notice.procedure is ExcludedProcedure.EXPERT_REVIEW and notice.expected_wd == 10
    assert notice.due == date(2026, 3, 18)
    assert stage_of(case) is Stage.EXCLUDED_PERIOD
    seen = status(case, WEDNESDAY)
    assert seen.excluded_period is not None
    assert seen.case_clock is not None and seen.case_clock.light is Light.PAUSED
    assert all(t.clock and t.clock.stopped for t in seen.tasks)


def test_R12_no_deadline_fires_during_an_excluded_period() -> None:
    """R12: with every clock stopped there is no deadline to wait for; passing every original
    deadline fires nothing and nobody is deemed to agree."""
    case = in_expert_review()
    case.drain()

    assert case.next_due() is None
    case.advance_time(midnight(date(2026, 4, 30)))
    assert case.drain() == []
    assert all(t.state is TaskState.PENDING for t in case.state.tasks.values())


def test_R12_after_the_excluded_period_every_clock_resumes_with_the_days_it_had_left() -> None:
    """R12: closing the expert review on 2026-03-23 resumes the case with its 8 WD (last day
    2026-04-02) and each 5 WD task with its 3 WD (2026-03-26), as the record states."""
    case = in_expert_review()
    case.drain()
    case.handle(review_over(), RESUMED)
    events = case.drain()
    seen = status(case, RESUMED)

    assert types(events) == ["ExcludedPeriodClosed", "ClocksResumed"]
    assert stage_of(case) is Stage.IN_REVIEW and seen.excluded_period is None
    assert seen.case_clock is not None and seen.case_clock.last_day == date(2026, 4, 2)
    dues = {t.department: t.clock.last_day for t in seen.tasks if t.clock}
    assert dues["ZJJ"] == dues["RFB"] == dues["CGJ"] == date(2026, 3, 26)
    resumed = events[-1]
    assert isinstance(resumed, ClocksResumed)
    assert resumed.after == "excluded_period"
    assert set(resumed.task_dues) == {"ZRZY", "ZJJ", "RFB", "CGJ"}


def test_R11_R12_a_department_that_asked_stays_stopped_after_the_excluded_period() -> None:
    """R11/R12: ZJJ asked for a material before the expert review; closing the review resumes
    the others but ZJJ's period waits for the supplement, with the days it had left."""
    case = accepted_case(GHXK)
    case.handle(request("ZJJ", item("SJFA")), WEDNESDAY)
    case.handle(expert_review(), WEDNESDAY)
    case.handle(review_over(), RESUMED)
    zjj = next(t for t in status(case, RESUMED).tasks if t.department == "ZJJ")

    assert zjj.state is TaskState.SUPPLEMENT_REQUESTED
    assert zjj.clock is not None and zjj.clock.stopped and zjj.clock.remaining_wd == 3
    resumed = case.drain()[-1]
    assert isinstance(resumed, ClocksResumed)
    assert "ZJJ" not in resumed.task_dues


def test_R8_R12_no_department_decides_while_the_excluded_period_runs() -> None:
    """R8/R12: the expert review informs the decision: a department's opinion waits until it is
    over, and the refusal changes nothing."""
    case = in_expert_review()
    before = snapshot(case)

    with pytest.raises(StageError):
        case.handle(approve("ZJJ"), WEDNESDAY)
    assert snapshot(case) == before


def test_R12_R22_only_a_supervisor_opens_or_closes_an_excluded_period() -> None:
    """R12/R22: a clerk may neither open nor close an excluded period; a second one cannot be
    opened while one runs, nor one closed when none is open."""
    case = accepted_case(GHXK)
    with pytest.raises(PermissionDeniedError):
        case.check(expert_review().model_copy(update={"actor": clerk()}))
    with pytest.raises(StageError):
        case.check(review_over())
    case.handle(expert_review(), WEDNESDAY)
    with pytest.raises(StageError):
        case.check(expert_review())
    with pytest.raises(PermissionDeniedError):
        case.check(review_over().model_copy(update={"actor": clerk()}))


def test_R18_a_withdrawal_during_the_excluded_period_closes_the_case() -> None:
    """R18: the applicant may withdraw during the expert review; the open tasks are cancelled
    and the period goes with the case."""
    case = in_expert_review()
    case.handle(Withdraw(actor=clerk()), RESUMED)

    assert stage_of(case) is Stage.WITHDRAWN
    assert case.state.excluded_period is None
    assert len(departments_of(case.drain(), ReviewTaskCancelled)) == 4


def test_R12_R13_the_auditor_finds_the_excluded_period_in_order() -> None:
    """R12/R13/R9: the record of an expert review, resumed and decided by silent consent at
    the resumed deadlines, passes the auditor's check, the notice's length included."""
    case = in_expert_review()
    case.handle(review_over(), RESUMED)
    case.handle(approve("ZRZY"), RESUMED)
    case.advance_time(midnight(date(2026, 3, 27)))  # the resumed 3 WD of ZJJ, RFB, CGJ end

    verdicts = recorded_verdicts(case.drain())
    assert stage_of(case) is Stage.AWAITING_DELIVERY
    assert verdicts["R12"] is Verdict.PASS
    assert verdicts["R9"] is Verdict.PASS
    assert verdicts["R13"] is Verdict.PASS
    assert verdicts["R14"] is Verdict.PASS


def test_R12_a_record_without_the_excluded_period_notice_fails() -> None:
    """R12: with the written notice of the expert review taken out of the record, the check
    fails: the applicant was not told the expected length."""
    case = in_expert_review()
    events = [e for e in case.drain() if e.type != "NoticeIssued" or e.seq < 10]
    results = {r.rule: r for r in check_case(as_events(events), CALENDAR)}

    assert results["R12"].verdict is Verdict.FAIL
    assert any("专家评审的预计所需时间" in line for line in results["R12"].evidence)


# ---- R10 joint review meetings ------------------------------------------------------------------


def test_R10_absent_departments_with_open_tasks_are_deemed_to_agree() -> None:
    """R10: at a meeting ZRZY (decided) and ZJJ attend, RFB and CGJ are absent: RFB and CGJ are
    deemed to agree, citing the meeting, not overdue; ZJJ's task stays open."""
    case = accepted_case(GHXK)
    case.handle(approve("ZRZY"), WEDNESDAY)
    case.drain()
    case.handle(meeting(("ZRZY", "ZJJ"), ("RFB", "CGJ")), WEDNESDAY)
    events = case.drain()
    held = of_type(events, JointMeetingRecorded)[0]
    tasks = case.state.tasks

    assert departments_of(events, ReviewDeemedApprovedInAbsence) == ["RFB", "CGJ"]
    assert all(
        e.meeting_seq == held.seq and e.actor.id == "engine"
        for e in of_type(events, ReviewDeemedApprovedInAbsence)
    )
    assert tasks["RFB"].state is TaskState.DEEMED_APPROVED and tasks["RFB"].absent_at_meeting
    assert not tasks["RFB"].overdue
    assert tasks["ZJJ"].state is TaskState.PENDING
    assert tasks["ZRZY"].state is TaskState.APPROVED


def test_R10_R14_the_decision_names_the_absent_departments_apart() -> None:
    """R10/R14: when ZJJ approves after the meeting the case is approved; the decision lists
    RFB and CGJ as deemed by absence, not by silent consent, and the auditor finds it right."""
    case = accepted_case(GHXK)
    case.handle(meeting(("ZRZY", "ZJJ"), ("RFB", "CGJ")), WEDNESDAY)
    case.handle(approve("ZRZY"), WEDNESDAY)
    case.handle(approve("ZJJ"), WEDNESDAY)
    events = case.drain()
    decision = case.state.decision

    assert decision is not None and decision.approved
    assert decision.absent_departments == ("RFB", "CGJ")
    assert decision.deemed_departments == ()
    (written,) = notices(events, NoticeKind.APPROVAL_DECISION)
    assert len(written.absent_departments) == 2
    verdicts = recorded_verdicts(events)
    assert verdicts["R10"] is Verdict.PASS
    assert verdicts["R14"] is Verdict.PASS
    assert verdicts["R9"] is Verdict.PASS


def test_R10_the_absent_departments_systems_are_told_their_task_closed() -> None:
    """R10: each absent department's system gets a message closing its task, with the reason."""
    case = accepted_case(GHXK)
    case.drain()
    case.handle(meeting(("ZRZY", "ZJJ"), ("RFB", "CGJ")), WEDNESDAY)
    messages = department_messages(case.state, case.drain())

    assert [(m.department, m.kind.value) for m in messages] == [
        ("RFB", "cancel"),
        ("CGJ", "cancel"),
    ]
    assert all(m.reason and "缺席" in m.reason for m in messages)


def test_R10_a_record_hiding_an_absent_departments_consent_fails() -> None:
    """R10: with RFB's deemed consent taken out of the record, the auditor's check fails,
    naming RFB as absent with its review open."""
    case = accepted_case(GHXK)
    case.handle(meeting(("ZRZY", "ZJJ", "CGJ"), ("RFB",)), WEDNESDAY)
    events = [e for e in case.drain() if e.type != "ReviewDeemedApprovedInAbsence"]
    results = {r.rule: r for r in check_case(as_events(events), CALENDAR)}

    assert results["R10"].verdict is Verdict.FAIL
    assert any("RFB 缺席时审查仍在进行" in line for line in results["R10"].evidence)


def test_R10_the_attendance_names_only_departments_of_the_case() -> None:
    """R10: a department that does not review the case is refused naming the field; a
    department named twice is refused by the command itself."""
    case = accepted_case(GHXK)
    with pytest.raises(InvalidInputError) as refused:
        case.check(meeting(("ZRZY",), ("SCJG",)))
    assert refused.value.field == "absent"
    with pytest.raises(ValidationError, match="absent"):
        meeting(("ZRZY",), ("ZRZY",))
    with pytest.raises(ValidationError, match="present"):
        meeting((), ())


def test_R10_R22_only_a_supervisor_records_a_meeting_and_only_during_review() -> None:
    """R10/R22: a clerk cannot record a meeting; nor can anyone during an excluded period."""
    case = accepted_case(GHXK)
    with pytest.raises(PermissionDeniedError):
        case.check(meeting(("ZRZY",), ("RFB",)).model_copy(update={"actor": clerk()}))
    case.handle(expert_review(), WEDNESDAY)
    with pytest.raises(StageError):
        case.check(meeting(("ZRZY",), ("RFB",)))


def test_R10_R12_the_timeline_tells_the_excluded_period_and_the_meeting_in_chinese() -> None:
    """R10/R12: the auditor's timeline names the procedure, its expected length and end, the
    meeting's attendance and each department deemed by absence."""
    case = in_expert_review()
    case.handle(review_over(), RESUMED)
    case.handle(meeting(("ZRZY", "ZJJ"), ("RFB", "CGJ")), RESUMED)
    lines = [entry.line() for entry in timeline(case.drain())]

    assert any("专家评审" in line and "预计 10 个工作日" in line for line in lines)
    assert any("专家评审期间" in line and "计时全部暂停" in line for line in lines)
    assert any("特别程序结束" in line for line in lines)
    assert any("缺席：RFB、CGJ" in line for line in lines)
    assert sum("缺席联合审查会议" in line for line in lines) == 2
