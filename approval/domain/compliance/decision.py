"""The decision: R13 overall limit and extension, R14 decision contents, R16 delivery."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from approval.domain.compliance.evidence import RuleResult, _Findings
from approval.domain.compliance.moments import TIMER_LATENCY, _day, _end_of, when
from approval.domain.compliance.periods import _CaseClock
from approval.domain.compliance.record import _Record, _text, ref
from approval.domain.documents import ProgressLookup, render_notice
from approval.domain.events import (
    CaseApproved,
    CaseEventBase,
    CaseLapsed,
    CaseRejected,
    CaseWithdrawn,
    CertificateIssued,
    DeliveryOverdue,
    NoticeIssued,
    ReceivedPeriods,
    ResultDelivered,
    ReviewDeemedApproved,
    ReviewDeemedApprovedInAbsence,
    ReviewRejected,
)
from approval.domain.notices import Notice, NoticeKind

_AUDIT_CENTRE = "审计复核"
"""Issuer name used when a notice is re-rendered to read its text."""
_AUDIT_LOOKUP = ProgressLookup(check_code="(查询码)", address="(办件进度查询页面)")
"""Stands in for the check code and address of a notice that shows them: the check reads
what the written decision states of the decision, not the code (derived from the audit key,
which the compliance check does not hold)."""


# ---- R13 overall limit and extension ---------------------------------------------------------


def _check_r13(record: _Record, clock: _CaseClock | None) -> RuleResult:
    """R13: the decision came within the committed period (plus one extension) counted from the
    acceptance date by the calendar without the stops; at most one extension, by the matter's
    extension WD, with a reason sent to the applicant; an expired period is recorded."""
    found = _Findings("R13")
    periods = record.periods
    if clock is None or periods is None:
        if record.acceptance is not None:
            found.bad(f"cannot count the case period: {record.periods_problem}")
        return found.result()
    if periods.committed_wd > periods.statutory_wd:
        found.bad(
            f"committed period {periods.committed_wd} WD exceeds the statutory "
            f"{periods.statutory_wd} WD"
        )
    found.note(
        f"{ref(clock.accepted)}: accepted as of {_day(clock.as_of)}, committed "
        f"{periods.committed_wd} WD → last day {clock.first_last_day}"
    )
    stated = clock.accepted.due
    if stated != clock.first_last_day:
        found.note(
            f"{ref(clock.accepted)} states the last day {stated}"
            f"{' (provisional)' if clock.accepted.provisional else ''}; "
            f"the calendar now counts {clock.first_last_day}"
        )
    _check_extensions(found, record, clock, periods)
    _check_decision_time(found, record, clock)
    return found.result()


def _check_extensions(
    found: _Findings, record: _Record, clock: _CaseClock, periods: ReceivedPeriods
) -> None:
    for index, (e, last_day, left) in enumerate(clock.extensions):
        extra, reason = e.extra_wd, _text(e.reason)
        if index:
            found.bad(f"{ref(e)}: a second extension (the first was {ref(clock.extensions[0][0])})")
        if extra != periods.extension_wd:
            found.bad(f"{ref(e)}: extended by {extra} WD, not by {periods.extension_wd} WD")
        if not reason:
            found.bad(f"{ref(e)}: the extension states no reason")
        written = [
            (n, facts)
            for n, facts in record.notices(NoticeKind.EXTENSION_NOTICE)
            if n.seq > e.seq and _text(facts.reason) == reason
        ]
        if not written:
            found.bad(f"{ref(e)}: the reason was not sent to the applicant (no extension notice)")
            continue
        notice, facts = written[0]
        stated = facts.due
        if stated is not None and last_day is not None and stated != last_day:
            found.bad(f"{ref(notice)}: states the last day {stated}; counted: {last_day}")
        if index == 0 and extra == periods.extension_wd and reason:
            after = f"last day {last_day}" if last_day else f"{left} WD left while stopped"
            found.ok(f"{ref(e)}: extended once by {extra} WD → {after}; told in {ref(notice)}")


def _check_decision_time(found: _Findings, record: _Record, clock: _CaseClock) -> None:
    for e, due in clock.expiries:
        if due is not None and e.at < due:
            found.bad(f"{ref(e)}: the case period was recorded expired before its end {when(due)}")
    last_day, decision = clock.decision_last_day, record.decision
    due = _end_of(last_day) if last_day else None
    if decision is None:
        closed = next(iter(record.of_type(CaseWithdrawn, CaseLapsed)), None)
        if closed is not None:
            found.ok(f"{ref(closed)}: closed without a decision")
        elif due is not None and (reached := record.passed(due)) is not None:
            expiry = (
                f"recorded expired at {ref(clock.expiries[-1][0])}"
                if clock.expiries
                else "no expiry recorded"
            )
            found.bad(
                f"the case period ended (last day {last_day}) without a decision ({expiry}); "
                f"the record runs to {ref(reached)}"
            )
        elif last_day is not None:
            found.ok(f"so far on time: no decision yet; the period runs until {last_day}")
        else:
            found.note("no decision yet; the case period is stopped")
        return
    used = record.calendar.working_days_between(_day(clock.as_of), _day(decision.at)) - sum(
        record.calendar.working_days_between(_day(s.stopped.at), _day(s.resumed.at))
        for s in clock.stops
        if s.resumed is not None and s.left is not None
    )
    if due is None:
        found.bad(f"{ref(decision)}: decided while the case period was stopped")
    elif decision.at <= due + TIMER_LATENCY:
        found.ok(
            f"{ref(decision)}: decided within the period (last day {last_day}; "
            f"{used} WD used from the acceptance, stops excluded)"
        )
    else:
        expired = " (expiry recorded)" if clock.expiries else ", and no expiry was recorded"
        found.bad(
            f"{ref(decision)}: decided after the last day {last_day}{expired}; "
            f"{used} WD used from the acceptance, stops excluded"
        )


# ---- R14 decision -------------------------------------------------------------------------------


def _check_r14(record: _Record) -> RuleResult:
    """R14: any rejection rejects the case, naming every rejecting department with its reasons,
    in writing with the applicant's remedies; an approval lists exactly the deemed departments."""
    found = _Findings("R14")
    decision = record.decision
    if decision is None:
        return found.result()
    before = [e for e in record.events if e.seq < decision.seq]
    rejected = {e.department: e for e in before if isinstance(e, ReviewRejected)}
    if isinstance(decision, CaseRejected):
        _check_rejection(found, record, decision, rejected)
    else:
        for dept, e in sorted(rejected.items()):
            found.bad(f"{ref(decision)}: approved although {dept} rejected at {ref(e)}")
        _check_approval(found, record, decision, before)
    return found.result()


def _check_rejection(
    found: _Findings,
    record: _Record,
    decision: CaseRejected,
    rejected: dict[str, ReviewRejected],
) -> None:
    stated = decision.rejections
    if not rejected:
        found.bad(f"{ref(decision)}: rejected, but no department rejected")
    for dept, e in sorted(rejected.items()):
        reasons = _text(e.reasons)
        if dept not in stated:
            found.bad(f"{ref(decision)}: leaves out {dept}, who rejected at {ref(e)}")
        elif _text(stated[dept]) != reasons or not reasons:
            found.bad(
                f"{ref(decision)}: gives {dept}'s reasons as {stated[dept]!r}; {ref(e)} "
                f"gave {reasons!r}"
            )
        else:
            found.ok(f"{ref(decision)}: states {dept}'s reasons from {ref(e)}")
    for dept in sorted(set(stated) - set(rejected)):
        found.bad(f"{ref(decision)}: names {dept}, who did not reject")
    written = _written_decision(found, record, decision, NoticeKind.REJECTION_DECISION)
    if written is None:
        return
    notice_event, facts = written
    given = Counter(_text(r.reasons) for r in facts.rejections)
    expected = Counter(_text(e.reasons) for e in rejected.values())
    if given != expected:
        missing = sorted((expected - given).elements())
        found.bad(f"{ref(notice_event)}: the written decision leaves out the reasons {missing}")
    else:
        found.ok(f"{ref(notice_event)}: the written decision gives every department's reasons")
    try:
        body = render_notice(facts, _AUDIT_CENTRE, _AUDIT_LOOKUP).body
    except ValueError as error:
        found.bad(f"{ref(notice_event)}: the written decision cannot be rendered: {error}")
        return
    if "行政复议" in body and "行政诉讼" in body:
        found.ok(f"{ref(notice_event)}: states the right to 行政复议 (60 days) and 行政诉讼")
    else:
        found.bad(f"{ref(notice_event)}: does not state the applicant's remedies")


def _check_approval(
    found: _Findings,
    record: _Record,
    decision: CaseApproved,
    before: Sequence[CaseEventBase],
) -> None:
    deemed: dict[str, CaseEventBase] = {}
    for listed, stated, kind in (
        ("deemed_departments", decision.deemed_departments, ReviewDeemedApproved),
        ("absent_departments", decision.absent_departments, ReviewDeemedApprovedInAbsence),
    ):
        found_of_kind = {e.department: e for e in before if isinstance(e, kind)}
        _check_deemed_list(found, decision, listed, set(stated), kind.__name__, found_of_kind)
        deemed.update(found_of_kind)
    written = _written_decision(found, record, decision, NoticeKind.APPROVAL_DECISION)
    if written is None:
        return
    notice_event, facts = written
    named = [*facts.deemed_departments, *facts.absent_departments]
    if len(named) != len(deemed):
        found.bad(
            f"{ref(notice_event)}: the written decision names {len(named)} deemed "
            f"department(s) {named}; the record has {len(deemed)}"
        )
    else:
        found.ok(f"{ref(notice_event)}: the written decision names {len(named)} deemed")


def _check_deemed_list(
    found: _Findings,
    decision: CaseApproved,
    listed: str,
    stated: set[str],
    event_type: str,
    deemed: Mapping[str, CaseEventBase],
) -> None:
    """The decision's ``listed`` departments (``stated``) are exactly those the record deemed
    so."""
    for dept, e in sorted(deemed.items()):
        if dept not in stated:
            found.bad(f"{ref(decision)}: {listed} leaves out {dept}, deemed at {ref(e)}")
    for dept in sorted(stated - set(deemed)):
        found.bad(f"{ref(decision)}: {listed} names {dept}, but no {event_type}")
    if stated == set(deemed) and (stated or listed == "deemed_departments"):
        names = f"{sorted(stated)}" if stated else "none"
        found.ok(f"{ref(decision)}: {listed} {names}, as the record shows")


# ---- R16 delivery -----------------------------------------------------------------------------


def _check_r16(record: _Record) -> RuleResult:
    """R16: after an approval the certificate is issued and delivered within the delivery period,
    or the delivery is recorded overdue when that period ends."""
    found = _Findings("R16")
    approval = next(iter(record.of_type(CaseApproved)), None)
    if approval is None:
        return found.result()
    if record.periods is None:
        found.bad(f"cannot count the delivery period: {record.periods_problem}")
        return found.result()
    wd = record.periods.delivery_wd
    last_day = record.last_day(approval.at, wd)
    due = _end_of(last_day)
    found.note(f"{ref(approval)}: delivery due within {wd} WD, last day {last_day}")
    overdue = [e for e in record.of_type(DeliveryOverdue) if e.seq > approval.seq]
    for e in overdue:
        if e.at < due:
            found.bad(f"{ref(e)}: recorded overdue before the period ended (last day {last_day})")
    delivered = next((e for e in record.of_type(ResultDelivered) if e.seq > approval.seq), None)
    if delivered is None:
        reached = record.passed(due)
        if reached is None:
            found.ok(f"so far on time: not delivered yet; the period runs until {last_day}")
        elif overdue:
            found.ok(f"{ref(overdue[0])}: the delivery period ended and was recorded overdue")
        else:
            found.bad(
                f"the delivery period ended (last day {last_day}); {ref(reached)} shows "
                "neither a delivery nor DeliveryOverdue"
            )
        return found.result()
    certificate = next(
        (e for e in record.of_type(CertificateIssued) if approval.seq < e.seq < delivered.seq),
        None,
    )
    if certificate is None:
        found.bad(f"{ref(delivered)}: delivered without a CertificateIssued after the approval")
    if delivered.at < due:
        found.ok(f"{ref(delivered)}: delivered within {wd} WD (last day {last_day})")
    elif overdue and overdue[0].seq < delivered.seq:
        found.ok(f"{ref(delivered)}: delivered late; {ref(overdue[0])} recorded it overdue")
    else:
        found.bad(
            f"{ref(delivered)}: delivered after the last day {last_day} with no "
            "DeliveryOverdue recorded"
        )
    return found.result()


DECISION_TITLES = {
    NoticeKind.REJECTION_DECISION: "不予行政许可决定书",
    NoticeKind.APPROVAL_DECISION: "准予行政许可决定书",
}


def _written_decision(
    found: _Findings, record: _Record, decision: CaseApproved | CaseRejected, kind: NoticeKind
) -> tuple[NoticeIssued, Notice] | None:
    """The written decision of ``kind`` issued after ``decision``; a finding when there is none."""
    written = [(e, n) for e, n in record.notices(kind) if e.seq > decision.seq]
    if not written:
        kind_name = "rejection" if kind is NoticeKind.REJECTION_DECISION else "approval"
        found.bad(
            f"{ref(decision)}: no written {kind_name} decision ({DECISION_TITLES[kind]}) was issued"
        )
        return None
    return written[0]
