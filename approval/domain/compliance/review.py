"""The departments' reviews: R9 silent consent, R11 one consolidated notice, R12 clock stop."""

from __future__ import annotations

from approval.domain.compliance.evidence import RuleResult, _Findings
from approval.domain.compliance.moments import _day, when
from approval.domain.compliance.periods import _CaseClock, _stop_windows, _TaskPeriod, _Tasks
from approval.domain.compliance.record import _codes, _Record, _text, ref
from approval.domain.events import (
    DEADLINE_EVENTS,
    ActionRefused,
    ClocksResumed,
    ClocksStopped,
    ConsolidatedNoticeIssued,
    ExcludedPeriodOpened,
    NoticeIssued,
    ReviewApproved,
    ReviewDeemedApproved,
    ReviewEscalated,
    ReviewSupplementRequested,
    ReviewTaskDispatched,
    SupplementForwarded,
    SupplementReceived,
)
from approval.domain.models import Role
from approval.domain.notices import NoticeKind

# ---- R9 silent consent -----------------------------------------------------------------------


def _check_r9(record: _Record, tasks: _Tasks) -> RuleResult:
    """R9: every review period that ended unanswered was closed as deemed approved (silent
    consent) or escalated (silent consent excluded), at or after its end, recorded as overdue
    and by the engine; a deemed approval is never also shown as a plain approval."""
    found = _Findings("R9")
    periods = record.periods
    if periods is None:
        if record.of_type(ReviewTaskDispatched):
            found.bad(f"cannot check the review periods: {record.periods_problem}")
        return found.result()
    silent = periods.silent_consent
    found.note(
        "silent consent applies (超时默认)" if silent else "silent consent excluded: escalate"
    )
    for period in tasks.periods:
        _check_task_period(found, record, period, silent)
    for e, why in tasks.orphans:
        if isinstance(e, ReviewApproved):
            found.bad(f"{ref(e)}: a plain approval although {why}")
        else:
            found.bad(f"{ref(e)}: {why}")
    for e in record.of_type(ReviewApproved):
        dept, actor = e.department, e.actor
        if actor.role is not Role.REVIEWER or actor.department != dept:
            found.bad(
                f"{ref(e)}: approval of {dept} recorded by {actor.role.value} {actor.id}: a "
                "deemed approval must be recorded as ReviewDeemedApproved"
            )
    return found.result()


def _check_task_period(
    found: _Findings, record: _Record, period: _TaskPeriod, silent: bool
) -> None:
    closed, due = period.closed, period.due
    ends = f"{period.label} (from {ref(period.opened)}, {period.wd} WD, last day {period.last_day})"
    if closed is None:
        reached = record.passed(due)
        if reached is not None:
            found.bad(
                f"{ends} ended unanswered; the record runs to {ref(reached)} with no "
                f"{'ReviewDeemedApproved' if silent else 'ReviewEscalated'}"
            )
        else:
            found.ok(f"so far on time: {ends} is still running")
        return
    if isinstance(closed, ReviewDeemedApproved | ReviewEscalated):
        expected = ReviewDeemedApproved if silent else ReviewEscalated
        if not isinstance(closed, expected):
            found.bad(f"{ref(closed)}: {ends} ended unanswered and should give {expected.__name__}")
        elif closed.at < due and period.stopped_by is None:
            found.bad(f"{ref(closed)}: before {ends} ended")
        elif closed.at < due:
            found.note(f"{ref(closed)}: before the resumed {ends} ended (see R12)")
        elif not closed.overdue:
            found.bad(f"{ref(closed)}: the department is not recorded as overdue")
        elif closed.actor.role is not Role.SYSTEM:
            found.bad(f"{ref(closed)}: recorded by {closed.actor.role.value}, not by the engine")
        elif closed.at >= due:
            verb = "deemed approved" if silent else "escalated to the supervisor"
            found.ok(f"{ref(closed)}: {ends} ended unanswered; {verb}, recorded as overdue")
        return
    if closed.at >= due and not isinstance(closed, ClocksStopped):
        found.bad(
            f"{ref(closed)}: {ends} had ended before this, and no "
            f"{'deemed approval' if silent else 'escalation'} was recorded at its end"
        )
    else:
        found.ok(f"{ref(closed)}: {period.label} answered within its period")


# ---- R11 one consolidated notice --------------------------------------------------------------


def _check_r11(record: _Record, tasks: _Tasks) -> RuleResult:
    """R11: departments' requests go to the applicant as one consolidated notice per round,
    issued once no task is still waiting for its first opinion, listing every request; after the
    first notice no request names a new item; the supplement is forwarded to those who asked."""
    found = _Findings("R11")
    first_codes: list[str] | None = None
    asked: dict[str, tuple[ReviewSupplementRequested, list[str]]] = {}
    notice_open: ConsolidatedNoticeIssued | None = None
    notified: list[str] = []
    for e in record.events:
        if isinstance(e, ReviewSupplementRequested):
            dept, codes = e.department, _codes(e.items)
            asked[dept] = (e, codes)
            if first_codes is not None:
                new = sorted(set(codes) - set(first_codes))
                if new:
                    found.bad(f"{ref(e)}: {dept} asks for {new}, not in the first notice")
                else:
                    found.ok(f"{ref(e)}: {dept} asks again only for items of the first notice")
        elif isinstance(e, ConsolidatedNoticeIssued):
            if notice_open is not None:
                found.bad(
                    f"{ref(e)}: a second consolidated notice in the round of {ref(notice_open)}"
                )
            _check_consolidated_notice(found, record, tasks, e, asked)
            if first_codes is None:
                first_codes = _codes(e.items)
            notice_open, notified = e, list(e.departments)
            asked = {}
        elif isinstance(e, SupplementReceived) and notice_open is not None:
            _check_forwarding(found, record, e, notified)
        elif isinstance(e, ClocksResumed):
            notice_open = None
        elif isinstance(e, ActionRefused) and "R11" in _text(e.reason):
            found.ok(f"{ref(e)}: refused and recorded — {_text(e.reason)}")
    return found.result()


def _check_forwarding(
    found: _Findings, record: _Record, supplement: SupplementReceived, notified: list[str]
) -> None:
    resumed = next((r for r in record.of_type(ClocksResumed) if r.seq > supplement.seq), None)
    forwarded = {
        f.department
        for f in record.of_type(SupplementForwarded)
        if supplement.seq < f.seq and (resumed is None or f.seq < resumed.seq)
    }
    not_forwarded = sorted(set(notified) - forwarded)
    if not_forwarded:
        found.bad(f"{ref(supplement)}: the supplement was not forwarded to {not_forwarded}")
    else:
        found.ok(f"{ref(supplement)}: the supplement was forwarded to {sorted(notified)}")


def _check_consolidated_notice(
    found: _Findings,
    record: _Record,
    tasks: _Tasks,
    notice: ConsolidatedNoticeIssued,
    asked: dict[str, tuple[ReviewSupplementRequested, list[str]]],
) -> None:
    codes = set(_codes(notice.items))
    departments = set(notice.departments)
    problems: list[str] = []
    for dept, (request, requested) in sorted(asked.items()):
        left_out = sorted(set(requested) - codes)
        if left_out:
            problems.append(f"leaves out {left_out} asked by {dept} at {ref(request)}")
        if dept not in departments:
            problems.append(f"does not name {dept}, who asked at {ref(request)}")
    unasked = sorted(departments - set(asked))
    if unasked:
        problems.append(f"names {unasked}, who asked for nothing in this round")
    problems += [
        f"issued while {p.label} (from {ref(p.opened)}) still awaited its opinion"
        for p in tasks.periods
        if p.opened.seq < notice.seq and (p.closed is None or p.closed.seq > notice.seq)
    ]
    written = [
        (e, facts)
        for e, facts in record.notices(NoticeKind.CONSOLIDATED_NOTICE)
        if e.seq > notice.seq and set(_codes(facts.items)) == codes
    ]
    if not written:
        problems.append("no written consolidated notice with these items was issued")
    for problem in problems:
        found.bad(f"{ref(notice)}: {problem}")
    if not problems:
        written_event, facts = written[0]
        found.ok(
            f"{ref(notice)}: one notice of {sorted(codes)} for {sorted(departments)}, "
            f"written as {facts.notice_no} ({ref(written_event)})"
        )


# ---- R12 clock stop --------------------------------------------------------------------------


def _check_r12(record: _Record, tasks: _Tasks, clock: _CaseClock | None) -> RuleResult:
    """R12: no deadline fires while the clocks are stopped; every period resumes with the
    working days it had left, checked against the deadline events after the resumption and,
    where a SupplementForwarded states a ``due``, against that due; each stop is told to the
    applicant in writing."""
    found = _Findings("R12")
    windows = _stop_windows(record)
    for stopped, resumed in windows:
        until = ref(resumed) if resumed else "the end of the record"
        found.note(f"clocks stopped at {ref(stopped)} until {until}")
        inside = [
            e
            for e in record.of_type(*DEADLINE_EVENTS)
            if (e.seq > stopped.seq and (resumed is None or e.seq < resumed.seq))
            or (stopped.at < e.at and resumed is not None and e.at < resumed.at)
        ]
        for e in inside:
            found.bad(f"{ref(e)}: a deadline fired while the clocks were stopped")
        if not inside:
            found.ok(f"no deadline fired from {ref(stopped)} to {until}")
        told = [
            e
            for e in record.of_type(NoticeIssued)
            if e.seq > stopped.seq and (resumed is None or e.seq < resumed.seq)
        ]
        if not told:
            found.bad(f"{ref(stopped)}: no written notice to the applicant during the stop")
    for opened in record.of_type(ExcludedPeriodOpened):
        _check_excluded_period_notice(found, record, opened)
    if clock is not None:
        _check_case_clock_resumptions(found, record, clock)
    for period in tasks.periods:
        if period.stopped_by is not None:
            _check_resumed_task(found, period)
    return found.result()


def _check_excluded_period_notice(
    found: _Findings, record: _Record, opened: ExcludedPeriodOpened
) -> None:
    """An excluded period is told to the applicant in writing with its expected length."""
    expected = opened.expected_wd
    told = [
        e
        for e, facts in record.notices(NoticeKind.EXCLUDED_PERIOD_NOTICE)
        if e.seq > opened.seq and facts.expected_wd == expected
    ]
    procedure = opened.procedure.value
    if told:
        found.ok(f"{ref(opened)}: {procedure}, expected {expected} WD, told at {ref(told[0])}")
    else:
        found.bad(f"{ref(opened)}: no written notice of the {procedure}'s expected length")


def _check_case_clock_resumptions(found: _Findings, record: _Record, clock: _CaseClock) -> None:
    for stop in clock.stops:
        if stop.left is None:
            found.note(f"case period was not running at {ref(stop.stopped)} (already expired)")
            continue
        if stop.resumed is None or stop.last_day_after is None:
            found.note(
                f"case period: {stop.left} WD left at {ref(stop.stopped)} "
                f"(last day was {stop.last_day_before}); not resumed in the record"
            )
            continue
        with_wd = record.calendar.working_days_between(_day(stop.resumed.at), stop.last_day_after)
        extension = f" (+{stop.extended_wd} WD extension)" if stop.extended_wd else ""
        found.ok(
            f"case period: {stop.left} WD left at {ref(stop.stopped)} (last day was "
            f"{stop.last_day_before}); resumed at {ref(stop.resumed)} with {with_wd} WD"
            f"{extension} → last day {stop.last_day_after}"
        )
    resumed_at = [s.resumed.seq for s in clock.stops if s.resumed is not None]
    for e, due in clock.expiries:
        if due is not None and e.at < due and any(seq < e.seq for seq in resumed_at):
            found.bad(
                f"{ref(e)}: the case period expired before its resumed end {when(due)}: it "
                "resumed with fewer working days than it had left"
            )


def _check_resumed_task(found: _Findings, period: _TaskPeriod) -> None:
    assert period.stopped_by is not None
    story = (
        f"{period.department}: {period.wd} WD left at {ref(period.stopped_by)} (last day was "
        f"{period.left_before}); resumed at {ref(period.opened)} → last day {period.last_day}"
    )
    stated = period.stated_due
    closed = period.closed
    if stated is not None and stated != period.due:
        found.bad(f"{story}, but the record states {when(stated)}")
    elif closed is not None and isinstance(closed, DEADLINE_EVENTS) and closed.at < period.due:
        found.bad(
            f"{story}, but {ref(closed)} came before it: the task resumed with fewer working "
            "days than it had left"
        )
    else:
        found.ok(story)
