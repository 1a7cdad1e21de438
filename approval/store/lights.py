"""Working days left and supervision lights of the read model's rows (R17, R19), counted as
the case's own clocks count them (approval.domain.clock, approval.domain.status): for the
lists that read the store instead of asking each case's workflow — a department's inbox (the
API's and the console's) and the supervisor's board."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from approval.calendar_source import calendar_spanning
from approval.config import Settings
from approval.domain.calendar import SHANGHAI, Deadline, WorkingCalendar
from approval.domain.projection import last_day_before
from approval.domain.state import TaskState
from approval.domain.status import Light, light_for
from approval.store.schema import FollowUpRow, ReviewTaskRow

DISPATCHED_OPEN_STATES = frozenset({TaskState.PENDING.value, TaskState.SUPPLEMENT_REQUESTED.value})
"""Open tasks whose clock has started (a waiting one has none yet)."""


def calendar_through(
    settings: Settings, last_days: Iterable[date | None], now: datetime
) -> WorkingCalendar:
    """The configured working-day calendar from today's year to the year of the latest of
    ``last_days`` (R17)."""
    years = [now.astimezone(SHANGHAI).year, *(day.year for day in last_days if day)]
    return calendar_spanning(settings, years)


def remaining_working_days(
    task: ReviewTaskRow, calendar: WorkingCalendar, now: datetime
) -> int | None:
    """Working days left after today up to the task's last day, as the case's own clock
    counts them (approval.domain.clock): 0 on the last day, negative once it has passed;
    None while the task's clock is stopped or not started."""
    if task.last_day is None or task.due_at is None:
        return None
    deadline = Deadline(last_day=task.last_day, due=task.due_at, provisional=task.provisional)
    return calendar.remaining_working_days(now, deadline)


def task_light(task: ReviewTaskRow, remaining: int | None) -> Light:
    """The task's light as the case's status shows it (R19): paused while its clock is
    stopped, none before it starts."""
    if task.state not in DISPATCHED_OPEN_STATES:
        return Light.NONE
    stopped = task.due_at is None
    return light_for(task.period_wd, remaining, stopped=stopped, expired=task.overdue)


@dataclass(frozen=True)
class ShownClock:
    """A clock as a list shows it: its last day (None while stopped) and its light."""

    last_day: date | None
    light: Light


def task_clock(task: ReviewTaskRow, calendar: WorkingCalendar, now: datetime) -> ShownClock | None:
    """The task's clock as the case's status shows it: none unless the task is open with a
    period (a waiting task has none yet, a decided one none any more)."""
    if task.period_wd is None:
        return None
    return ShownClock(task.last_day, task_light(task, remaining_working_days(task, calendar, now)))


def follow_up_clock(row: FollowUpRow, calendar: WorkingCalendar, now: datetime) -> ShownClock:
    """A follow-up's clock as its case's status shows it (R19, R20): none once answered, red
    once its period has passed."""
    last_day = last_day_before(row.due_at)
    if row.answered_at is not None or last_day is None:
        return ShownClock(last_day, Light.NONE)
    deadline = Deadline(last_day=last_day, due=row.due_at, provisional=False)
    remaining = calendar.remaining_working_days(now, deadline)
    expired = row.red_marked or now >= row.due_at
    light = light_for(row.period_wd, remaining, stopped=False, expired=expired)
    return ShownClock(last_day, light)
