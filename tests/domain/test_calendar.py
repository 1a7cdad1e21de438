"""The working-day calendar (R17): counting, deadlines, unknown years (their statutory
holidays counted, provisional), the override file and the calendar notices."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from approval import calendar_source
from approval.calendar_source import load_calendar_data, provisional_notice, provisional_years
from approval.config import Settings
from approval.domain.calendar import SHANGHAI, CalendarData, Deadline, WorkingCalendar
from approval.domain.errors import InvalidInputError

DATA = load_calendar_data(range(2025, 2028), None)
CAL = WorkingCalendar(DATA)
CAL_NO_MAKEUP = WorkingCalendar(DATA.model_copy(update={"count_makeup_workdays": False}))
EXAMPLE_OVERRIDE = Path(__file__).parents[2] / "data" / "holidays-override.example.yaml"

calendars = st.sampled_from([CAL, CAL_NO_MAKEUP])
starts = st.dates(min_value=date(2024, 6, 1), max_value=date(2028, 6, 30))
periods = st.integers(min_value=0, max_value=120)


@pytest.fixture
def fresh_notices(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that has logged no calendar notice yet (they are logged once per process)."""
    monkeypatch.setattr(calendar_source, "_logged", set())


def notices_in(logs: list[MutableMapping[str, Any]]) -> list[dict[str, Any]]:
    """The calendar notices among captured log entries, without their Chinese text."""
    return [
        {k: v for k, v in entry.items() if k != "message_zh"}
        for entry in logs
        if str(entry["event"]).startswith("calendar.")
    ]


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


def test_R17_received_2026_12_31_one_wd_is_due_after_new_year_provisional() -> None:
    """R17 (issue 13 item 7, done-when): 2027 has no official schedule, yet New Year's Day
    (Friday 2027-01-01) is a statutory holiday: received 2026-12-31 with 1 WD the case is due
    on Monday 2027-01-04, marked provisional."""
    calendar = WorkingCalendar(load_calendar_data(range(2026, 2028), None))
    assert not calendar.is_known_year(2027)
    assert calendar.data.source.endswith("+ statutory holidays 2027")
    assert not calendar.is_working_day(date(2027, 1, 1))
    deadline = calendar.deadline(date(2026, 12, 31), 1)
    assert deadline.last_day == date(2027, 1, 4)
    assert deadline.due == datetime(2027, 1, 5, tzinfo=SHANGHAI)
    assert deadline.provisional


def test_R17_unknown_year_counts_its_statutory_holidays_and_stays_provisional() -> None:
    """R17: in a year without an official schedule the statutory days are off — 春节 from 除夕
    (2027-02-05 to 02-08), 劳动节 5-1 and 5-2, 国庆 10-1 to 10-3 — other weekdays are worked,
    and every deadline that counts a day of that year is provisional."""
    data = load_calendar_data(range(2026, 2028), None)
    calendar = WorkingCalendar(data)
    assert min(data.fallback_holidays) == date(2027, 1, 1)
    assert calendar.add_working_days(date(2027, 2, 4), 1) == (date(2027, 2, 9), True)
    assert calendar.add_working_days(date(2027, 4, 30), 1) == (date(2027, 5, 3), True)
    assert calendar.add_working_days(date(2027, 9, 30), 1) == (date(2027, 10, 4), True)
    assert calendar.is_working_day(date(2027, 2, 10))  # 初四: the schedule's bridge, unknown
    deadline = calendar.deadline(date(2027, 3, 5), 1)
    assert (deadline.last_day, deadline.provisional) == (date(2027, 3, 8), True)
    assert calendar.deadline(date(2026, 12, 30), 1).provisional is False


def test_R17_year_beyond_the_statutory_computation_is_weekends_only() -> None:
    """R17: a year the law's dates cannot be computed for (2100, past the lunar tables) is
    still counted, by weekends only, and provisional."""
    calendar = WorkingCalendar(load_calendar_data([2100], None))
    assert calendar.data.fallback_holidays == frozenset()
    assert calendar.add_working_days(date(2100, 1, 1), 0) == (date(2100, 1, 1), True)
    assert calendar.is_working_day(date(2100, 1, 1))  # a Friday


def test_calendar_data_of_old_histories_counts_unknown_years_by_weekends_only() -> None:
    """Replay: CalendarData recorded before the fallback (no ``fallback_holidays`` field)
    still deserialises and counts its unknown year as it did, so old cases replay exactly."""
    recorded = load_calendar_data(range(2026, 2028), None).model_dump(mode="json")
    del recorded["fallback_holidays"]
    calendar = WorkingCalendar(CalendarData.model_validate(recorded))
    assert calendar.data.fallback_holidays == frozenset()
    assert calendar.add_working_days(date(2026, 12, 31), 1) == (date(2027, 1, 1), True)


@pytest.mark.usefixtures("fresh_notices")
def test_calendar_notices_are_logged_once_per_process_at_info(tmp_path: Path) -> None:
    """Issue 13 item 4: each distinct calendar notice is logged once per process, at info
    (below the command line's warning level), with a Chinese message beside the event name."""
    absent = tmp_path / "absent.yaml"
    with capture_logs() as logs:
        for _ in range(3):
            load_calendar_data(range(2026, 2028), absent)
        load_calendar_data([2100], None)
    assert notices_in(logs) == [
        {"event": "calendar.override_missing", "path": str(absent), "log_level": "info"},
        {
            "event": "calendar.year_unknown",
            "year": 2027,
            "fallback": "statutory holidays",
            "log_level": "info",
        },
        {
            "event": "calendar.year_unknown",
            "year": 2100,
            "fallback": "weekends only",
            "log_level": "info",
        },
    ]
    assert [entry["message_zh"] for entry in logs][1:] == [
        "2027 年尚无官方节假日安排：按周末和法定节假日暂定计算",
        "2100 年尚无官方节假日安排：只按周末暂定计算",
    ]


def test_provisional_years_and_the_operators_notice(tmp_path: Path) -> None:
    """R17: the operator is told which years ahead are provisional (Chinese, naming the
    override file to fill in); none once the override file lists them all."""
    this_year = datetime.now(UTC).year
    override = tmp_path / "holidays-override.yaml"
    override.write_text(f"{this_year}: {{}}\n{this_year + 1}: {{}}\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path, holiday_override_path=override, calendar_years_ahead=2)
    assert provisional_years(settings) == (this_year + 2,)
    notice = provisional_notice(settings)
    assert notice is not None
    assert notice.startswith(f"{this_year + 2} 年尚无官方节假日安排")
    assert str(override) in notice
    assert provisional_notice(settings.model_copy(update={"calendar_years_ahead": 1})) is None


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
    assert data.fallback_holidays == frozenset()


def test_R17_override_schedule_wins_over_the_statutory_fallback(tmp_path: Path) -> None:
    """R17: a year in the override file is counted by the operator's schedule alone, 调休
    included, not by the computed statutory days: its deadlines are no longer provisional."""
    override = tmp_path / "override.yaml"
    override.write_text("2027:\n  makeup_workdays: [2027-01-02]\n", encoding="utf-8")
    data = load_calendar_data(range(2026, 2029), override)
    calendar = WorkingCalendar(data)
    assert calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 2))  # a Saturday made a working day
    assert calendar.add_working_days(date(2026, 12, 31), 2) == (date(2027, 1, 2), False)
    assert {d.year for d in data.fallback_holidays} == {2028}


def test_override_replaces_built_in_year(tmp_path: Path) -> None:
    """R17: a year listed in the override replaces the built-in schedule of that year."""
    override = tmp_path / "override.yaml"
    override.write_text("2026:\n  holidays: [2026-03-02]\n", encoding="utf-8")
    calendar = WorkingCalendar(load_calendar_data([2026], override))
    assert not calendar.is_working_day(date(2026, 3, 2))
    assert calendar.is_working_day(date(2026, 10, 8))
    assert calendar.is_working_day(date(2026, 10, 1))  # the built-in holiday is gone
    assert not calendar.is_working_day(date(2026, 1, 4))  # and so is the built-in 调休 Sunday


@pytest.mark.usefixtures("fresh_notices")
def test_missing_override_file_is_ignored(tmp_path: Path) -> None:
    """An override path that does not exist is ignored with a notice, not an error."""
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
    for days in ("holidays", "fallback_holidays"):
        listed = DATA.model_dump(mode="json")[days]
        assert listed and listed == sorted(listed)
    deadline = CAL.deadline(date(2025, 12, 31), 3)
    assert Deadline.model_validate_json(deadline.model_dump_json()) == deadline


def test_calendar_data_refuses_inconsistent_days() -> None:
    """CalendarData refuses a day that is both holiday and 调休, a scheduled day in an unknown
    year, or a fallback holiday in a year whose schedule is known."""
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
    with pytest.raises(ValueError, match="fallback holiday 2026-01-01"):
        CalendarData(
            known_years=(2026,),
            holidays=frozenset(),
            makeup_workdays=frozenset(),
            source="test",
            fallback_holidays=frozenset({date(2026, 1, 1)}),
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
