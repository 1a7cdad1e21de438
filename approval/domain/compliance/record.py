"""The record of one case as the checks read it: its events, its periods, its facts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import TypeVar

from approval.domain.calendar import WorkingCalendar
from approval.domain.compliance.labels import event_label
from approval.domain.compliance.moments import _day, when
from approval.domain.events import (
    DECISION_EVENTS,
    ApplicationAccepted,
    ApplicationDeemedAccepted,
    ApplicationReceived,
    CaseApproved,
    CaseEvent,
    CaseEventBase,
    CaseRejected,
    NoticeIssued,
    ReceivedPeriods,
)
from approval.domain.models import NoticeItem
from approval.domain.notices import Notice, NoticeKind

E = TypeVar("E", bound=CaseEventBase)

CASE_DUE_EVENTS = (ApplicationAccepted, ApplicationDeemedAccepted)
"""Events that state the case's last day in their ``due``."""


SEQ_CITED = re.compile(r"第 (\d+) 号事件")
"""How an evidence line cites an event: by its seq (``ref``)."""


def ref(event: CaseEventBase) -> str:
    """An event as evidence cites it: ``第 7 号事件（部门同意，2026-03-02 10:00）``."""
    return f"第 {event.seq} 号事件（{event_label(event.type)}，{when(event.at)}）"


def cited(evidence: Iterable[str]) -> list[int]:
    """The seq of every event the evidence lines cite, in order, once each."""
    seqs = (int(seq) for line in evidence for seq in SEQ_CITED.findall(line))
    return list(dict.fromkeys(seqs))


def _codes(items: Iterable[NoticeItem]) -> list[str]:
    """The material codes of notice items."""
    return [i.code for i in items]


def _text(value: str | None) -> str:
    return value.strip() if value is not None else ""


class _Record:
    """The events of one case in seq order, with the facts every check needs."""

    def __init__(self, events: list[CaseEvent], calendar: WorkingCalendar) -> None:
        self.events = events
        self.calendar = calendar
        self.received = next((e for e in events if isinstance(e, ApplicationReceived)), None)
        self.periods: ReceivedPeriods | None = (
            self.received.periods if self.received is not None else None
        )
        self.periods_problem = "记录中没有「收件」事件"
        self.acceptance = next((e for e in events if isinstance(e, CASE_DUE_EVENTS)), None)
        self.decision: CaseApproved | CaseRejected | None = next(
            (e for e in events if isinstance(e, DECISION_EVENTS)), None
        )

    @property
    def last(self) -> CaseEvent | None:
        return self.events[-1] if self.events else None

    def of_type(self, *kinds: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kinds)]

    def notices(self, kind: NoticeKind) -> list[tuple[NoticeIssued, Notice]]:
        """The written notices of ``kind``, each with its facts as issued."""
        return [(e, e.notice) for e in self.of_type(NoticeIssued) if e.notice.kind is kind]

    def last_day(self, start: datetime, wd: int) -> date:
        """The last working day of a period of ``wd`` WD counted from the day after ``start``."""
        return self.calendar.add_working_days(_day(start), wd)[0]

    def left_at(self, moment: datetime, last_day: date) -> int:
        """Working days left after ``moment``'s day up to ``last_day`` (0 once it is past)."""
        return self.calendar.working_days_between(_day(moment), last_day)

    def passed(self, due: datetime) -> CaseEvent | None:
        """The last event, if the record reaches ``due``: the period ended within the record."""
        last = self.last
        return last if last is not None and last.at >= due else None
