"""The record of one case as the checks read it: its events, its periods, its facts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from approval.domain.calendar import WorkingCalendar
from approval.domain.compliance.moments import _day, when
from approval.domain.events import CaseEventBase
from approval.domain.notices import NoticeKind

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


ABSENCE_CONSENT = "ReviewDeemedApprovedInAbsence"
"""A department deemed to agree by absence from a joint review meeting (R10)."""
EXCLUDED_PERIOD = "excluded_period"
"""The ``after`` of a ClocksResumed that ends an excluded period (art. 45, R12)."""

CASE_DUE_EVENTS = ("ApplicationAccepted", "ApplicationDeemedAccepted")
"""Events that state the case's last day in their ``due``."""


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
    def from_case_event(cls, event: CaseEventBase) -> RecordedEvent:
        """The event as the store records it (payload as JSON data)."""
        return cls(
            seq=event.seq,
            type=event.type,
            at=event.at,
            actor_role=event.actor.role.value,
            actor_id=event.actor.id,
            actor_department=event.actor.department,
            payload=event.payload(),
        )


def as_recorded(events: Iterable[object]) -> list[RecordedEvent]:
    """Domain events, store rows or recorded events, as recorded events in seq order."""
    return sorted((_adapt(e) for e in events), key=lambda e: e.seq)


def _adapt(event: object) -> RecordedEvent:
    if isinstance(event, RecordedEvent):
        return event
    if isinstance(event, CaseEventBase):
        return RecordedEvent.from_case_event(event)
    return RecordedEvent.model_validate(event)


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


def ref(event: RecordedEvent) -> str:
    """An event as evidence cites it: ``seq 7 ReviewApproved 2026-03-02 10:00``."""
    return f"seq {event.seq} {event.type} {when(event.at)}"


def _codes(items: object) -> list[str]:
    """The material codes of a list of notice items (``[{code, reason}]``)."""
    if not isinstance(items, list):
        return []
    return [str(i.get("code")) for i in items if isinstance(i, dict)]


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


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
