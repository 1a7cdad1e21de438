"""A period counted in working days that can stop and resume (R12, R17)."""

from __future__ import annotations

from datetime import date, datetime, time

from pydantic import BaseModel, Field

from approval.domain.calendar import SHANGHAI, Deadline, WorkingCalendar
from approval.domain.catalogue import WarningThreshold


class Clock(BaseModel):
    """A running period. While stopped it keeps the working days it had left (R12)."""

    period_wd: int = Field(ge=0)
    deadline: Deadline | None = None
    remaining_wd: int | None = None
    """Working days left when the clock was stopped; None while it runs."""
    expired: bool = False
    """Set once the deadline has passed, so that it fires only once."""
    warned: bool = False
    """Set once the clock turned yellow and its reminder was sent (R19), so that it is sent
    once, whatever stops, resumptions or extensions follow."""

    @classmethod
    def start(cls, calendar: WorkingCalendar, start: datetime | date, period_wd: int) -> Clock:
        """A clock of ``period_wd`` working days counted from the day after ``start``."""
        return cls(period_wd=period_wd, deadline=calendar.deadline(start, period_wd))

    @property
    def running(self) -> bool:
        """Counting and not yet expired."""
        return self.deadline is not None and not self.expired

    @property
    def stopped(self) -> bool:
        """Suspended (补正期间不计入时限)."""
        return self.remaining_wd is not None

    def is_due(self, now: datetime) -> bool:
        """The period has ended and has not yet been acted on."""
        return self.running and self.deadline is not None and now >= self.deadline.due

    def warning_due(self, calendar: WorkingCalendar, warning: WarningThreshold) -> datetime | None:
        """The instant the light turns yellow (R19): the midnight (Shanghai) that begins the
        first day with no more working days left than the threshold allows. None once warned,
        and while stopped or expired."""
        if self.warned or not self.running or self.deadline is None:
            return None
        days_left = warning.yellow_within(self.period_wd)
        day = calendar.working_day_before(self.deadline.last_day, days_left)
        return datetime.combine(day, time(), SHANGHAI)

    def stop(self, calendar: WorkingCalendar, now: datetime) -> None:
        """Suspend, keeping the working days left."""
        if self.deadline is None or self.expired:
            return
        self.remaining_wd = max(0, calendar.remaining_working_days(now, self.deadline))
        self.deadline = None

    def resume(self, calendar: WorkingCalendar, now: datetime) -> None:
        """Resume with the working days that were left when it stopped."""
        if self.remaining_wd is None:
            return
        self.deadline = calendar.deadline(now, self.remaining_wd)
        self.remaining_wd = None

    def extend(self, calendar: WorkingCalendar, extra_wd: int) -> None:
        """Add working days after the current last day (or to the days left, if stopped)."""
        self.period_wd += extra_wd
        self.expired = False
        if self.remaining_wd is not None:
            self.remaining_wd += extra_wd
        elif self.deadline is not None:
            self.deadline = calendar.deadline(self.deadline.last_day, extra_wd)

    def remaining(self, calendar: WorkingCalendar, now: datetime) -> int | None:
        """Working days left (negative when overdue)."""
        if self.remaining_wd is not None:
            return self.remaining_wd
        if self.deadline is None:
            return None
        return calendar.remaining_working_days(now, self.deadline)
