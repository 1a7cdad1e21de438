"""The working-day calendar (R17): counting, deadlines, unknown years and the override file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from approval.calendar_source import load_calendar_data
from approval.domain.calendar import SHANGHAI, CalendarData, Deadline, WorkingCalendar
from approval.domain.errors import InvalidInputError

DATA = load_calendar_data(range(2025, 2028), None)
CAL = WorkingCalendar(DATA)
CAL_NO_MAKEUP = WorkingCalendar(DATA.model_copy(update={"count_makeup_workdays": False}))
EXAMPLE_OVERRIDE = Path(__file__).parents[2] / "data" / "holidays-override.example.yaml"

calendars = st.sampled_from([CAL, CAL_NO_MAKEUP])
starts = st.dates(min_value=date(2024, 6, 1), max_value=date(2028, 6, 30))
periods = st.integers(min_value=0, max_value=120)


def test_R17_received_2025_12_31_three_wd_due_2026_01_06() -> None:
    """R17 example: received 2025-12-31, 3 WD → due 2026-01-06 (New Year off, Sunday 1-4 counts)."""
    deadline = CAL.deadline(date(2025, 12, 31), 3)
    assert deadline.last_day == date(2026, 1, 6)
    assert not deadline.provisional


def test_R17_received_2026_04_30_three_wd_due_2026_05_08() -> None:
    """R17 example: received 2026-04-30, 3 WD → due 2026-05-08 (Labour Day 5-1..5-5 off)."""
    deadline = CAL.deadline(date(2026, 4, 30), 3)
    assert deadline.last_day == date(2026, 5, 8)
    assert not deadline.provisional


def test_start_day_not_counted() -> None:
    """R17: the start day is not counted, even when it is a working day (民法典 art. 201)."""
    assert CAL.is_working_day(date(2025, 3, 3))
    assert CAL.add_working_days(date(2025, 3, 3), 1) == (date(2025, 3, 4), False)


def test_zero_days_is_the_start_day() -> None:
    """Adding 0 WD gives the start day itself, not provisional in a known year."""
    assert CAL.add_working_days(date(2025, 3, 8), 0) == (date(2025, 3, 8), False)


def test_negative_days_refused() -> None:
    """A negative number of working days is a programming error: ValueError."""
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_days(date(2025, 3, 3), -1)


def test_weekend_skipped() -> None:
    """R17: weekends are excluded: Friday + 1 WD is the next Monday."""
    assert CAL.add_working_days(date(2025, 3, 7), 1) == (date(2025, 3, 10), False)
    assert not CAL.is_working_day(date(2025, 3, 8))
    assert not CAL.is_working_day(date(2025, 3, 9))


def test_statutory_holiday_skipped() -> None:
    """R17: statutory holidays are excluded: 2026-10-01..07 are not working days."""
    assert not any(CAL.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CAL.add_working_days(date(2026, 9, 30), 1)[0] == date(2026, 10, 8)


def test_makeup_workdays_counted() -> None:
    """R17: make-up working days count: Sunday 2026-01-04 and Saturday 2026-05-09 are WD."""
    assert CAL.is_working_day(date(2026, 1, 4))
    assert CAL.is_working_day(date(2026, 5, 9))
    assert CAL.add_working_days(date(2025, 12, 31), 1)[0] == date(2026, 1, 4)
    assert CAL.add_working_days(date(2026, 5, 8), 1)[0] == date(2026, 5, 9)


def test_makeup_workdays_not_counted_when_configured_off() -> None:
    """R17 (configurable): with count_makeup_workdays=False the 调休 days are days off."""
    assert not CAL_NO_MAKEUP.is_working_day(date(2026, 1, 4))
    assert not CAL_NO_MAKEUP.is_working_day(date(2026, 5, 9))
    assert CAL_NO_MAKEUP.add_working_days(date(2025, 12, 31), 3)[0] == date(2026, 1, 7)
    assert CAL_NO_MAKEUP.add_working_days(date(2026, 5, 8), 1)[0] == date(2026, 5, 11)


def test_due_is_midnight_after_last_day_in_shanghai() -> None:
    """R17: a deadline is the end of its last WD: 00:00 Asia/Shanghai of the next day."""
    deadline = CAL.deadline(date(2025, 12, 31), 3)
    assert deadline.due == datetime(2026, 1, 7, tzinfo=SHANGHAI)
    assert deadline.due.utcoffset() == timedelta(hours=8)
    assert deadline.due == datetime(2026, 1, 6, 16, tzinfo=UTC)


def test_deadline_from_aware_datetime_uses_shanghai_date() -> None:
    """R17: periods count in Asia/Shanghai: 2025-12-31 17:00 UTC is already 2026-01-01 there."""
    received = datetime(2025, 12, 31, 17, tzinfo=UTC)
    assert CAL.deadline(received, 3) == CAL.deadline(date(2026, 1, 1), 3)
    assert CAL.deadline(received, 3).last_day == date(2026, 1, 6)
    assert CAL.deadline(datetime(2025, 12, 31, 15, tzinfo=UTC), 1).last_day == date(2026, 1, 4)


def test_naive_datetime_refused() -> None:
    """A naive datetime has no place in Shanghai time: ValueError rather than a guess."""
    with pytest.raises(ValueError, match="naive"):
        CAL.deadline(datetime(2025, 12, 31, 9), 3)


def test_working_days_between_excludes_start_includes_end() -> None:
    """working_days_between counts start < d <= end, and is 0 for an empty or reversed range."""
    assert CAL.working_days_between(date(2025, 12, 31), date(2026, 1, 6)) == 3
    assert CAL.working_days_between(date(2026, 1, 6), date(2026, 1, 6)) == 0
    assert CAL.working_days_between(date(2026, 1, 6), date(2025, 12, 31)) == 0


def test_remaining_working_days_around_the_deadline() -> None:
    """Remaining WD: 0 on the last day, then negative once due: -1 over the weekend, -2 Tuesday."""
    deadline = CAL.deadline(date(2025, 3, 4), 3)  # Friday 2025-03-07
    assert deadline.last_day == date(2025, 3, 7)

    def at(day: int, hour: int = 9) -> int:
        return CAL.remaining_working_days(datetime(2025, 3, day, hour, tzinfo=SHANGHAI), deadline)

    assert at(4) == 3
    assert at(7, 23) == 0
    assert at(8, 0) == -1  # due has passed, no working day elapsed yet: still negative
    assert at(10) == -1
    assert at(11) == -2


def test_R17_unknown_year_weekends_only_provisional_and_warned() -> None:
    """R17: a year with no official schedule (2027) does not fail: weekends only, provisional,
    and a warning is logged."""
    with capture_logs() as logs:
        data = load_calendar_data(range(2026, 2028), None)
    assert {"event": "calendar.year_unknown", "year": 2027, "fallback": "weekends only"} in [
        {k: v for k, v in entry.items() if k != "log_level"} for entry in logs
    ]
    assert all(entry["log_level"] == "warning" for entry in logs)
    calendar = WorkingCalendar(data)
    assert not calendar.is_known_year(2027)
    assert calendar.is_working_day(date(2027, 1, 1))  # a Friday: no holiday data, so worked
    assert calendar.add_working_days(date(2026, 12, 31), 1) == (date(2027, 1, 1), True)
    deadline = calendar.deadline(date(2027, 3, 5), 1)
    assert deadline.last_day == date(2027, 3, 8)
    assert deadline.provisional
    assert calendar.deadline(date(2026, 12, 30), 1).provisional is False


def test_R17_override_file_makes_year_known() -> None:
    """R17: an operator-supplied schedule overrides the built-in data: 2027 becomes known and
    its deadlines are no longer provisional."""
    with capture_logs() as logs:
        data = load_calendar_data(range(2025, 2028), EXAMPLE_OVERRIDE)
    assert not [entry for entry in logs if entry["event"] == "calendar.year_unknown"]
    assert 2027 in data.known_years
    assert "override" in data.source
    calendar = WorkingCalendar(data)
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.add_working_days(date(2026, 12, 31), 1) == (date(2027, 1, 4), False)
    assert calendar.deadline(date(2027, 2, 5), 1) == calendar.deadline(date(2027, 2, 15), 0)


def test_override_replaces_built_in_year(tmp_path: Path) -> None:
    """R17: a year listed in the override replaces the built-in schedule of that year."""
    override = tmp_path / "override.yaml"
    override.write_text("2026:\n  holidays: [2026-03-02]\n", encoding="utf-8")
    calendar = WorkingCalendar(load_calendar_data([2026], override))
    assert not calendar.is_working_day(date(2026, 3, 2))
    assert calendar.is_working_day(date(2026, 10, 8))
    assert calendar.is_working_day(date(2026, 10, 1))  # the built-in holiday is gone
    assert not calendar.is_working_day(date(2026, 1, 4))  # and so is the built-in 调休 Sunday


def test_missing_override_file_is_ignored(tmp_path: Path) -> None:
    """An override path that does not exist is ignored with a warning, not an error."""
    with capture_logs() as logs:
        data = load_calendar_data([2026], tmp_path / "absent.yaml")
    assert data.known_years == (2026,)
    assert [entry["event"] for entry in logs] == ["calendar.override_missing"]


@pytest.mark.parametrize(
    ("content", "entry"),
    [
        ("2027:\n  holidays: [2027-01-01, not-a-date]\n", "2027.holidays.1"),
        ("2027:\n  holidays: [2026-12-31]\n", "2026-12-31"),
        ("2027:\n  holiday: [2027-01-01]\n", "2027.holiday"),
        ("twenty:\n  holidays: []\n", "twenty"),
        ("2027:\n  holidays: [2027-01-02]\n  makeup_workdays: [2027-01-02]\n", "2027-01-02"),
        ("2027: [unclosed\n", "unreadable"),
        ("- 2027\n", "top level"),
    ],
)
def test_R17_malformed_override_names_file_and_entry(
    tmp_path: Path, content: str, entry: str
) -> None:
    """R17: a malformed override file raises InvalidInputError naming the file and the entry."""
    override = tmp_path / "holidays-override.yaml"
    override.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_calendar_data([2027], override)
    assert caught.value.field == str(override)
    assert entry in caught.value.reason


def test_calendar_data_json_round_trip() -> None:
    """CalendarData and Deadline survive JSON (as Temporal serialises them), sorted and equal."""
    text = DATA.model_dump_json()
    assert CalendarData.model_validate_json(text) == DATA
    assert text == CalendarData.model_validate_json(text).model_dump_json()
    holidays = DATA.model_dump(mode="json")["holidays"]
    assert holidays == sorted(holidays)
    deadline = CAL.deadline(date(2025, 12, 31), 3)
    assert Deadline.model_validate_json(deadline.model_dump_json()) == deadline


def test_calendar_data_refuses_inconsistent_days() -> None:
    """CalendarData refuses a day that is both holiday and 调休, or lies in an unknown year."""
    with pytest.raises(ValueError, match="both"):
        CalendarData(
            known_years=(2026,),
            holidays=frozenset({date(2026, 1, 4)}),
            makeup_workdays=frozenset({date(2026, 1, 4)}),
            source="test",
        )
    with pytest.raises(ValueError, match="known_years"):
        CalendarData(
            known_years=(2026,),
            holidays=frozenset({date(2027, 1, 1)}),
            makeup_workdays=frozenset(),
            source="test",
        )


@given(calendars, starts, periods)
def test_add_working_days_monotone(calendar: WorkingCalendar, start: date, n: int) -> None:
    """add_working_days is strictly increasing in the number of days, from days ≥ 1."""
    first, _ = calendar.add_working_days(start, n)
    second, _ = calendar.add_working_days(start, n + 1)
    assert second > first
    assert first >= start


@given(calendars, starts, periods)
def test_add_then_count_round_trip(calendar: WorkingCalendar, start: date, n: int) -> None:
    """R17: counting the working days up to the result of adding n gives n back."""
    end, _ = calendar.add_working_days(start, n)
    assert calendar.working_days_between(start, end) == n


@given(calendars, starts, st.integers(min_value=1, max_value=120))
def test_add_lands_on_working_day(calendar: WorkingCalendar, start: date, n: int) -> None:
    """R17: for n ≥ 1 the last day of a period is always a working day."""
    end, _ = calendar.add_working_days(start, n)
    assert calendar.is_working_day(end)


@given(calendars, starts, periods)
def test_add_matches_day_by_day_count(calendar: WorkingCalendar, start: date, n: int) -> None:
    """R17: the fast addition agrees with naive day-by-day counting, provisional flag included."""
    day, counted, unknown = start, 0, not calendar.is_known_year(start.year) and n == 0
    while counted < n:
        day += timedelta(days=1)
        counted += calendar.is_working_day(day)
        unknown = unknown or not calendar.is_known_year(day.year)
    assert calendar.add_working_days(start, n) == (day, unknown)


@given(calendars, starts, periods)
def test_remaining_at_start_equals_period(calendar: WorkingCalendar, start: date, n: int) -> None:
    """At the start of the receiving day, the remaining working days equal the full period."""
    now = datetime.combine(start, datetime.min.time(), tzinfo=SHANGHAI)
    assert calendar.remaining_working_days(now, calendar.deadline(start, n)) == n
