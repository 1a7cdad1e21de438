"""Checking a case's record against the statutory rules, from the record alone.

An auditor hands over the recorded events of one case (``RecordedEvent``: from the store's
``case_events`` rows or from the domain's ``CaseEvent``) and a working-day calendar; each rule
that can be checked from the record gives a ``RuleResult``: pass, fail or not applicable, with
evidence lines that cite the events by their seq and their dates (Asia/Shanghai).

Periods are counted again here with the calendar, independently of the engine's clocks: the
received event states the periods the case runs under (``periods``), the other events say when
each period started, stopped, resumed, was extended or ended. Evidence lines start with ``✓``
(a fact that satisfies the rule), ``✗`` (a violation) or ``·`` (context).

Pure: no I/O, no clock, no Temporal, no SQLAlchemy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from approval.domain.calendar import SHANGHAI, WorkingCalendar
from approval.domain.documents import render_notice
from approval.domain.models import CaseEvent
from approval.domain.notices import Notice, NoticeKind

_ONE_DAY = timedelta(days=1)
_AUDIT_CENTRE = "审计复核"
"""Issuer name used when a notice is re-rendered to read its text."""

DECISIONS = ("CaseApproved", "CaseRejected")
HUMAN_ANSWERS = ("ReviewApproved", "ReviewRejected", "ReviewSupplementRequested")
DEADLINE_EVENTS = (
    "ApplicationDeemedAccepted",
    "ReviewDeemedApproved",
    "ReviewEscalated",
    "CasePeriodExpired",
    "DeliveryOverdue",
)
"""Events that only the passing of a period may cause."""

RULE_TITLES: dict[str, tuple[str, str]] = {
    "R3": ("一次性告知与受理时限", "One-time notice or acceptance within the notice period"),
    "R9": ("超时默认", "Silent consent when a review period ends unanswered"),
    "R11": ("一次性合并告知补正", "One consolidated supplement notice, no new items afterwards"),
    "R12": ("补正期间停止计时", "Clocks stop while the applicant supplements"),
    "R13": ("承诺时限与一次延期", "Decision within the committed period, extended at most once"),
    "R14": ("决定书内容", "Decision states every reason, the remedies and the deemed approvals"),
    "R16": ("送达时限", "Result delivered within the delivery period"),
}
"""The rules checked, by id: (Chinese title, English title)."""


# ---- the record -------------------------------------------------------------------------------


class RecordedEvent(BaseModel):
    """One recorded event of a case, as the checks read it.

    Built from a store row with ``RecordedEvent.model_validate(row)`` (its ``occurred_at`` is
    read as ``at``), or from a domain event with ``RecordedEvent.from_case_event(event)``.
    """

    model_config = ConfigDict(frozen=True, from_attributes=True, populate_by_name=True)

    seq: int = Field(ge=1)
    type: str
    at: AwareDatetime = Field(validation_alias=AliasChoices("at", "occurred_at"))
    actor_role: str
    actor_id: str
    actor_department: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_case_event(cls, event: CaseEvent) -> RecordedEvent:
        """The event as the store records it (payload as JSON data)."""
        return cls(
            seq=event.seq,
            type=event.type,
            at=event.at,
            actor_role=event.actor.role.value,
            actor_id=event.actor.id,
            actor_department=event.actor.department,
            payload=event.model_dump(mode="json")["data"],
        )


def as_recorded(events: Iterable[object]) -> list[RecordedEvent]:
    """Domain events, store rows or recorded events, as recorded events in seq order."""
    return sorted((_adapt(e) for e in events), key=lambda e: e.seq)


def _adapt(event: object) -> RecordedEvent:
    if isinstance(event, RecordedEvent):
        return event
    if isinstance(event, CaseEvent):
        return RecordedEvent.from_case_event(event)
    return RecordedEvent.model_validate(event)


class Verdict(StrEnum):
    """The outcome of one rule on one case."""

    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


class RuleResult(BaseModel):
    """One rule checked on one case, with the evidence from the record."""

    rule: str
    title_zh: str
    title_en: str
    verdict: Verdict
    evidence: list[str]


class Periods(BaseModel):
    """The periods a case runs under, as its ApplicationReceived event states them."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    notice_wd: int = Field(ge=0)
    supplement_days: int = Field(ge=0)
    committed_wd: int = Field(ge=0)
    statutory_wd: int = Field(ge=0)
    extension_wd: int = Field(ge=0)
    delivery_wd: int = Field(ge=0)
    silent_consent: bool
    reviews: dict[str, int]
    reviews_capped: bool = False
    """Department periods end no later than the case's deadline (the rule since the
    cap-review-periods patch)."""


def check_case(events: Sequence[RecordedEvent], calendar: WorkingCalendar) -> list[RuleResult]:
    """Check the record of one case against R3, R9, R11, R12, R13, R14 and R16, in that order."""
    record = _Record(sorted(events, key=lambda e: e.seq), calendar)
    tasks = _replay_tasks(record)
    case_clock = _replay_case_clock(record)
    return [
        _check_r3(record),
        _check_r9(record, tasks),
        _check_r11(record, tasks),
        _check_r12(record, tasks, case_clock),
        _check_r13(record, case_clock),
        _check_r14(record),
        _check_r16(record),
    ]


def failed(results: Iterable[RuleResult]) -> list[RuleResult]:
    """The results that failed."""
    return [r for r in results if r.verdict is Verdict.FAIL]


# ---- helpers ---------------------------------------------------------------------------------


def when(moment: datetime) -> str:
    """An instant as people read it in Shanghai: ``2026-11-28 09:30``."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def ref(event: RecordedEvent) -> str:
    """An event as evidence cites it: ``seq 7 ReviewApproved 2026-03-02 10:00``."""
    return f"seq {event.seq} {event.type} {when(event.at)}"


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


TIMER_LATENCY = timedelta(minutes=1)
"""How long after a deadline the engine may record what the deadline caused: a decision made
by the silent consent at the very end of the period is in time (R9, R13)."""
CASE_DUE_EVENTS = ("ApplicationAccepted", "ApplicationDeemedAccepted")
"""Events that state the case's last day in their ``due``."""


def _end_of(last_day: date) -> datetime:
    """The instant a period whose last working day is ``last_day`` ends (R17)."""
    return datetime.combine(last_day + _ONE_DAY, time(), tzinfo=SHANGHAI)


def _parse_instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None


def _parse_day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _codes(items: object) -> list[str]:
    """The material codes of a list of notice items (``[{code, reason}]``)."""
    if not isinstance(items, list):
        return []
    return [str(i.get("code")) for i in items if isinstance(i, dict)]


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


class _Findings:
    """Evidence collected for one rule; any violation fails it, any fact makes it apply."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.lines: list[str] = []
        self.violated = False
        self.applies = False

    def ok(self, line: str) -> None:
        self.applies = True
        self.lines.append(f"✓ {line}")

    def bad(self, line: str) -> None:
        self.applies = self.violated = True
        self.lines.append(f"✗ {line}")

    def note(self, line: str) -> None:
        self.lines.append(f"· {line}")

    def result(self) -> RuleResult:
        verdict = (
            Verdict.FAIL
            if self.violated
            else Verdict.PASS
            if self.applies
            else Verdict.NOT_APPLICABLE
        )
        zh, en = RULE_TITLES[self.rule]
        return RuleResult(
            rule=self.rule, title_zh=zh, title_en=en, verdict=verdict, evidence=self.lines
        )


class _Record:
    """The events of one case in seq order, with the facts every check needs."""

    def __init__(self, events: list[RecordedEvent], calendar: WorkingCalendar) -> None:
        self.events = events
        self.calendar = calendar
        self.received = next((e for e in events if e.type == "ApplicationReceived"), None)
        self.periods: Periods | None = None
        self.periods_problem = "no ApplicationReceived event"
        if self.received is not None:
            try:
                self.periods = Periods.model_validate(self.received.payload.get("periods"))
            except ValidationError as error:
                self.periods_problem = (
                    f"{ref(self.received)} does not state the periods ({error.errors()[0]['msg']})"
                )
        self.acceptance = next(
            (e for e in events if e.type in ("ApplicationAccepted", "ApplicationDeemedAccepted")),
            None,
        )
        self.decision = next((e for e in events if e.type in DECISIONS), None)

    @property
    def last(self) -> RecordedEvent | None:
        return self.events[-1] if self.events else None

    def of_type(self, *types: str) -> list[RecordedEvent]:
        return [e for e in self.events if e.type in types]

    def notices(self, kind: NoticeKind) -> list[tuple[RecordedEvent, dict[str, Any]]]:
        found = []
        for e in self.of_type("NoticeIssued"):
            notice = e.payload.get("notice")
            if isinstance(notice, dict) and notice.get("kind") == kind.value:
                found.append((e, notice))
        return found

    def last_day(self, start: datetime, wd: int) -> date:
        """The last working day of a period of ``wd`` WD counted from the day after ``start``."""
        return self.calendar.add_working_days(_day(start), wd)[0]

    def left_at(self, moment: datetime, last_day: date) -> int:
        """Working days left after ``moment``'s day up to ``last_day`` (0 once it is past)."""
        return self.calendar.working_days_between(_day(moment), last_day)

    def passed(self, due: datetime) -> RecordedEvent | None:
        """The last event, if the record reaches ``due``: the period ended within the record."""
        last = self.last
        return last if last is not None and last.at >= due else None


# ---- replaying the periods --------------------------------------------------------------------


@dataclass
class _TaskPeriod:
    """One running period of a department's review task: from its dispatch, or from the
    resumption after the supplement, to the event that closed it."""

    department: str
    round: int
    opened: RecordedEvent
    wd: int
    last_day: date
    stopped_by: RecordedEvent | None = None
    """For a resumed period: the event that stopped the period before (the department's
    request, or ClocksStopped)."""
    left_before: date | None = None
    """For a resumed period: the last day of the period before the stop."""
    forwarded: RecordedEvent | None = None
    """For a resumed period: the SupplementForwarded that started the department's new round."""
    closed: RecordedEvent | None = None
    stray: list[RecordedEvent] = field(default_factory=list)

    @property
    def due(self) -> datetime:
        return _end_of(self.last_day)

    @property
    def label(self) -> str:
        return f"{self.department} round {self.round}"


@dataclass
class _Tasks:
    """Every task period of the case, and events that concern no running period."""

    periods: list[_TaskPeriod] = field(default_factory=list)
    orphans: list[tuple[RecordedEvent, str]] = field(default_factory=list)
    """(event, why) for deadline events and approvals that have no period to close."""


def _dispatched_last_day(
    record: _Record, periods: Periods, dispatched: RecordedEvent, wd: int
) -> date:
    """A dispatched review's last day: its own period, or, where reviews are capped, the
    case's last day as recorded before the dispatch if that comes first."""
    own = record.last_day(dispatched.at, wd)
    if not periods.reviews_capped:
        return own
    case_days = [
        date.fromisoformat(str(e.payload["due"]))
        for e in record.events
        if e.seq < dispatched.seq and e.type in CASE_DUE_EVENTS and e.payload.get("due")
    ]
    return min(own, case_days[-1]) if case_days and case_days[-1] > _day(dispatched.at) else own


def _replay_tasks(record: _Record) -> _Tasks:
    """Follow each department's task through the record, counting its periods by calendar."""
    tasks = _Tasks()
    periods = record.periods
    if periods is None:
        return tasks
    open_: dict[str, _TaskPeriod] = {}
    waiting: dict[str, tuple[int, RecordedEvent, _TaskPeriod]] = {}
    deemed: set[str] = set()
    forwarded: dict[str, RecordedEvent] = {}
    for e in record.events:
        dept = str(e.payload.get("department", ""))
        if e.type == "ReviewTaskDispatched":
            wd = periods.reviews.get(dept, 0)
            period = _TaskPeriod(
                department=dept,
                round=int(e.payload.get("round", 1)),
                opened=e,
                wd=wd,
                last_day=_dispatched_last_day(record, periods, e, wd),
            )
            tasks.periods.append(period)
            open_[dept] = period
        elif e.type in (*HUMAN_ANSWERS, "ReviewTaskCancelled"):
            if e.type == "ReviewApproved" and dept in deemed:
                tasks.orphans.append((e, f"{dept} was already deemed approved"))
            answered = open_.pop(dept, None)
            if e.type == "ReviewTaskCancelled":
                waiting.pop(dept, None)
            if answered is None:
                continue
            answered.closed = e
            if e.type == "ReviewSupplementRequested" and e.at < answered.due:
                waiting[dept] = (record.left_at(e.at, answered.last_day), e, answered)
        elif e.type in ("ReviewDeemedApproved", "ReviewEscalated"):
            ended = open_.pop(dept, None)
            if ended is None:
                tasks.orphans.append((e, f"{dept} had no running review period"))
                continue
            ended.closed = e
            if e.type == "ReviewDeemedApproved":
                deemed.add(dept)
        elif e.type == "SupplementForwarded":
            forwarded[dept] = e
        elif e.type == "ClocksStopped":
            for dept_open, period in list(open_.items()):
                period.closed = e
                waiting[dept_open] = (record.left_at(e.at, period.last_day), e, period)
                del open_[dept_open]
        elif e.type == "ClocksResumed":
            for dept_waiting, (left, stop, before) in waiting.items():
                period = _TaskPeriod(
                    department=dept_waiting,
                    round=before.round + 1 if stop.type != "ClocksStopped" else before.round,
                    opened=e,
                    wd=left,
                    last_day=record.last_day(e.at, left),
                    stopped_by=stop,
                    left_before=before.last_day,
                    forwarded=forwarded.pop(dept_waiting, None),
                )
                tasks.periods.append(period)
                open_[dept_waiting] = period
            waiting.clear()
    return tasks


@dataclass
class _Stop:
    """One stop of the case's clocks, as the case period saw it."""

    stopped: RecordedEvent
    left: int | None
    """WD the case period had left; None if it was not running (expired)."""
    last_day_before: date | None
    resumed: RecordedEvent | None = None
    last_day_after: date | None = None
    extended_wd: int = 0
    """WD added by an extension during the stop."""


@dataclass
class _CaseClock:
    """The case's own period (承诺时限) as the record shows it, counted by calendar."""

    accepted: RecordedEvent
    as_of: datetime
    first_last_day: date
    last_day: date | None
    left: int | None = None
    expired: bool = False
    stops: list[_Stop] = field(default_factory=list)
    extensions: list[tuple[RecordedEvent, date | None, int | None]] = field(default_factory=list)
    """(CaseExtended, last day after it or None while stopped, WD left after it if stopped)."""
    expiries: list[tuple[RecordedEvent, datetime | None]] = field(default_factory=list)
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
    as_of = _parse_instant(accepted.payload.get("as_of")) or accepted.at
    first = record.last_day(as_of, periods.committed_wd)
    clock = _CaseClock(accepted=accepted, as_of=as_of, first_last_day=first, last_day=first)
    in_stop = False
    for e in record.events:
        if e.seq <= accepted.seq:
            continue
        if e.type in DECISIONS or e.type == "CaseClosed":
            break
        if e.type == "ClocksStopped":
            in_stop = True
            clock.stops.append(_stop_case_clock(record, clock, e))
        elif e.type == "ClocksResumed" and clock.stops and clock.stops[-1].resumed is None:
            in_stop = False
            stop = clock.stops[-1]
            stop.resumed = e
            if clock.left is not None:
                clock.last_day, clock.left = record.last_day(e.at, clock.left), None
            stop.last_day_after = clock.last_day
        elif e.type == "CaseExtended":
            extra = _int(e.payload.get("extra_wd"))
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
        elif e.type == "CasePeriodExpired":
            clock.expiries.append((e, clock.due))
            clock.expired = True
    clock.decision_last_day = clock.last_day
    return clock


def _stop_case_clock(record: _Record, clock: _CaseClock, stop: RecordedEvent) -> _Stop:
    before = clock.last_day
    if clock.expired or before is None:
        return _Stop(stopped=stop, left=None, last_day_before=before)
    clock.left, clock.last_day = record.left_at(stop.at, before), None
    return _Stop(stopped=stop, left=clock.left, last_day_before=before)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _stop_windows(record: _Record) -> list[tuple[RecordedEvent, RecordedEvent | None]]:
    """(ClocksStopped, the ClocksResumed that ended it or None) in order."""
    windows: list[tuple[RecordedEvent, RecordedEvent | None]] = []
    for e in record.events:
        if e.type == "ClocksStopped":
            windows.append((e, None))
        elif e.type == "ClocksResumed" and windows and windows[-1][1] is None:
            windows[-1] = (windows[-1][0], e)
    return windows


# ---- R3 one-time notice ------------------------------------------------------------------------

_WINDOW_ANSWERS = ("OneTimeNoticeIssued", "ApplicationAccepted", "ApplicationNotAccepted")


def _check_r3(record: _Record) -> RuleResult:
    """R3: the window answered (notice, acceptance or non-acceptance) within the notice period
    of the receipt or of the supplement that reopened the check, or a deemed acceptance as of
    that instant was recorded once it ended; the first notice lists every missing item and a
    later one names only items of the first."""
    found = _Findings("R3")
    received, periods = record.received, record.periods
    if received is None and (
        not record.events or record.events[0].type == "ApplicationNotAccepted"
    ):
        if record.events:
            found.note(f"{ref(record.events[0])}: refused at once, nothing was received (R1)")
        return found.result()
    if received is None or periods is None:
        found.bad(f"cannot check the window: {record.periods_problem}")
        return found.result()
    wd = periods.notice_wd
    start: RecordedEvent | None = received
    decided = False
    for e in record.events:
        if e.seq <= received.seq or decided:
            continue
        if start is None:
            if e.type == "SupplementReceived":
                start = e
            continue
        last_day = record.last_day(start.at, wd)
        if e.type in _WINDOW_ANSWERS:
            if e.at < _end_of(last_day):
                found.ok(f"{ref(e)}: within {wd} WD of {ref(start)} (last day {last_day})")
            else:
                found.bad(
                    f"{ref(e)}: after the {wd} WD window of {ref(start)} ended "
                    f"(last day {last_day}), and no deemed acceptance was recorded"
                )
            decided = e.type != "OneTimeNoticeIssued"
            start = None
        elif e.type == "ApplicationDeemedAccepted":
            _check_deemed_acceptance(found, e, start, last_day, wd)
            decided, start = True, None
        elif e.type in ("CaseWithdrawn", "CaseLapsed"):
            found.note(f"{ref(e)}: the check ended without an answer")
            decided, start = True, None
    if start is not None and not decided:
        last_day = record.last_day(start.at, wd)
        reached = record.passed(_end_of(last_day))
        if reached is not None:
            found.bad(
                f"the {wd} WD window of {ref(start)} ended (last day {last_day}); the record "
                f"runs to {ref(reached)} without a notice, acceptance or deemed acceptance"
            )
        else:
            found.ok(f"so far on time: the window of {ref(start)} is open until {last_day}")
    _check_intake_notices(found, record, received)
    return found.result()


def _check_deemed_acceptance(
    found: _Findings, e: RecordedEvent, start: RecordedEvent, last_day: date, wd: int
) -> None:
    as_of = _parse_instant(e.payload.get("as_of"))
    if e.at < _end_of(last_day):
        found.bad(f"{ref(e)}: deemed accepted before the window ended (last day {last_day})")
    elif as_of != start.at:
        stated = when(as_of) if as_of else "no date"
        found.bad(f"{ref(e)}: deemed accepted as of {stated}, not as of {ref(start)}")
    else:
        found.ok(
            f"{ref(e)}: the window was silent for {wd} WD (last day {last_day}); deemed "
            f"accepted as of {when(as_of)} ({ref(start)})"
        )


def _check_intake_notices(found: _Findings, record: _Record, received: RecordedEvent) -> None:
    notices = record.of_type("OneTimeNoticeIssued")
    if not notices:
        return
    first, *later = notices
    first_codes = _codes(first.payload.get("items"))
    missing = [str(c) for c in received.payload.get("missing", []) or []]
    left_out = sorted(set(missing) - set(first_codes))
    if left_out:
        found.bad(
            f"{ref(first)}: the first notice leaves out {left_out}, missing at {ref(received)}"
        )
    else:
        found.ok(f"{ref(first)}: the first notice lists every missing item {sorted(first_codes)}")
    for e in later:
        new = sorted(set(_codes(e.payload.get("items"))) - set(first_codes))
        if new:
            found.bad(f"{ref(e)}: a later notice names {new}, not in the first notice")
        else:
            found.ok(f"{ref(e)}: a later notice names only items of the first notice")


# ---- R9 silent consent -----------------------------------------------------------------------


def _check_r9(record: _Record, tasks: _Tasks) -> RuleResult:
    """R9: every review period that ended unanswered was closed as deemed approved (silent
    consent) or escalated (silent consent excluded), at or after its end, recorded as overdue
    and by the engine; a deemed approval is never also shown as a plain approval."""
    found = _Findings("R9")
    periods = record.periods
    if periods is None:
        if record.of_type("ReviewTaskDispatched"):
            found.bad(f"cannot check the review periods: {record.periods_problem}")
        return found.result()
    silent = periods.silent_consent
    found.note(
        "silent consent applies (超时默认)" if silent else "silent consent excluded: escalate"
    )
    for period in tasks.periods:
        _check_task_period(found, record, period, silent)
    for e, why in tasks.orphans:
        if e.type == "ReviewApproved":
            found.bad(f"{ref(e)}: a plain approval although {why}")
        else:
            found.bad(f"{ref(e)}: {why}")
    for e in record.of_type("ReviewApproved"):
        dept = e.payload.get("department")
        if e.actor_role != "reviewer" or e.actor_department != dept:
            found.bad(
                f"{ref(e)}: approval of {dept} recorded by {e.actor_role} {e.actor_id}: a "
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
    if closed.type in ("ReviewDeemedApproved", "ReviewEscalated"):
        expected = "ReviewDeemedApproved" if silent else "ReviewEscalated"
        if closed.type != expected:
            found.bad(f"{ref(closed)}: {ends} ended unanswered and should give {expected}")
        elif closed.at < due and period.stopped_by is None:
            found.bad(f"{ref(closed)}: before {ends} ended")
        elif closed.at < due:
            found.note(f"{ref(closed)}: before the resumed {ends} ended (see R12)")
        elif closed.payload.get("overdue") is not True:
            found.bad(f"{ref(closed)}: the department is not recorded as overdue")
        elif closed.actor_role != "system":
            found.bad(f"{ref(closed)}: recorded by {closed.actor_role}, not by the engine")
        elif closed.at >= due:
            verb = "deemed approved" if silent else "escalated to the supervisor"
            found.ok(f"{ref(closed)}: {ends} ended unanswered; {verb}, recorded as overdue")
        return
    if closed.at >= due and closed.type != "ClocksStopped":
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
    asked: dict[str, tuple[RecordedEvent, list[str]]] = {}
    notice_open: RecordedEvent | None = None
    notified: list[str] = []
    for e in record.events:
        if e.type == "ReviewSupplementRequested":
            dept, codes = str(e.payload.get("department")), _codes(e.payload.get("items"))
            asked[dept] = (e, codes)
            if first_codes is not None:
                new = sorted(set(codes) - set(first_codes))
                if new:
                    found.bad(f"{ref(e)}: {dept} asks for {new}, not in the first notice")
                else:
                    found.ok(f"{ref(e)}: {dept} asks again only for items of the first notice")
        elif e.type == "ConsolidatedNoticeIssued":
            if notice_open is not None:
                found.bad(
                    f"{ref(e)}: a second consolidated notice in the round of {ref(notice_open)}"
                )
            _check_consolidated_notice(found, record, tasks, e, asked)
            if first_codes is None:
                first_codes = _codes(e.payload.get("items"))
            notice_open, notified = e, [str(d) for d in e.payload.get("departments", []) or []]
            asked = {}
        elif e.type == "SupplementReceived" and notice_open is not None:
            _check_forwarding(found, record, e, notified)
        elif e.type == "ClocksResumed":
            notice_open = None
        elif e.type == "ActionRefused" and "R11" in _text(e.payload.get("reason")):
            found.ok(f"{ref(e)}: refused and recorded — {_text(e.payload.get('reason'))}")
    return found.result()


def _check_forwarding(
    found: _Findings, record: _Record, supplement: RecordedEvent, notified: list[str]
) -> None:
    resumed = next((r for r in record.of_type("ClocksResumed") if r.seq > supplement.seq), None)
    forwarded = {
        str(f.payload.get("department"))
        for f in record.of_type("SupplementForwarded")
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
    notice: RecordedEvent,
    asked: dict[str, tuple[RecordedEvent, list[str]]],
) -> None:
    codes = set(_codes(notice.payload.get("items")))
    departments = {str(d) for d in notice.payload.get("departments", []) or []}
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
        e
        for e, facts in record.notices(NoticeKind.CONSOLIDATED_NOTICE)
        if e.seq > notice.seq and set(_codes(facts.get("items"))) == codes
    ]
    if not written:
        problems.append("no written consolidated notice with these items was issued")
    for problem in problems:
        found.bad(f"{ref(notice)}: {problem}")
    if not problems:
        notice_no = written[0].payload["notice"].get("notice_no")
        found.ok(
            f"{ref(notice)}: one notice of {sorted(codes)} for {sorted(departments)}, "
            f"written as {notice_no} ({ref(written[0])})"
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
            for e in record.of_type("NoticeIssued")
            if e.seq > stopped.seq and (resumed is None or e.seq < resumed.seq)
        ]
        if not told:
            found.bad(f"{ref(stopped)}: no written notice to the applicant during the stop")
    if clock is not None:
        _check_case_clock_resumptions(found, record, clock)
    for period in tasks.periods:
        if period.stopped_by is not None:
            _check_resumed_task(found, period)
    return found.result()


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
    stated = _parse_instant(period.forwarded.payload.get("due")) if period.forwarded else None
    closed = period.closed
    if stated is not None and stated != period.due:
        found.bad(f"{story}, but the record states {when(stated)}")
    elif closed is not None and closed.type in DEADLINE_EVENTS and closed.at < period.due:
        found.bad(
            f"{story}, but {ref(closed)} came before it: the task resumed with fewer working "
            "days than it had left"
        )
    else:
        found.ok(story)


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
    stated = _parse_day(clock.accepted.payload.get("due"))
    if stated is not None and stated != clock.first_last_day:
        found.note(
            f"{ref(clock.accepted)} states the last day {stated}"
            f"{' (provisional)' if clock.accepted.payload.get('provisional') else ''}; "
            f"the calendar now counts {clock.first_last_day}"
        )
    _check_extensions(found, record, clock, periods)
    _check_decision_time(found, record, clock)
    return found.result()


def _check_extensions(
    found: _Findings, record: _Record, clock: _CaseClock, periods: Periods
) -> None:
    for index, (e, last_day, left) in enumerate(clock.extensions):
        extra = e.payload.get("extra_wd")
        if index:
            found.bad(f"{ref(e)}: a second extension (the first was {ref(clock.extensions[0][0])})")
        if extra != periods.extension_wd:
            found.bad(f"{ref(e)}: extended by {extra} WD, not by {periods.extension_wd} WD")
        if not _text(e.payload.get("reason")):
            found.bad(f"{ref(e)}: the extension states no reason")
        written = [
            (n, facts)
            for n, facts in record.notices(NoticeKind.EXTENSION_NOTICE)
            if n.seq > e.seq and _text(facts.get("reason")) == _text(e.payload.get("reason"))
        ]
        if not written:
            found.bad(f"{ref(e)}: the reason was not sent to the applicant (no extension notice)")
            continue
        notice, facts = written[0]
        stated = _parse_day(facts.get("due"))
        if stated is not None and last_day is not None and stated != last_day:
            found.bad(f"{ref(notice)}: states the last day {stated}; counted: {last_day}")
        if index == 0 and extra == periods.extension_wd and _text(e.payload.get("reason")):
            after = f"last day {last_day}" if last_day else f"{left} WD left while stopped"
            found.ok(f"{ref(e)}: extended once by {extra} WD → {after}; told in {ref(notice)}")


def _check_decision_time(found: _Findings, record: _Record, clock: _CaseClock) -> None:
    for e, due in clock.expiries:
        if due is not None and e.at < due:
            found.bad(f"{ref(e)}: the case period was recorded expired before its end {when(due)}")
    last_day, decision = clock.decision_last_day, record.decision
    due = _end_of(last_day) if last_day else None
    if decision is None:
        closed = next((e for e in record.of_type("CaseWithdrawn", "CaseLapsed")), None)
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
    rejected = {str(e.payload.get("department")): e for e in before if e.type == "ReviewRejected"}
    deemed = {
        str(e.payload.get("department")): e for e in before if e.type == "ReviewDeemedApproved"
    }
    if decision.type == "CaseRejected":
        _check_rejection(found, record, decision, rejected)
    else:
        for dept, e in sorted(rejected.items()):
            found.bad(f"{ref(decision)}: approved although {dept} rejected at {ref(e)}")
        _check_approval(found, record, decision, deemed)
    return found.result()


def _check_rejection(
    found: _Findings,
    record: _Record,
    decision: RecordedEvent,
    rejected: dict[str, RecordedEvent],
) -> None:
    stated = decision.payload.get("rejections")
    stated = stated if isinstance(stated, dict) else {}
    if not rejected:
        found.bad(f"{ref(decision)}: rejected, but no department rejected")
    for dept, e in sorted(rejected.items()):
        reasons = _text(e.payload.get("reasons"))
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
    written = [
        (e, n) for e, n in record.notices(NoticeKind.REJECTION_DECISION) if e.seq > decision.seq
    ]
    if not written:
        found.bad(f"{ref(decision)}: no written rejection decision (不予行政许可决定书) was issued")
        return
    notice_event, facts = written[0]
    given = Counter(_text(r.get("reasons")) for r in facts.get("rejections", []) or [])
    expected = Counter(_text(e.payload.get("reasons")) for e in rejected.values())
    if given != expected:
        missing = sorted((expected - given).elements())
        found.bad(f"{ref(notice_event)}: the written decision leaves out the reasons {missing}")
    else:
        found.ok(f"{ref(notice_event)}: the written decision gives every department's reasons")
    try:
        body = render_notice(Notice.model_validate(facts), _AUDIT_CENTRE).body
    except (ValidationError, ValueError) as error:
        found.bad(f"{ref(notice_event)}: the written decision cannot be rendered: {error}")
        return
    if "行政复议" in body and "行政诉讼" in body:
        found.ok(f"{ref(notice_event)}: states the right to 行政复议 (60 days) and 行政诉讼")
    else:
        found.bad(f"{ref(notice_event)}: does not state the applicant's remedies")


def _check_approval(
    found: _Findings,
    record: _Record,
    decision: RecordedEvent,
    deemed: dict[str, RecordedEvent],
) -> None:
    stated = {str(d) for d in decision.payload.get("deemed_departments", []) or []}
    for dept, e in sorted(deemed.items()):
        if dept not in stated:
            found.bad(f"{ref(decision)}: does not list {dept}, deemed approved at {ref(e)}")
    for dept in sorted(stated - set(deemed)):
        found.bad(f"{ref(decision)}: lists {dept} as deemed, but no ReviewDeemedApproved")
    if stated == set(deemed):
        listed = f"the deemed departments {sorted(stated)}" if stated else "no deemed department"
        found.ok(f"{ref(decision)}: lists {listed}, as the record shows")
    written = [
        (e, n) for e, n in record.notices(NoticeKind.APPROVAL_DECISION) if e.seq > decision.seq
    ]
    if not written:
        found.bad(f"{ref(decision)}: no written approval decision (准予行政许可决定书) was issued")
        return
    notice_event, facts = written[0]
    named = list(facts.get("deemed_departments", []) or [])
    if len(named) != len(deemed):
        found.bad(
            f"{ref(notice_event)}: the written decision names {len(named)} deemed "
            f"department(s) {named}; the record has {len(deemed)}"
        )
    else:
        found.ok(f"{ref(notice_event)}: the written decision names {len(named)} deemed")


# ---- R16 delivery -----------------------------------------------------------------------------


def _check_r16(record: _Record) -> RuleResult:
    """R16: after an approval the certificate is issued and delivered within the delivery period,
    or the delivery is recorded overdue when that period ends."""
    found = _Findings("R16")
    approval = next(iter(record.of_type("CaseApproved")), None)
    if approval is None:
        return found.result()
    if record.periods is None:
        found.bad(f"cannot count the delivery period: {record.periods_problem}")
        return found.result()
    wd = record.periods.delivery_wd
    last_day = record.last_day(approval.at, wd)
    due = _end_of(last_day)
    found.note(f"{ref(approval)}: delivery due within {wd} WD, last day {last_day}")
    overdue = [e for e in record.of_type("DeliveryOverdue") if e.seq > approval.seq]
    for e in overdue:
        if e.at < due:
            found.bad(f"{ref(e)}: recorded overdue before the period ended (last day {last_day})")
    delivered = next((e for e in record.of_type("ResultDelivered") if e.seq > approval.seq), None)
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
        (e for e in record.of_type("CertificateIssued") if approval.seq < e.seq < delivered.seq),
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
