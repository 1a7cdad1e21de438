"""The working-day calendar (R17): pure computations over calendar data.

Periods are counted in working days (WD) in Asia/Shanghai. The start day is not counted
(民法典 art. 201); weekends and statutory holidays are excluded; make-up working days (调休)
count unless the data says otherwise; a deadline is the end of its last WD. A year without an
official schedule is counted by its weekends and the statutory holidays the law itself fixes
(``fallback_holidays``, computed by ``approval.domain.statutory_holidays``), and any result that
counts one of its days is provisional: the yearly schedule's bridging days and 调休 are unknown.

This module does no I/O and reads no clock, so workflows may use it: the data is loaded by an
activity (``approval.calendar_source``) and handed over as a ``CalendarData`` model.

Counting is done by rank: the rank of a day is the number of working days from the beginning
of the calendar up to and including it. Ranks come from weekday arithmetic plus a prefix sum
over the few days whose status differs from Monday-to-Friday, so adding or counting working
days costs a few binary searches, whatever the distance.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Self
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_serializer, model_validator

SHANGHAI = ZoneInfo("Asia/Shanghai")
_ONE_DAY = timedelta(days=1)


class CalendarData(BaseModel):
    """The official schedules of the known years, as loaded by an activity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    known_years: tuple[int, ...]
    """Years whose official schedule is known; other years are counted by weekends only."""
    holidays: frozenset[date]
    """Statutory holidays, on whatever day of the week they fall."""
    makeup_workdays: frozenset[date]
    """Weekend days that are working days (调休)."""
    count_makeup_workdays: bool = True
    source: str
    """Where the data came from, for the record."""
    fallback_holidays: frozenset[date] = frozenset()
    """Statutory holidays (全国年节及纪念日放假办法) of years outside ``known_years``: days off
    although those years stay provisional. Empty in the data of cases received before the
    fallback knew the law, which count those years by weekends only, as they did."""

    @field_serializer("holidays", "makeup_workdays", "fallback_holidays")
    def _sorted(self, days: frozenset[date]) -> list[date]:
        """Serialise day sets as sorted lists, so the payload does not depend on hash order."""
        return sorted(days)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Refuse a day that is both holiday and make-up day, a scheduled day in an unknown
        year, or a fallback holiday in a known one."""
        both = self.holidays & self.makeup_workdays
        if both:
            raise ValueError(f"{min(both)} is both a holiday and a make-up working day")
        stray = [d for d in self.holidays | self.makeup_workdays if d.year not in self.known_years]
        if stray:
            raise ValueError(f"{min(stray)} lies in a year that is not in known_years")
        scheduled = [d for d in self.fallback_holidays if d.year in self.known_years]
        if scheduled:
            raise ValueError(f"fallback holiday {min(scheduled)} lies in a year in known_years")
        return self


class Deadline(BaseModel):
    """The end of a period: its last working day and the instant that day ends."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    last_day: date
    due: AwareDatetime
    """Midnight (00:00 Asia/Shanghai) after ``last_day``."""
    provisional: bool
    """True if a counted day lies in a year whose official schedule is unknown."""


def _weekdays_through(ordinal: int) -> int:
    """Number of Mondays to Fridays among the days with ordinals 1..``ordinal``.

    Ordinal 1 (0001-01-01) is a Monday, so every block of seven starts on a Monday.
    """
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


def _nth_weekday(count: int) -> int:
    """Ordinal of the ``count``-th Monday-to-Friday day (the inverse of ``_weekdays_through``)."""
    weeks, rest = divmod(count - 1, 5)
    return 7 * weeks + rest + 1


def _shanghai_date(moment: datetime) -> date:
    """The calendar date of an aware ``moment`` in Asia/Shanghai; naive datetimes are refused."""
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: a timezone is required")
    return moment.astimezone(SHANGHAI).date()


class WorkingCalendar:
    """Working-day arithmetic over one ``CalendarData`` (R17)."""

    def __init__(self, data: CalendarData) -> None:
        """Index the days whose status differs from the Monday-to-Friday rule."""
        self.data = data
        self._known = frozenset(data.known_years)
        changes = [
            (day.toordinal(), int(self.is_working_day(day)) - int(day.weekday() < 5))
            for day in sorted(data.holidays | data.makeup_workdays | data.fallback_holidays)
        ]
        changes = [(ordinal, delta) for ordinal, delta in changes if delta]
        self._change_days = [ordinal for ordinal, _ in changes]
        self._change_totals = list(accumulate(delta for _, delta in changes))

    def is_known_year(self, year: int) -> bool:
        """Whether the official schedule of ``year`` is known."""
        return year in self._known

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day; unknown years have their weekends and fallback
        holidays off."""
        if self.is_known_year(day.year):
            if day in self.data.makeup_workdays:
                return self.data.count_makeup_workdays
            if day in self.data.holidays:
                return False
        elif day in self.data.fallback_holidays:
            return False
        return day.weekday() < 5

    def _rank(self, ordinal: int) -> int:
        """Number of working days from the start of the calendar up to and including ``ordinal``."""
        index = bisect_right(self._change_days, ordinal)
        return _weekdays_through(ordinal) + (self._change_totals[index - 1] if index else 0)

    def _provisional(self, first: date, last: date) -> bool:
        """Whether any day from ``first`` to ``last`` lies in an unknown year."""
        return any(not self.is_known_year(year) for year in range(first.year, last.year + 1))

    def add_working_days(self, start: date, days: int) -> tuple[date, bool]:
        """The ``days``-th working day after ``start`` (not counted), and whether it is provisional.

        ``days == 0`` gives ``start`` itself, provisional only if its year is unknown.
        """
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        first = start.toordinal()
        target = self._rank(first) + days
        high = first
        while (missing := target - self._rank(high)) > 0:
            # at least `missing` more weekdays are needed: jump to the first day that has them
            high = _nth_weekday(_weekdays_through(high) + missing)
        found = first + bisect_left(range(first, high + 1), target, key=self._rank)
        end = date.fromordinal(found)
        return end, self._provisional(start + _ONE_DAY if days else start, end)

    def deadline(self, start: datetime | date, days: int) -> Deadline:
        """The deadline ``days`` working days after ``start`` (an aware datetime or a date)."""
        day = _shanghai_date(start) if isinstance(start, datetime) else start
        last_day, provisional = self.add_working_days(day, days)
        due = datetime.combine(last_day + _ONE_DAY, time(), tzinfo=SHANGHAI)
        return Deadline(last_day=last_day, due=due, provisional=provisional)

    def working_day_before(self, day: date, count: int) -> date:
        """The working day ``count`` working days before ``day``: ``day`` itself for 0 when it
        is a working day (else the last working day before it)."""
        found, seen = day, 0
        while not self.is_working_day(found) or seen < count:
            seen += self.is_working_day(found)
            found -= _ONE_DAY
        return found

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days ``d`` with ``start < d <= end`` (0 if ``end <= start``)."""
        if end <= start:
            return 0
        return self._rank(end.toordinal()) - self._rank(start.toordinal())

    def remaining_working_days(self, now: datetime, deadline: Deadline) -> int:
        """Working days left after today (Shanghai) up to and including ``deadline.last_day``.

        Zero on the last day itself. Once ``now >= deadline.due`` the result is negative:
        minus the working days elapsed after ``last_day`` up to and including today, but at
        least 1, so a deadline that has passed never reads as 0 (e.g. on the weekend after a
        Friday deadline it is -1, as on the Monday).
        """
        today = _shanghai_date(now)
        if today <= deadline.last_day:
            return self.working_days_between(today, deadline.last_day)
        return -max(1, self.working_days_between(deadline.last_day, today))
