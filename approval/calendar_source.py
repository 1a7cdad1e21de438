"""Loading the working-day calendar data (R17): the I/O side, meant to run in an activity.

The built-in data comes from the ``chinese_calendar`` package (version 1.11 knows 2004–2026).
An operator may supply a YAML override file; each year listed in it replaces the built-in data
for that year and becomes known::

    # operator-supplied schedules; each listed year overrides the built-in data for that year
    2027:
      holidays: [2027-01-01, 2027-02-06, 2027-02-07]
      makeup_workdays: [2027-02-14]

``holidays`` lists the statutory holidays, on whatever day of the week they fall;
``makeup_workdays`` lists the weekend days that are working days (调休). Both lists may be
omitted (empty); every date must lie in the year it is listed under, and no day may be in both
lists. A malformed file raises ``InvalidInputError`` naming the file and the bad entry; a file
that does not exist is ignored (logged as ``calendar.override_missing``).

A requested year with neither built-in nor override data does not fail: it is counted by its
weekends and the statutory holidays the law fixes (``approval.domain.statutory_holidays``;
weekends only outside the years that module computes), deadlines that count its days are
provisional, and ``calendar.year_unknown`` is logged. Those notices are logged at info level,
each once per process (not on every command); ``provisional_notice`` is the operator's line.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import chinese_calendar
import structlog
import yaml
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from approval.config import Settings
from approval.domain.calendar import SHANGHAI, CalendarData, WorkingCalendar
from approval.domain.errors import InvalidInputError
from approval.domain.statutory_holidays import STATUTORY_YEARS, statutory_holidays


class _YearSchedule(BaseModel):
    """The official schedule of one year."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    holidays: tuple[date, ...] = ()
    makeup_workdays: tuple[date, ...] = ()


_OVERRIDE_FILE = TypeAdapter(dict[int, _YearSchedule])


def _built_in(year: int) -> _YearSchedule | None:
    """The schedule ``chinese_calendar`` has for ``year``, or None if it has none."""
    try:
        chinese_calendar.is_holiday(date(year, 1, 1))
    except NotImplementedError:
        return None
    return _YearSchedule(
        holidays=tuple(sorted(d for d in chinese_calendar.holidays if d.year == year)),
        makeup_workdays=tuple(sorted(d for d in chinese_calendar.workdays if d.year == year)),
    )


def _read_override(path: Path) -> dict[int, _YearSchedule]:
    """Parse and check an override file; ``InvalidInputError`` names the file and bad entry."""
    field = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
        raise InvalidInputError(field, f"unreadable calendar override: {exc}") from exc
    try:
        schedules = _OVERRIDE_FILE.validate_python({} if raw is None else raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        entry = ".".join(str(part) for part in error["loc"]) or "top level"
        raise InvalidInputError(field, f"bad entry {entry}: {error['msg']}") from exc
    for year, schedule in schedules.items():
        for day in (*schedule.holidays, *schedule.makeup_workdays):
            if day.year != year:
                raise InvalidInputError(field, f"bad entry {year}: {day} is not in {year}")
        both = set(schedule.holidays) & set(schedule.makeup_workdays)
        if both:
            raise InvalidInputError(
                field, f"bad entry {year}: {min(both)} is both a holiday and a make-up working day"
            )
    return schedules


_logged: set[tuple[object, ...]] = set()
"""The calendar notices this process has logged: each is logged once."""


def _log_once(event: str, message_zh: str, **fields: object) -> None:
    """Log a calendar notice (info) unless this process has logged it with these fields."""
    key = (event, *sorted(fields.items()))
    if key not in _logged:
        _logged.add(key)
        structlog.get_logger(__name__).info(event, message_zh=message_zh, **fields)


def _fallback(year: int) -> frozenset[date]:
    """The statutory holidays that stand in for the unknown schedule of ``year``, logged."""
    if year in STATUTORY_YEARS:
        _log_once(
            "calendar.year_unknown",
            f"{year} 年尚无官方节假日安排：按周末和法定节假日暂定计算",
            year=year,
            fallback="statutory holidays",
        )
        return statutory_holidays(year)
    _log_once(
        "calendar.year_unknown",
        f"{year} 年尚无官方节假日安排：只按周末暂定计算",
        year=year,
        fallback="weekends only",
    )
    return frozenset()


def load_calendar_data(
    years: range | Iterable[int], override_path: Path | None, count_makeup_workdays: bool = True
) -> CalendarData:
    """Load the schedules of ``years`` from ``chinese_calendar``, then apply the override file.

    Every year in the override file becomes known, requested or not. Each requested year left
    without data is logged as ``calendar.year_unknown`` and counted by its weekends and
    statutory holidays (``fallback_holidays``).
    """
    requested = sorted(set(years))
    schedules = {year: s for year in requested if (s := _built_in(year)) is not None}
    source = f"chinese-calendar {chinese_calendar.__version__}"
    if override_path is not None:
        if override_path.is_file():
            schedules.update(_read_override(override_path))
            source += f" + override {override_path}"
        else:
            _log_once(
                "calendar.override_missing",
                f"没有节假日覆盖文件 {override_path}：只用内置的官方安排",
                path=str(override_path),
            )
    fallback = frozenset(d for year in requested if year not in schedules for d in _fallback(year))
    if fallback:
        source += f" + statutory holidays {', '.join(sorted({str(d.year) for d in fallback}))}"
    return CalendarData(
        known_years=tuple(sorted(schedules)),
        holidays=frozenset(d for s in schedules.values() for d in s.holidays),
        makeup_workdays=frozenset(d for s in schedules.values() for d in s.makeup_workdays),
        count_makeup_workdays=count_makeup_workdays,
        source=source,
        fallback_holidays=fallback,
    )


def configured_calendar_data(settings: Settings, first_year: int, last_year: int) -> CalendarData:
    """The schedules of ``first_year``–``last_year`` plus the configured years ahead, with the
    configured override file and make-up day rule."""
    span = range(first_year, last_year + settings.calendar_years_ahead + 1)
    override = settings.holiday_override_path
    return _cached_calendar_data(
        span, override, _modified(override), settings.count_makeup_workdays
    )


@functools.lru_cache(maxsize=32)
def _cached_calendar_data(
    span: range, override: Path | None, modified: int | None, count_makeup_workdays: bool
) -> CalendarData:
    """The schedules loaded once per span, override file (as last modified) and rule: every
    case received takes them, and they change only when the override file does."""
    return load_calendar_data(span, override, count_makeup_workdays)


def _modified(path: Path | None) -> int | None:
    """When the file was last written (ns), or None when there is none."""
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except OSError:
        return None


def calendar_spanning(settings: Settings, years: Iterable[int]) -> WorkingCalendar:
    """The configured working-day calendar (R17) over ``years`` (this year if none) and the
    configured years ahead."""
    span = list(years) or [datetime.now(UTC).year]
    return WorkingCalendar(configured_calendar_data(settings, min(span), max(span)))


def calendar_of_events(settings: Settings, events: Iterable[Any]) -> WorkingCalendar:
    """The calendar of the years a case's recorded events span (``at``), and the years ahead."""
    return calendar_spanning(settings, (e.at.astimezone(SHANGHAI).year for e in events))


def provisional_years(settings: Settings) -> tuple[int, ...]:
    """The years from this one through the configured years ahead without an official
    schedule, built in or in the override file: deadlines that count their days are
    provisional (R17)."""
    this_year = datetime.now(UTC).year
    calendar = calendar_spanning(settings, [this_year])
    span = range(this_year, this_year + settings.calendar_years_ahead + 1)
    return tuple(year for year in span if not calendar.is_known_year(year))


def provisional_notice(settings: Settings) -> str | None:
    """The operator's line (Chinese) naming the provisional years and what to do about them,
    or None when every year ahead has its official schedule."""
    years = provisional_years(settings)
    if not years:
        return None
    return (
        f"{'、'.join(map(str, years))} 年尚无官方节假日安排：期限按周末和法定节假日"
        f"（全国年节及纪念日放假办法）计算，标为暂定；国务院办公厅公布安排后写入 "
        f"{settings.holiday_override_path}"
    )
