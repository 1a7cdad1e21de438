"""The statutory holidays of 全国年节及纪念日放假办法 (R17's fallback for a year without an
official schedule), computed and then checked against the official schedules of 2004–2026
that ``chinese_calendar`` holds: how close the fallback comes, and what it cannot know."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from lunardate import LunarDate

from approval.calendar_source import load_calendar_data
from approval.domain.calendar import CalendarData, WorkingCalendar
from approval.domain.statutory_holidays import (
    NATIONAL_DAY,
    SPRING_FESTIVAL,
    STATUTORY_YEARS,
    qingming,
    statutory_days,
    statutory_holidays,
)

OFFICIAL_YEARS = range(2004, 2027)
"""The years whose official schedule chinese_calendar 1.11 holds."""
OFFICIAL = WorkingCalendar(load_calendar_data(OFFICIAL_YEARS, None))
ONE_OFF_HOLIDAYS = {date(2015, 9, 3), date(2015, 9, 4)}
"""抗战胜利 70 周年纪念日: a holiday given once, by that year's schedule alone."""
BRIDGE_REACH = 5
"""The farthest (in days) an official bridging holiday lies from a statutory day."""


def unknown_years_calendar(fallback: frozenset[date]) -> WorkingCalendar:
    """A calendar that knows no official schedule, counting ``fallback`` as days off."""
    return WorkingCalendar(
        CalendarData(
            known_years=(),
            holidays=frozenset(),
            makeup_workdays=frozenset(),
            source="test",
            fallback_holidays=fallback,
        )
    )


FALLBACK = unknown_years_calendar(
    frozenset(day for year in OFFICIAL_YEARS for day in statutory_holidays(year))
)
WEEKENDS_ONLY = unknown_years_calendar(frozenset())


def test_R17_the_current_law_for_2027() -> None:
    """R17: the law in force since 2025 gives 13 days in 2027: 元旦, 春节 from 除夕 (2-5) to
    初三, 清明 4-5, 劳动节 5-1 and 5-2, 端午 6-9, 中秋 9-15, 国庆 10-1 to 10-3."""
    days = statutory_days(2027)
    assert {name: [d.isoformat() for d in run] for name, run in days.items()} == {
        "元旦": ["2027-01-01"],
        "春节": ["2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"],
        "清明节": ["2027-04-05"],
        "劳动节": ["2027-05-01", "2027-05-02"],
        "端午节": ["2027-06-09"],
        "中秋节": ["2027-09-15"],
        "国庆节": ["2027-10-01", "2027-10-02", "2027-10-03"],
    }
    assert len(statutory_holidays(2027)) == 13


def test_R17_mid_autumn_on_national_day_is_one_day_off() -> None:
    """R17: when 中秋 falls on a day of 国庆 (2028-10-03) the two share it: 12 distinct days."""
    assert statutory_days(2028)["中秋节"] == (date(2028, 10, 3),)
    assert date(2028, 10, 3) in statutory_days(2028)[NATIONAL_DAY]
    assert len(statutory_holidays(2028)) == 12


@pytest.mark.parametrize(
    ("year", "eve"),
    [(2025, date(2025, 1, 28)), (2026, date(2026, 2, 16)), (2030, date(2030, 2, 2))],
)
def test_R17_new_years_eve_is_the_last_day_of_the_twelfth_month(year: int, eve: date) -> None:
    """R17: 除夕 is the last day of the 12th lunar month, its 29th when the month is short
    (2025-01-28 was 腊月廿九), and the first day of 春节 under the current law."""
    assert statutory_days(year)[SPRING_FESTIVAL][0] == eve
    new_year = eve + timedelta(days=1)
    assert LunarDate.from_solar_date(eve.year, eve.month, eve.day).month == 12
    assert LunarDate.from_solar_date(new_year.year, new_year.month, new_year.day).day == 1


def test_R17_each_revision_of_the_law_applies_from_its_year() -> None:
    """R17: 2013's law (2014–2024) gave 春节 初一–初三 and 劳动节 5-1 only; 2007's (2008–2013)
    春节 除夕–初二; 1999's (2000–2007) 劳动节 5-1–5-3 and no 清明、端午、中秋."""
    assert statutory_days(2024)[SPRING_FESTIVAL][0] == date(2024, 2, 10)  # 初一
    assert statutory_days(2024)["劳动节"] == (date(2024, 5, 1),)
    assert statutory_days(2013)[SPRING_FESTIVAL] == tuple(date(2013, 2, day) for day in (9, 10, 11))
    assert set(statutory_days(2007)) == {"元旦", "春节", "劳动节", "国庆节"}
    assert len(statutory_days(2007)["劳动节"]) == 3


@pytest.mark.parametrize("year", [1999, 2100])
def test_years_outside_the_computation_are_refused(year: int) -> None:
    """A year before the 1999 revision's first whole year or past the lunar tables is a
    ValueError naming the range, never a guess."""
    assert year not in STATUTORY_YEARS
    with pytest.raises(ValueError, match="2000–2099"):
        statutory_holidays(year)


def test_qingming_agrees_with_the_century_formula() -> None:
    """清明 of 2000–2099 is the 寿星 formula's day, [Y×0.2422 + 4.81] − [Y/4] April (4 or 5
    April): 2027-04-05, 2028-04-04."""
    for year in STATUTORY_YEARS:
        y = year % 100
        assert qingming(year) == date(year, 4, int(y * 0.2422 + 4.81) - y // 4)
    assert (qingming(2027), qingming(2028)) == (date(2027, 4, 5), date(2028, 4, 4))


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_R17_every_statutory_day_is_off_in_the_official_schedule(year: int) -> None:
    """R17: the fallback never makes a working day of the official schedule a day off: each
    statutory day it computes for a past year is a day off in that year's official schedule
    (a holiday, or a weekend that was not a 调休 working day)."""
    worked = [day for day in sorted(statutory_holidays(year)) if chinese_calendar.is_workday(day)]
    assert worked == []


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_R17_official_holidays_the_fallback_misses_are_bridging_days(year: int) -> None:
    """R17: the official weekday holidays the fallback misses are the schedule's bridging
    days, each within a few days of a statutory day (or a one-off holiday such as 2015-09-03):
    set by 调休 each year, which the fallback cannot know."""
    statutory = statutory_holidays(year) | statutory_holidays(year + 1)
    missed = [
        day
        for day in sorted(chinese_calendar.holidays)
        if day.year == year and day.weekday() < 5 and day not in statutory
    ]
    far = [
        day
        for day in missed
        if day not in ONE_OFF_HOLIDAYS
        and min(abs((day - s).days) for s in statutory) > BRIDGE_REACH
    ]
    assert far == []
    assert len(missed) <= 14
    makeup = sum(1 for day in chinese_calendar.workdays if day.year == year)
    print(f"{year}: misses {len(missed)} official weekday holidays; {makeup} 调休 working days")


def share_of_exact_deadlines(calendar: WorkingCalendar, year: int, wd: int) -> float:
    """The share of the days received in ``year`` (to 12-20) whose ``wd``-WD deadline the
    calendar puts on the official schedule's last day."""
    starts = [date(year, 1, 1) + timedelta(days=n) for n in range(354)]
    exact = sum(
        calendar.add_working_days(start, wd)[0] == OFFICIAL.add_working_days(start, wd)[0]
        for start in starts
    )
    return exact / len(starts)


@pytest.mark.parametrize("wd", [1, 5, 10])
def test_R17_the_fallback_comes_closer_than_weekends_only(wd: int) -> None:
    """R17: over 2004–2026, deadlines counted with the statutory fallback fall on the
    official last day at least as often as weekends only, every year, and more often overall
    (from 2008 on the law's traditional festivals make the difference)."""
    shares = [
        (
            year,
            share_of_exact_deadlines(FALLBACK, year, wd),
            share_of_exact_deadlines(WEEKENDS_ONLY, year, wd),
        )
        for year in OFFICIAL_YEARS
    ]
    for year, fallback, weekends in shares:
        print(f"{year} {wd} WD: fallback {fallback:.0%} exact, weekends only {weekends:.0%}")
        assert fallback >= weekends, year
        assert fallback >= 0.7, year
    assert sum(f for _, f, _ in shares) > sum(w for _, _, w in shares)


def test_R17_new_year_receipts_of_past_years_are_due_after_new_year() -> None:
    """R17: for every past year, a receipt on 12-31 with 1 WD falls after New Year's Day with
    the fallback, as in the official schedule, and at most 3 days from the official last day
    (a 调休 weekend or a bridging day)."""
    for year in range(2004, 2026):
        last_day, _ = FALLBACK.add_working_days(date(year, 12, 31), 1)
        official, _ = OFFICIAL.add_working_days(date(year, 12, 31), 1)
        assert last_day > date(year + 1, 1, 1)
        assert abs((last_day - official).days) <= 3, year
