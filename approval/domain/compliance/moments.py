"""Instants and days as the checks count them: Shanghai time, periods' ends, stated dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from approval.domain.calendar import SHANGHAI

_ONE_DAY = timedelta(days=1)


def when(moment: datetime) -> str:
    """An instant as people read it in Shanghai: ``2026-11-28 09:30``."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


TIMER_LATENCY = timedelta(minutes=1)
"""How long after a deadline the engine may record what the deadline caused: a decision made
by the silent consent at the very end of the period is in time (R9, R13)."""


def _end_of(last_day: date) -> datetime:
    """The instant a period whose last working day is ``last_day`` ends (R17)."""
    return datetime.combine(last_day + _ONE_DAY, time(), tzinfo=SHANGHAI)


def _aware(moment: datetime | None) -> datetime | None:
    """A moment the record states, if it states its offset (a naive one cannot be placed)."""
    return moment if moment is not None and moment.utcoffset() is not None else None
