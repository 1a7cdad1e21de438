"""The compliance check (approval.domain.compliance) on records made by the pure domain.

Each realistic path is driven through ``Case`` and its whole record checked: every rule that
applies passes. Then the record is tampered with the way a careless or dishonest edit would
(an event removed, added, moved or emptied) and the specific rule fails, citing the seq of the
event at fault. Dates are 2026 in Asia/Shanghai (see tests/domain_fixtures.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from approval.domain.case import Case
from approval.domain.compliance import RULE_TITLES, RuleResult, Verdict, check_case, cited
from approval.domain.events import (
    CASE_EVENT,
    EVENT_CLASSES,
    ApplicationNotAccepted,
    ApplicationReceived,
    CaseApproved,
    CaseEvent,
    CaseEventBase,
    CaseExtended,
    CaseRejected,
    ClocksResumed,
    ConsolidatedNoticeIssued,
    DeliveryOverdue,
    NoticeIssued,
    OneTimeNoticeIssued,
    ResultDelivered,
    ReviewApproved,
    ReviewDeemedApproved,
    ReviewEscalated,
    ReviewRejected,
    ReviewTaskCancelled,
    ReviewTaskDispatched,
    SupplementForwarded,
    SupplementReceived,
    as_events,
)
from approval.domain.models import Accept, Deliver, Extend, IssueNotice, Supplement, Withdraw
from tests.domain_fixtures import (
    CALENDAR,
    GHXK,
    MONDAY,
    SPJY,
    WHPJY,
    accepted_case,
    approve,
    at,
    clerk,
    item,
    material,
    midnight,
    received_case,
    reject,
    request,
    supervisor,
)

PASS, FAIL, NA = Verdict.PASS, Verdict.FAIL, Verdict.NOT_APPLICABLE
WEDNESDAY = at(date(2026, 3, 4), 10)
E = TypeVar("E", bound=CaseEventBase)
EVENT_CLASS = {c.kind(): c for c in EVENT_CLASSES}


# ---- paths through the domain ----------------------------------------------------------------


def record_of(case: Case) -> list[CaseEvent]:
    """Every event the case recorded so far (its outbox from seq 1), in seq order."""
    return as_events(case.drain())


def supplement(*codes: str) -> Supplement:
    """The applicant's supplement of ``codes``, recorded at the window."""
    return Supplement(actor=clerk(), materials=tuple(material(c) for c in codes))


def approved_path() -> list[CaseEvent]:
    """JS-GHXK-001 accepted at receipt on Monday 2026-03-02, all four departments approve on
    Wednesday, the certificate is delivered on Thursday."""
    case = accepted_case(GHXK)
    for department in ("ZRZY", "ZJJ", "RFB", "CGJ"):
        case.handle(approve(department), WEDNESDAY)
    case.handle(Deliver(actor=clerk()), at(date(2026, 3, 5)))
    return record_of(case)


def deemed_path() -> list[CaseEvent]:
    """SC-SPJY-001: SCJG approves on Monday, CGJ (3 WD) stays silent and is deemed approved when
    its period ends (2026-03-06 00:00); delivered on 2026-03-09."""
    case = accepted_case(SPJY)
    case.handle(approve("SCJG"), MONDAY)
    case.advance_time(midnight(date(2026, 3, 6)))
    case.handle(Deliver(actor=clerk()), at(date(2026, 3, 9)))
    return record_of(case)


def consolidated_path() -> list[CaseEvent]:
    """JS-GHXK-001: on Wednesday ZJJ asks for SJFA, RFB for SJFA and RFSJ, ZRZY and CGJ approve:
    one consolidated notice, every clock stops; the supplement comes on 2026-03-23 and the clocks
    resume (ZJJ and RFB with 3 WD left → last day 2026-03-26); ZJJ approves, RFB stays silent and
    is deemed approved at 2026-03-27 00:00; delivered on 2026-04-10."""
    case = accepted_case(GHXK)
    case.handle(request("ZJJ", item("SJFA", "总平面图比例不符")), WEDNESDAY)
    case.handle(
        request("RFB", item("SJFA", "缺人防区域标注"), item("RFSJ", "防护等级未注明")), WEDNESDAY
    )
    case.handle(approve("ZRZY"), WEDNESDAY)
    case.handle(approve("CGJ"), WEDNESDAY)
    case.handle(supplement("SJFA", "RFSJ"), at(date(2026, 3, 23)))
    case.handle(approve("ZJJ"), at(date(2026, 3, 24)))
    case.advance_time(midnight(date(2026, 3, 27)))
    case.handle(Deliver(actor=clerk()), at(date(2026, 4, 10)))
    return record_of(case)


def extension_path() -> list[CaseEvent]:
    """JS-GHXK-001 extended once on Thursday 2026-03-05 by 15 WD (last day 2026-03-16 → 04-07);
    every department approves on 2026-03-20, after the original last day."""
    case = accepted_case(GHXK)
    case.handle(Extend(actor=supervisor(), reason="需现场踏勘"), at(date(2026, 3, 5)))
    for department in ("ZRZY", "ZJJ", "RFB", "CGJ"):
        case.handle(approve(department), at(date(2026, 3, 20)))
    case.handle(Deliver(actor=clerk()), at(date(2026, 3, 23)))
    return record_of(case)


def rejection_path() -> list[CaseEvent]:
    """JS-GHXK-001: ZJJ and RFB reject with reasons, ZRZY and CGJ approve: the case is rejected
    and the written decision is delivered."""
    case = accepted_case(GHXK)
    case.handle(reject("ZJJ", "不符合建筑间距要求"), MONDAY)
    case.handle(reject("RFB", "未按规定配建人防工程"), MONDAY)
    case.handle(approve("ZRZY"), MONDAY)
    case.handle(approve("CGJ"), at(date(2026, 3, 3)))
    case.handle(Deliver(actor=clerk()), at(date(2026, 3, 4)))
    return record_of(case)


def delivery_overdue_path() -> list[CaseEvent]:
    """SC-SPJY-001 approved on Monday 2026-03-02; the delivery period (10 WD, last day 03-16)
    passes and is recorded overdue; the certificate is delivered on 2026-03-20."""
    case = accepted_case(SPJY)
    case.handle(approve("SCJG"), MONDAY)
    case.handle(approve("CGJ"), MONDAY)
    case.advance_time(midnight(date(2026, 3, 17)))
    case.handle(Deliver(actor=clerk()), at(date(2026, 3, 20)))
    return record_of(case)


def escalated_path(decided: datetime) -> list[CaseEvent]:
    """AJ-WHPJY-001 (silent consent excluded): ZRZY, XF and GA approve on Monday; YJJ (15 WD)
    is escalated at 2026-03-24 00:00 and approves at ``decided``."""
    case = accepted_case(WHPJY)
    for department in ("ZRZY", "XF", "GA"):
        case.handle(approve(department), MONDAY)
    case.advance_time(midnight(date(2026, 3, 24)))
    case.advance_time(decided)
    case.handle(approve("YJJ"), decided)
    return record_of(case)


def intake_notice_path() -> list[CaseEvent]:
    """JS-GHXK-001 received without RFSJ; the one-time notice names it on Tuesday, the applicant
    supplements on Wednesday and the clerk accepts on Thursday."""
    case = received_case(GHXK, materials=["SQB", "XMPZ", "SJFA"])
    case.handle(IssueNotice(actor=clerk()), at(date(2026, 3, 3)))
    case.handle(supplement("RFSJ"), at(date(2026, 3, 4)))
    case.handle(Accept(actor=clerk()), at(date(2026, 3, 5)))
    return record_of(case)


def deemed_acceptance_path() -> list[CaseEvent]:
    """JS-GHXK-001 received complete; the window stays silent for 5 WD and the case is deemed
    accepted at 2026-03-10 00:00 as of the receipt."""
    case = received_case(GHXK)
    case.advance_time(midnight(date(2026, 3, 10)))
    return record_of(case)


# ---- reading results and tampering ----------------------------------------------------------


def check(events: list[CaseEvent]) -> dict[str, RuleResult]:
    """The results of the check by rule id."""
    return {r.rule: r for r in check_case(events, CALENDAR)}


def verdicts(events: list[CaseEvent]) -> dict[str, Verdict]:
    """The verdict of every rule."""
    return {rule: r.verdict for rule, r in check(events).items()}


def violations(events: list[CaseEvent], rule: str) -> list[str]:
    """The evidence lines of ``rule`` that report a violation."""
    return [line for line in check(events)[rule].evidence if line.startswith("✗")]


def first(events: list[CaseEvent], kind: type[E], **fields: Any) -> E:
    """The first event of ``kind`` whose fields have the given values."""
    return next(
        e
        for e in events
        if isinstance(e, kind) and all(getattr(e, k) == v for k, v in fields.items())
    )


def changed(event: CaseEventBase, **update: Any) -> CaseEvent:
    """``event`` with ``update`` applied, validated again as the event its ``type`` then names
    (a retyped event keeps only the fields its new type has)."""
    fields = {**event.model_dump(), **update}
    kind = EVENT_CLASS[fields["type"]]
    return CASE_EVENT.validate_python({k: v for k, v in fields.items() if k in kind.model_fields})


def renumber(events: list[CaseEvent]) -> list[CaseEvent]:
    """The events numbered 1..n in list order, as if the record had been written so."""
    return [e.model_copy(update={"seq": n}) for n, e in enumerate(events, start=1)]


def without(events: list[CaseEvent], drop: CaseEventBase) -> list[CaseEvent]:
    """The record with one event removed (the others keep their seq)."""
    return [e for e in events if e.seq != drop.seq]


def edited(events: list[CaseEvent], target: CaseEventBase, **update: Any) -> list[CaseEvent]:
    """The record with ``target``'s fields changed by ``update`` (validated again)."""
    return [changed(e, **update) if e.seq == target.seq else e for e in events]


def added_after(
    events: list[CaseEvent], target: CaseEvent, extra: CaseEvent
) -> tuple[list[CaseEvent], CaseEvent]:
    """The record with ``extra`` written right after ``target`` and renumbered, and ``extra``
    as numbered there."""
    place = events.index(target) + 1
    record = renumber([*events[:place], extra, *events[place:]])
    return record, record[place]


@dataclass
class Row:
    """An event as the store keeps it: its columns and JSON payload (approval.store.schema)."""

    seq: int
    type: str
    occurred_at: datetime
    actor_role: str
    actor_id: str
    actor_department: str | None
    payload: dict[str, Any]


def row_of(event: CaseEventBase) -> Row:
    """The store row of ``event``."""
    actor = event.actor
    return Row(
        seq=event.seq,
        type=event.type,
        occurred_at=event.at,
        actor_role=actor.role.value,
        actor_id=actor.id,
        actor_department=actor.department,
        payload=event.payload(),
    )


def cites(lines: list[str], event: CaseEventBase) -> bool:
    """Whether some evidence line cites ``event`` by its seq."""
    return any(f"第 {event.seq} 号事件" in line for line in lines)


# ---- every path passes ---------------------------------------------------------------------


def test_R3_R9_R13_R14_R16_R21_an_approved_case_passes_every_rule_that_applies() -> None:
    """R3, R9, R13, R14, R16, R21: a case accepted at once, approved by every department and
    delivered passes, its record consistent with itself; R11 and R12 do not apply (no
    supplement was asked for)."""
    results = check(approved_path())

    assert {rule: r.verdict for rule, r in results.items()} == {
        "R3": PASS,
        "R9": PASS,
        "R10": NA,
        "R11": NA,
        "R12": NA,
        "R13": PASS,
        "R14": PASS,
        "R16": PASS,
        "R21": PASS,
    }
    assert list(results) == list(RULE_TITLES)
    assert all(r.title_zh and r.title_en for r in results.values())
    assert any("第 2 号事件（受理，2026-03-02 09:00）" in line for line in results["R3"].evidence)


def test_R11_R12_R21_evidence_names_events_in_chinese_and_their_seqs_read_back() -> None:
    """R11, R12, R21: an evidence line cites an event as 第 N 号事件 with its Chinese name and
    its Shanghai time, never its class name; ``cited`` reads back the seq of every event the
    lines cite, in order, once each (the API's ``events`` of a rule)."""
    events = consolidated_path()
    results = check(events)
    lines = [line for r in results.values() for line in r.evidence]
    stop = first(events, ClocksResumed)

    assert not any(e.type in line for e in events for line in lines)
    assert any(f"第 {stop.seq} 号事件（计时恢复，" in line for line in results["R12"].evidence)
    r12 = cited(results["R12"].evidence)
    assert stop.seq in r12 and len(r12) == len(set(r12))
    assert cited(["✓ 第 12 号事件（计时暂停）至第 18 号事件（计时恢复）", "· 第 12 号事件"]) == [
        12,
        18,
    ]


def test_R9_R14_a_deemed_approval_passes() -> None:
    """R9, R14: CGJ's silence ends in a deemed approval recorded overdue by the engine at the end
    of its period; the decision lists CGJ as deemed."""
    events = deemed_path()
    results = check(events)
    deemed = first(events, ReviewDeemedApproved)

    assert results["R9"].verdict is PASS
    assert results["R14"].verdict is PASS
    assert cites(results["R9"].evidence, deemed)
    assert any("最后一日 2026-03-05" in line for line in results["R9"].evidence)
    assert any("超时默认同意的部门（CGJ）与记录一致" in line for line in results["R14"].evidence)


def test_R9_R13_an_escalated_review_passes_R9() -> None:
    """R9: without silent consent YJJ's unanswered task is escalated (not deemed approved) at the
    end of its 15 WD; its late answer on 2026-03-25 is within the committed 20 WD (R13)."""
    events = escalated_path(at(date(2026, 3, 25)))

    assert verdicts(events)["R9"] is PASS
    assert verdicts(events)["R13"] is PASS
    assert any("上报效能监察督办" in line for line in check(events)["R9"].evidence)


def test_R11_R12_a_consolidated_supplement_with_a_clock_stop_passes() -> None:
    """R11, R12: one consolidated notice for ZJJ and RFB; nothing fires during the stop; the case
    and both tasks resume with the WD they had left (case 8 WD → 2026-04-02, tasks 3 WD →
    2026-03-26); RFB's deemed approval comes at the end of its resumed period."""
    events = consolidated_path()
    results = check(events)

    assert {rule: r.verdict for rule, r in results.items()} == {
        **dict.fromkeys(RULE_TITLES, PASS),
        "R10": NA,
    }
    r12 = results["R12"].evidence
    assert any(
        line.startswith("✓ 承诺办结期限：") and "剩余 8 个工作日" in line and "2026-04-02" in line
        for line in r12
    )
    assert any(
        line.startswith("✓ RFB：") and "剩余 3 个工作日" in line and "2026-03-26" in line
        for line in r12
    )
    assert any("用时 6 个工作日" in line for line in results["R13"].evidence)


def test_R13_an_extension_once_by_extension_wd_passes() -> None:
    """R13: extended once by 15 WD with a reason sent to the applicant (notice due 2026-04-07);
    the decision on 2026-03-20 is after the original last day but within the extension."""
    results = check(extension_path())

    assert results["R13"].verdict is PASS
    assert any(
        "延期一次，延长 15 个工作日 → 最后一日 2026-04-07" in line
        for line in results["R13"].evidence
    )


def test_R14_a_rejection_with_every_reason_and_the_remedies_passes() -> None:
    """R14: the rejection names ZJJ and RFB with their reasons, in the written decision too, and
    the decision states the right to 行政复议 and 行政诉讼; R16 does not apply to a rejection."""
    results = check(rejection_path())

    assert results["R14"].verdict is PASS
    assert any("行政复议" in line for line in results["R14"].evidence)
    assert results["R16"].verdict is NA


def test_R16_a_late_delivery_recorded_overdue_passes() -> None:
    """R16: the delivery after the last day 2026-03-16 passes because DeliveryOverdue was
    recorded when the period ended."""
    events = delivery_overdue_path()
    results = check(events)

    assert results["R16"].verdict is PASS
    assert cites(results["R16"].evidence, first(events, DeliveryOverdue))


def test_R3_a_notice_supplement_and_acceptance_within_the_windows_pass() -> None:
    """R3: the notice (Tuesday) lists the missing RFSJ within 5 WD of receipt; the acceptance
    (Thursday) is within 5 WD of the supplement that reopened the check."""
    events = intake_notice_path()
    r3 = check(events)["R3"]

    assert r3.verdict is PASS
    assert cites(r3.evidence, first(events, SupplementReceived))
    assert any("列明了全部缺少的材料 RFSJ" in line for line in r3.evidence)


def test_R3_a_silent_window_ends_in_a_deemed_acceptance_as_of_receipt() -> None:
    """R3: the window silent for 5 WD (last day 2026-03-09), the deemed acceptance as of the
    receipt passes."""
    events = deemed_acceptance_path()
    r3 = check(events)["R3"]

    assert r3.verdict is PASS
    assert any("视为自 2026-03-02 09:00" in line for line in r3.evidence)


def test_store_rows_adapt_to_recorded_events() -> None:
    """A store row (attributes seq, type, occurred_at, actor_*, payload) is read as an event."""
    received = first(approved_path(), ApplicationReceived)

    (event,) = as_events([row_of(received)])

    assert isinstance(event, ApplicationReceived)
    assert (event.seq, event.at, event.actor.id) == (1, MONDAY, "clerk-01")
    assert event == received


# ---- tampering: each rule fails, citing the event -------------------------------------------


def test_R3_a_notice_after_the_window_fails() -> None:
    """R3: the one-time notice moved to 2026-03-10, after the window's last day 2026-03-09,
    fails and cites the notice."""
    events = intake_notice_path()
    notice = first(events, OneTimeNoticeIssued)
    late = [
        e.model_copy(update={"at": at(date(2026, 3, 10))}) if e.seq == notice.seq else e
        for e in events
    ]

    lines = violations(late, "R3")

    assert verdicts(late)["R3"] is FAIL
    assert cites(lines, notice)
    assert any("最后一日 2026-03-09" in line for line in lines)


def test_R3_a_second_notice_naming_a_new_item_fails() -> None:
    """R3: a second one-time notice that names SQB, not in the first notice, fails."""
    events = intake_notice_path()
    notice = first(events, OneTimeNoticeIssued)
    second = changed(notice, seq=99, items=[{"code": "SQB", "reason": "未签章"}])

    lines = violations([*events, second], "R3")

    assert any("第 99 号事件" in line and "SQB" in line for line in lines)


def test_R9_a_removed_deemed_approval_fails() -> None:
    """R9: without the ReviewDeemedApproved, CGJ's period ended unanswered and the record goes
    on to the decision: the check cites CGJ's dispatch and fails."""
    events = deemed_path()
    tampered = without(events, first(events, ReviewDeemedApproved))

    lines = violations(tampered, "R9")

    assert verdicts(tampered)["R9"] is FAIL
    assert cites(lines, first(events, ReviewTaskDispatched, department="CGJ"))
    assert any("届满未答复" in line for line in lines)


def test_R9_a_deemed_approval_shown_as_a_plain_approval_fails() -> None:
    """R9: the deemed approval rewritten as a ReviewApproved by the engine fails, citing it."""
    events = deemed_path()
    deemed = first(events, ReviewDeemedApproved)
    plain = [changed(e, type="ReviewApproved") if e == deemed else e for e in events]

    lines = violations(plain, "R9")

    assert cites(lines, deemed)
    assert any("由系统记录" in line and "「超时默认同意」" in line for line in lines)


def test_R9_a_deemed_approval_where_silent_consent_is_excluded_fails() -> None:
    """R9: on a matter that excludes silent consent, an escalation rewritten as a deemed
    approval fails: it should have been escalated."""
    events = escalated_path(at(date(2026, 3, 25)))
    escalation = first(events, ReviewEscalated)
    tampered = [changed(e, type="ReviewDeemedApproved") if e == escalation else e for e in events]

    lines = violations(tampered, "R9")

    assert cites(lines, escalation)
    assert any("应记为「超期上报督办」" in line for line in lines)


def test_R11_a_new_item_after_the_consolidated_notice_fails() -> None:
    """R11: a request after the consolidated notice for XMPZ, not in that notice, fails."""
    events = consolidated_path()
    approval = first(events, ReviewApproved, department="ZJJ")
    new_request = changed(
        approval,
        type="ReviewSupplementRequested",
        department="ZJJ",
        items=[{"code": "XMPZ", "reason": "过期"}],
    )
    tampered = [new_request if e == approval else e for e in events]

    lines = violations(tampered, "R11")

    assert cites(lines, approval)
    assert any("XMPZ" in line and "不在首次告知之内" in line for line in lines)


def test_R11_a_second_consolidated_notice_in_the_same_round_fails() -> None:
    """R11: a second consolidated notice before the supplement (same round) fails."""
    events = consolidated_path()
    notice = first(events, ConsolidatedNoticeIssued)
    index = events.index(notice)
    tampered = renumber([*events[: index + 2], notice, *events[index + 2 :]])
    second = [e for e in tampered if isinstance(e, ConsolidatedNoticeIssued)][1]

    lines = violations(tampered, "R11")

    assert cites(lines, second)
    assert any("第二次合并告知" in line for line in lines)


def test_R12_a_deemed_approval_moved_inside_the_clock_stop_fails() -> None:
    """R12: RFB's deemed approval moved between ClocksStopped and ClocksResumed (dated
    2026-03-10) fails, citing it."""
    events = consolidated_path()
    deemed = first(events, ReviewDeemedApproved)
    resumed = first(events, ClocksResumed)
    moved = deemed.model_copy(update={"at": midnight(date(2026, 3, 10))})
    rest = [e for e in events if e != deemed]
    index = rest.index(resumed)
    tampered = renumber([*rest[:index], moved, *rest[index:]])
    moved_seq = first(tampered, ReviewDeemedApproved)

    lines = violations(tampered, "R12")

    assert verdicts(tampered)["R12"] is FAIL
    assert cites(lines, moved_seq)
    assert any("停止计时期间触发了期限" in line for line in lines)


def test_R12_a_task_resumed_with_fewer_days_fails() -> None:
    """R12: RFB had 3 WD left at its request; a deemed approval at 2026-03-26 00:00, one WD
    early, shows that its period resumed with fewer days: the check fails, citing it."""
    events = consolidated_path()
    deemed = first(events, ReviewDeemedApproved)
    early = [
        e.model_copy(update={"at": midnight(date(2026, 3, 26))}) if e == deemed else e
        for e in events
    ]

    lines = violations(early, "R12")

    assert cites(lines, deemed)
    assert any("剩余工作日少于停止计时时" in line and "2026-03-26" in line for line in lines)


def test_R12_a_resumed_due_stated_in_the_record_is_compared() -> None:
    """R12: where SupplementForwarded states the resumed task's due, it must be the end of the
    WD the task had left: RFB's 3 WD from 2026-03-23 end at 2026-03-27 00:00, not a day
    earlier."""
    events = consolidated_path()
    forwarded = first(events, SupplementForwarded, department="RFB")
    right = edited(events, forwarded, due=midnight(date(2026, 3, 27)))
    wrong = edited(events, forwarded, due=midnight(date(2026, 3, 26)))

    assert verdicts(right)["R12"] is PASS
    lines = violations(wrong, "R12")
    assert any(
        line.startswith("✗ RFB：") and "剩余 3 个工作日" in line and "2026-03-26 00:00" in line
        for line in lines
    )


def test_R13_a_second_extension_fails() -> None:
    """R13: a second CaseExtended added to the record fails, citing it."""
    events = extension_path()
    extension = first(events, CaseExtended)
    index = events.index(extension)
    again = extension.model_copy(update={"at": extension.at + timedelta(days=1)})
    tampered = renumber([*events[: index + 2], again, *events[index + 2 :]])
    second = [e for e in tampered if isinstance(e, CaseExtended)][1]

    lines = violations(tampered, "R13")

    assert verdicts(tampered)["R13"] is FAIL
    assert cites(lines, second)
    assert any("第二次延期" in line for line in lines)


def test_R13_an_extension_by_the_wrong_number_of_days_fails() -> None:
    """R13: an extension recorded as 20 WD on a joint matter (15 WD) fails."""
    events = extension_path()
    extension = first(events, CaseExtended)
    tampered = edited(events, extension, extra_wd=20)

    lines = violations(tampered, "R13")

    assert cites(lines, extension)
    assert any("而不是 15 个工作日" in line for line in lines)


def test_R13_a_decision_after_the_committed_period_fails() -> None:
    """R13: YJJ, escalated, answers on 2026-04-01, after the committed last day 2026-03-30:
    the case was decided late (its expiry was recorded)."""
    events = escalated_path(at(date(2026, 4, 1)))
    decision = first(events, CaseApproved)

    lines = violations(events, "R13")

    assert cites(lines, decision)
    assert any("在最后一日 2026-03-30 之后作出决定（已记录超期）" in line for line in lines)


def test_R14_a_rejecting_department_dropped_from_the_decision_fails() -> None:
    """R14: RFB's reasons removed from the CaseRejected record and from the written decision
    fail, citing RFB's ReviewRejected."""
    events = rejection_path()
    decision = first(events, CaseRejected)
    tampered = edited(events, decision, rejections={"ZJJ": "不符合建筑间距要求"})
    notice = next(e for e in tampered if isinstance(e, NoticeIssued) and e.notice.rejections)
    rejections = notice.notice.rejections[:1]
    tampered = edited(
        tampered, notice, notice=notice.notice.model_copy(update={"rejections": rejections})
    )

    lines = violations(tampered, "R14")

    assert verdicts(tampered)["R14"] is FAIL
    assert cites(lines, first(events, ReviewRejected, department="RFB"))
    assert any("未按规定配建人防工程" in line for line in lines)


def test_R14_an_approval_hiding_a_deemed_department_fails() -> None:
    """R14: a CaseApproved that does not list CGJ, deemed approved, fails citing the deemed
    approval."""
    events = deemed_path()
    decision = first(events, CaseApproved)
    tampered = edited(events, decision, deemed_departments=[])

    lines = violations(tampered, "R14")

    assert cites(lines, first(events, ReviewDeemedApproved))


def test_R16_a_late_delivery_without_overdue_fails() -> None:
    """R16: with the DeliveryOverdue removed, the delivery on 2026-03-20 after the last day
    2026-03-16 fails, citing the delivery."""
    events = delivery_overdue_path()
    tampered = without(events, first(events, DeliveryOverdue))

    lines = violations(tampered, "R16")

    assert cites(lines, first(events, ResultDelivered))
    assert any("2026-03-16" in line for line in lines)


def test_R3_R9_R13_R16_a_record_without_its_receipt_fails_what_needs_the_periods() -> None:
    """R3, R9, R13, R16: with ApplicationReceived (and so the periods) removed, the windows and
    periods cannot be counted: those rules fail, saying why; R14 and R21 still pass."""
    events = approved_path()
    tampered = without(events, first(events, ApplicationReceived))

    assert verdicts(tampered) == {
        "R3": FAIL,
        "R9": FAIL,
        "R10": NA,
        "R11": NA,
        "R12": NA,
        "R13": FAIL,
        "R14": PASS,
        "R16": FAIL,
        "R21": PASS,
    }
    assert any("没有「收件」事件" in line for line in violations(tampered, "R13"))


def test_R3_an_empty_record_or_a_refusal_outside_the_catalogue_is_not_applicable() -> None:
    """R3 (with R1): an empty record, or one that holds only the non-acceptance of a matter
    outside the catalogue (nothing was received), leaves every rule not applicable."""
    refused = ApplicationNotAccepted(seq=1, at=MONDAY, actor=clerk(), reason="事项不在本中心目录内")

    assert verdicts([]) == dict.fromkeys(RULE_TITLES, NA)
    assert verdicts([refused]) == dict.fromkeys(RULE_TITLES, NA)


def test_R9_R13_R16_open_periods_pass_so_far() -> None:
    """R9, R13, R16: a case approved on Monday and not yet delivered, and a case whose reviews
    are still running, pass "so far" with the last day of each running period."""
    case = accepted_case(SPJY)
    case.handle(approve("SCJG"), MONDAY)
    so_far = record_of(case)
    running = check(so_far)
    case.handle(approve("CGJ"), MONDAY)
    approved = check(so_far + record_of(case))

    assert running["R9"].verdict is PASS
    assert any("CGJ 第 1 轮审查" in line and "仍在计算" in line for line in running["R9"].evidence)
    assert running["R13"].verdict is PASS
    assert approved["R16"].verdict is PASS
    assert any("期限至 2026-03-16（含当日）" in line for line in approved["R16"].evidence)


def test_R9_events_from_case_events_and_recorded_events_agree() -> None:
    """R9: checking the domain's CaseEvents gives the same result as checking the store rows
    they are kept as (columns and JSON payload), handed over in any order."""
    case = accepted_case(SPJY)
    case.handle(approve("SCJG"), MONDAY)
    case.advance_time(midnight(date(2026, 3, 6)))
    raw: list[CaseEvent] = case.drain()

    rows = [row_of(e) for e in reversed(raw)]

    assert check_case(raw, CALENDAR) == check_case(rows, CALENDAR)


# ---- R21: the record consistent with itself ----------------------------------------------------


def test_R21_an_approval_while_a_task_was_never_approved_fails() -> None:
    """R21: with ZJJ's ReviewApproved removed, the CaseApproved that says every department
    agreed (各部门均审查同意) contradicts the record: it fails citing the decision and ZJJ's
    dispatch, and the other departments' single decisions are the evidence that passes."""
    events = approved_path()
    decision = first(events, CaseApproved)
    tampered = without(events, first(events, ReviewApproved, department="ZJJ"))

    lines = violations(tampered, "R21")

    assert verdicts(events)["R21"] is PASS
    assert verdicts(tampered)["R21"] is FAIL
    (line,) = lines
    assert cites([line], decision) and "各部门均审查同意" in line
    assert "ZJJ 第 1 轮审查" in line and "从未同意或视为同意" in line
    assert cites([line], first(events, ReviewTaskDispatched, department="ZJJ"))


def test_R21_two_decisions_of_one_department_in_one_round_fail() -> None:
    """R21: a second ReviewApproved of ZRZY in round 1 (a copy written after the first) fails,
    citing it and the first; a ReviewRejected of ZJJ after its approval fails the same way."""
    events = approved_path()
    zrzy = first(events, ReviewApproved, department="ZRZY")
    zjj = first(events, ReviewApproved, department="ZJJ")
    twice, copy = added_after(events, zrzy, zrzy)
    overruled, rejection = added_after(
        events, zjj, changed(zjj, type="ReviewRejected", reasons="不符合审查标准")
    )

    for tampered, second, department in ((twice, copy, "ZRZY"), (overruled, rejection, "ZJJ")):
        (line,) = violations(tampered, "R21")
        assert cites([line], second) and f"{department} 第 1 轮审查的第二个审查意见" in line
        assert cites([line], first(tampered, ReviewApproved, department=department))


def test_R21_a_decision_with_no_task_events_fails() -> None:
    """R21: with every task event removed (dispatches and opinions), the CaseApproved rests on
    no review task: it fails citing the decision."""
    events = approved_path()
    tampered = [e for e in events if not e.type.startswith("Review")]

    lines = violations(tampered, "R21")

    assert any(
        cites([line], first(events, CaseApproved)) and "记录中没有审查任务" in line
        for line in lines
    )


def test_R21_an_event_for_a_department_without_a_task_fails() -> None:
    """R21: a ReviewApproved edited to name XF, which has no task on a JS-GHXK-001 case, fails
    citing it; so does a dispatch edited to a department the matter does not review."""
    events = approved_path()
    approval = first(events, ReviewApproved, department="CGJ")
    dispatch = first(events, ReviewTaskDispatched, department="CGJ")
    tampered = edited(events, approval, department="XF")
    misdirected = edited(events, dispatch, department="XF")

    lines = violations(tampered, "R21")
    misdirected_lines = violations(misdirected, "R21")

    assert any(cites([line], approval) and "XF 在本案没有审查任务" in line for line in lines)
    assert any(
        cites([line], dispatch) and "向 XF 分发了审查任务，但该部门不审查本事项" in line
        for line in misdirected_lines
    )


def test_R21_a_decision_after_the_task_was_cancelled_fails() -> None:
    """R21: a withdrawn case whose cancelled task is afterwards shown as approved (an approval
    added at the end of the record) fails, citing the cancellation."""
    case = accepted_case(GHXK)
    case.handle(approve("ZRZY"), MONDAY)
    case.handle(Withdraw(actor=clerk(), reason="申请人项目调整"), WEDNESDAY)
    events = record_of(case)
    cancelled = first(events, ReviewTaskCancelled, department="ZJJ")
    late = changed(
        first(events, ReviewApproved), seq=len(events) + 1, department="ZJJ", at=WEDNESDAY
    )

    lines = violations([*events, late], "R21")

    assert verdicts(events)["R21"] is PASS
    assert any(cites([line], late) and cites([line], cancelled) for line in lines)
