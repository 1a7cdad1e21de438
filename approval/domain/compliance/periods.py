"""Replaying the periods: each department's review task, the case's own period, the stops."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from approval.domain.compliance.labels import review_round
from approval.domain.compliance.moments import _aware, _day, _end_of
from approval.domain.compliance.record import CASE_DUE_EVENTS, _Record
from approval.domain.events import (
    DECISION_EVENTS,
    HUMAN_ANSWERS,
    ApplicationAccepted,
    ApplicationDeemedAccepted,
    CaseClosed,
    CaseEventBase,
    CaseExtended,
    CasePeriodExpired,
    ClocksResumed,
    ClocksStopped,
    DepartmentEvent,
    ReceivedPeriods,
    ReviewApproved,
    ReviewDeemedApproved,
    ReviewDeemedApprovedInAbsence,
    ReviewEscalated,
    ReviewSupplementRequested,
    ReviewTaskCancelled,
    ReviewTaskDispatched,
    SupplementForwarded,
)

_ANSWERS = (*HUMAN_ANSWERS, ReviewTaskCancelled, ReviewDeemedApprovedInAbsence)
"""What ends a department's running period by its answer, or by the engine in its stead at a
meeting, or by the task's cancellation."""


@dataclass
class _TaskPeriod:
    """One running period of a department's review task: from its dispatch, or from the
    resumption after the supplement, to the event that closed it."""

    department: str
    round: int
    opened: ReviewTaskDispatched | ClocksResumed
    wd: int
    last_day: date
    stopped_by: CaseEventBase | None = None
    """For a resumed period: the event that stopped the period before (the department's
    request, or ClocksStopped)."""
    left_before: date | None = None
    """For a resumed period: the last day of the period before the stop."""
    stated_due: datetime | None = None
    """For a resumed period: the due the record states for it (the SupplementForwarded that
    started the department's new round, or the ClocksResumed after an excluded period)."""
    closed: CaseEventBase | None = None
    stray: list[CaseEventBase] = field(default_factory=list)

    @property
    def due(self) -> datetime:
        return _end_of(self.last_day)

    @property
    def label(self) -> str:
        return review_round(self.department, self.round)


@dataclass
class _Tasks:
    """Every task period of the case, and events that concern no running period."""

    periods: list[_TaskPeriod] = field(default_factory=list)
    orphans: list[tuple[CaseEventBase, str]] = field(default_factory=list)
    """(event, why) for deadline events and approvals that have no period to close."""


def _dispatched_last_day(
    record: _Record, periods: ReceivedPeriods, dispatched: ReviewTaskDispatched, wd: int
) -> date:
    """A dispatched review's last day: its own period, or, where reviews are capped, the
    case's last day as recorded before the dispatch if that comes first."""
    own = record.last_day(dispatched.at, wd)
    if not periods.reviews_capped:
        return own
    case_days = [e.due for e in record.of_type(*CASE_DUE_EVENTS) if e.seq < dispatched.seq]
    return min(own, case_days[-1]) if case_days and case_days[-1] > _day(dispatched.at) else own


def _replay_tasks(record: _Record) -> _Tasks:
    """Follow each department's task through the record, counting its periods by calendar."""
    tasks = _Tasks()
    periods = record.periods
    if periods is None:
        return tasks
    open_: dict[str, _TaskPeriod] = {}
    waiting: dict[str, tuple[int, CaseEventBase, _TaskPeriod]] = {}
    deemed: set[str] = set()
    forwarded: dict[str, SupplementForwarded] = {}
    for e in record.events:
        dept = e.department if isinstance(e, DepartmentEvent) else ""
        if isinstance(e, ReviewTaskDispatched):
            wd = periods.reviews.get(dept, 0)
            period = _TaskPeriod(
                department=dept,
                round=e.round,
                opened=e,
                wd=wd,
                last_day=_dispatched_last_day(record, periods, e, wd),
            )
            tasks.periods.append(period)
            open_[dept] = period
        elif isinstance(e, _ANSWERS):
            if isinstance(e, ReviewDeemedApprovedInAbsence):
                deemed.add(dept)
            if isinstance(e, ReviewApproved) and dept in deemed:
                tasks.orphans.append((e, f"{dept} 此前已被视为同意"))
            answered = open_.pop(dept, None)
            if isinstance(e, ReviewTaskCancelled):
                waiting.pop(dept, None)
            if answered is None:
                continue
            answered.closed = e
            if isinstance(e, ReviewSupplementRequested) and e.at < answered.due:
                waiting[dept] = (record.left_at(e.at, answered.last_day), e, answered)
        elif isinstance(e, ReviewDeemedApproved | ReviewEscalated):
            ended = open_.pop(dept, None)
            if ended is None:
                tasks.orphans.append((e, f"{dept} 没有正在计算的审查期限"))
                continue
            ended.closed = e
            if isinstance(e, ReviewDeemedApproved):
                deemed.add(dept)
        elif isinstance(e, SupplementForwarded):
            forwarded[dept] = e
        elif isinstance(e, ClocksStopped):
            for dept_open, period in list(open_.items()):
                period.closed = e
                waiting[dept_open] = (record.left_at(e.at, period.last_day), e, period)
                del open_[dept_open]
        elif isinstance(e, ClocksResumed):
            for dept_waiting in _resuming(e, waiting):
                left, stop, before = waiting.pop(dept_waiting)
                period = _TaskPeriod(
                    department=dept_waiting,
                    round=before.round if isinstance(stop, ClocksStopped) else before.round + 1,
                    opened=e,
                    wd=left,
                    last_day=record.last_day(e.at, left),
                    stopped_by=stop,
                    left_before=before.last_day,
                    stated_due=_stated_due(e, forwarded.pop(dept_waiting, None), dept_waiting),
                )
                tasks.periods.append(period)
                open_[dept_waiting] = period
    return tasks


def _resuming(
    resumed: ClocksResumed, waiting: dict[str, tuple[int, CaseEventBase, _TaskPeriod]]
) -> list[str]:
    """The departments whose periods a ClocksResumed resumes: every waiting one after a
    supplement; after an excluded period only those it stopped, not those that had asked for
    materials and still wait for them (R11, R12)."""
    if resumed.after != "excluded_period":
        return list(waiting)
    return [dept for dept, (_, stop, _) in waiting.items() if isinstance(stop, ClocksStopped)]


def _stated_due(
    resumed: ClocksResumed, forwarded: SupplementForwarded | None, department: str
) -> datetime | None:
    """The due the record states for a department's resumed period, if any."""
    if forwarded is not None:
        return _aware(forwarded.due)
    return _aware(resumed.task_dues.get(department))


@dataclass
class _Stop:
    """One stop of the case's clocks, as the case period saw it."""

    stopped: ClocksStopped
    left: int | None
    """WD the case period had left; None if it was not running (expired)."""
    last_day_before: date | None
    resumed: ClocksResumed | None = None
    last_day_after: date | None = None
    extended_wd: int = 0
    """WD added by an extension during the stop."""


@dataclass
class _CaseClock:
    """The case's own period (承诺时限) as the record shows it, counted by calendar."""

    accepted: ApplicationAccepted | ApplicationDeemedAccepted
    as_of: datetime
    first_last_day: date
    last_day: date | None
    left: int | None = None
    expired: bool = False
    stops: list[_Stop] = field(default_factory=list)
    extensions: list[tuple[CaseExtended, date | None, int | None]] = field(default_factory=list)
    """(CaseExtended, last day after it or None while stopped, WD left after it if stopped)."""
    expiries: list[tuple[CasePeriodExpired, datetime | None]] = field(default_factory=list)
    """(CasePeriodExpired, the due it should have waited for; None while stopped)."""
    decision_last_day: date | None = None
    """The period's last day when the decision came (or when the record ends)."""

    @property
    def due(self) -> datetime | None:
        return _end_of(self.last_day) if self.last_day else None


def _replay_case_clock(record: _Record) -> _CaseClock | None:
    """Count the case period from the acceptance date, stopping, resuming and extending it."""
    accepted, periods = record.acceptance, record.periods
    if accepted is None or periods is None:
        return None
    as_of = _aware(accepted.as_of) or accepted.at
    first = record.last_day(as_of, periods.committed_wd)
    clock = _CaseClock(accepted=accepted, as_of=as_of, first_last_day=first, last_day=first)
    in_stop = False
    for e in record.events:
        if e.seq <= accepted.seq:
            continue
        if isinstance(e, (*DECISION_EVENTS, CaseClosed)):
            break
        if isinstance(e, ClocksStopped):
            in_stop = True
            clock.stops.append(_stop_case_clock(record, clock, e))
        elif isinstance(e, ClocksResumed) and clock.stops and clock.stops[-1].resumed is None:
            in_stop = False
            stop = clock.stops[-1]
            stop.resumed = e
            if clock.left is not None:
                clock.last_day, clock.left = record.last_day(e.at, clock.left), None
            stop.last_day_after = clock.last_day
        elif isinstance(e, CaseExtended):
            extra = e.extra_wd
            if clock.left is not None:
                clock.left += extra
            elif clock.last_day is not None:
                clock.last_day = record.calendar.add_working_days(clock.last_day, extra)[0]
            clock.expired = False
            if in_stop:
                clock.stops[-1].extended_wd += extra
            if in_stop and clock.left is None and clock.last_day is not None:
                clock.left, clock.last_day = record.left_at(e.at, clock.last_day), None
            clock.extensions.append((e, clock.last_day, clock.left))
        elif isinstance(e, CasePeriodExpired):
            clock.expiries.append((e, clock.due))
            clock.expired = True
    clock.decision_last_day = clock.last_day
    return clock


def _stop_case_clock(record: _Record, clock: _CaseClock, stop: ClocksStopped) -> _Stop:
    before = clock.last_day
    if clock.expired or before is None:
        return _Stop(stopped=stop, left=None, last_day_before=before)
    clock.left, clock.last_day = record.left_at(stop.at, before), None
    return _Stop(stopped=stop, left=clock.left, last_day_before=before)


def _stop_windows(record: _Record) -> list[tuple[ClocksStopped, ClocksResumed | None]]:
    """(ClocksStopped, the ClocksResumed that ended it or None) in order."""
    windows: list[tuple[ClocksStopped, ClocksResumed | None]] = []
    for e in record.events:
        if isinstance(e, ClocksStopped):
            windows.append((e, None))
        elif isinstance(e, ClocksResumed) and windows and windows[-1][1] is None:
            windows[-1] = (windows[-1][0], e)
    return windows
