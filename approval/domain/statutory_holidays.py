"""The statutory holidays (法定节假日) of 全国年节及纪念日放假办法, computed for a year (R17).

This is the fallback for a year whose official schedule (节假日安排, published by the State
Council each autumn for the next year) is not known: the days the law itself gives off to all
citizens. The law names the days, so they can be computed years ahead; what it leaves to the
yearly schedule cannot: the bridging days and make-up working days (调休) that join the
statutory days to the weekends, and the day given in lieu (补假) when a statutory day falls on a
weekend. Deadlines counted with the fallback are therefore still provisional.

The law as revised on 2024-11-10 (in force 2025-01-01), for all citizens: 元旦 1-1;
春节 from 除夕 (the last day of the 12th lunar month, its 29th or 30th) to 正月初三;
清明节 (the day of the solar term 清明, when the sun reaches 15° ecliptic longitude, about
15 days after the spring equinox); 劳动节 5-1 and 5-2; 端午节 (the 5th day of the 5th lunar
month); 中秋节 (the 15th of the 8th); 国庆节 10-1 to 10-3. The earlier revisions are kept so
the fallback can be checked against the official schedules of past years: 1999-09-18 (from
2000: 春节 初一–初三, 劳动节 5-1–5-3, no traditional festivals), 2007-12-14 (from 2008:
春节 除夕–初二, 劳动节 5-1, 清明、端午、中秋 added) and 2013-12-11 (from 2014: 春节
初一–初三).

Sources of the dates: the lunar calendar of the ``lunardate`` package (lunar years 1900–2099);
清明 from ``chinese_calendar.get_solar_terms`` — the 寿星 formula ``[Y×0.2422 + C] − [Y/4]``
(Y the last two digits of the year, C = 4.81 in the 21st century) with that package's
table of corrections. Both are pure computations: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from lunardate import LunarDate

STATUTORY_YEARS = range(2000, 2100)
"""The years whose statutory holidays can be computed: from the first whole year of the
1999 revision to the last year of ``lunardate``'s lunar calendar."""

NEW_YEAR = "元旦"
SPRING_FESTIVAL = "春节"
QINGMING = "清明节"
LABOUR_DAY = "劳动节"
DRAGON_BOAT = "端午节"
MID_AUTUMN = "中秋节"
NATIONAL_DAY = "国庆节"


@dataclass(frozen=True)
class _Revision:
    """What one revision of the law gives off, from the first whole year it is in force."""

    first_year: int
    spring_from_eve: bool
    """春节 starts on 除夕 (else on 正月初一)."""
    spring_days: int
    labour_days: int
    traditional: bool
    """清明、端午、中秋 are holidays."""


_REVISIONS = (
    _Revision(2025, spring_from_eve=True, spring_days=4, labour_days=2, traditional=True),
    _Revision(2014, spring_from_eve=False, spring_days=3, labour_days=1, traditional=True),
    _Revision(2008, spring_from_eve=True, spring_days=3, labour_days=1, traditional=True),
    _Revision(2000, spring_from_eve=False, spring_days=3, labour_days=3, traditional=False),
)
"""The revisions of 2024, 2013, 2007 and 1999, newest first."""


def _revision(year: int) -> _Revision:
    """The revision in force throughout ``year``; ValueError outside ``STATUTORY_YEARS``."""
    if year not in STATUTORY_YEARS:
        first, last = STATUTORY_YEARS[0], STATUTORY_YEARS[-1]
        raise ValueError(f"statutory holidays are computed for {first}–{last}, not {year}")
    return next(revision for revision in _REVISIONS if year >= revision.first_year)


def _lunar(year: int, month: int, day: int) -> date:
    """The solar date of a day of lunar ``year`` (not of a leap month)."""
    solar: date = LunarDate(year, month, day).to_solar_date()
    return solar


def _run(first: date, days: int) -> tuple[date, ...]:
    """``days`` consecutive days from ``first``."""
    return tuple(first + timedelta(days=offset) for offset in range(days))


def qingming(year: int) -> date:
    """The day of the solar term 清明 in ``year`` (4 or 5 April in this century)."""
    terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
    day: date = next(day for day, name in terms if name == "清明")
    return day


def statutory_days(year: int) -> dict[str, tuple[date, ...]]:
    """The statutory holidays of ``year`` by festival, as the law in force that year gives them.

    ValueError for a year outside ``STATUTORY_YEARS``.
    """
    law = _revision(year)
    new_year = _lunar(year, 1, 1)
    spring_start = new_year - timedelta(days=1) if law.spring_from_eve else new_year
    festivals = {
        NEW_YEAR: (date(year, 1, 1),),
        SPRING_FESTIVAL: _run(spring_start, law.spring_days),
        LABOUR_DAY: _run(date(year, 5, 1), law.labour_days),
        NATIONAL_DAY: _run(date(year, 10, 1), 3),
    }
    if law.traditional:
        festivals[QINGMING] = (qingming(year),)
        festivals[DRAGON_BOAT] = (_lunar(year, 5, 5),)
        festivals[MID_AUTUMN] = (_lunar(year, 8, 15),)
    return dict(sorted(festivals.items(), key=lambda festival: festival[1][0]))


def statutory_holidays(year: int) -> frozenset[date]:
    """Every statutory holiday of ``year``, on whatever day of the week it falls."""
    return frozenset(day for days in statutory_days(year).values() for day in days)
