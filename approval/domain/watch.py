"""Electronic supervision of a case's clocks (电子监察, R19): each supervised clock turns yellow
at the warning threshold, which reminds its party once (催办), and red when its period passes,
which records a red mark (红牌) against that party. Both are events of the case's record at
the exact instant: the workflow wakes for them (``warning_dues``), no one polls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from approval.domain.calendar import SHANGHAI
from approval.domain.case_record import CaseRecord, date_of, last_day_of
from approval.domain.catalogue import WarningThreshold
from approval.domain.clock import Clock
from approval.domain.events import ClockWarned, RedMarkRecorded
from approval.domain.models import APPLICANT_PARTY, ENGINE, WINDOW
from approval.domain.state import SUPPLEMENTING, SupervisedClock, TaskState
from approval.domain.status import DEFAULT_WARNING


@dataclass(frozen=True)
class Watched:
    """A running clock under supervision and the party that answers for it."""

    kind: SupervisedClock
    party: str
    clock: Clock
    follow_up_no: str | None = None


class WatchRules(CaseRecord):
    """Reminders at yellow, red marks at the deadline (R19); only for cases received under a
    supervision policy (older cases record neither)."""

    @property
    def warning(self) -> WarningThreshold:
        """The threshold this case's lights turn yellow at."""
        policy = self.state.policy
        return policy.warning if policy else DEFAULT_WARNING

    def warning_dues(self) -> list[datetime]:
        """Every instant at which a clock of the case is next due to turn yellow."""
        if self.state.policy is None:
            return []
        dues = [due for w in self._watched() if (due := self._warning_due(w.clock)) is not None]
        supplement = self._supplement_warning_due()
        return dues if supplement is None else [*dues, supplement]

    def _warning_due(self, clock: Clock) -> datetime | None:
        return clock.warning_due(self.calendar, self.warning)

    def _watched(self) -> list[Watched]:
        """The supervised clocks that run now, each with its party."""
        state = self.state
        own = [
            (SupervisedClock.INTAKE, WINDOW, state.intake_clock),
            (SupervisedClock.CASE, state.matter.lead_department, state.case_clock),
            (SupervisedClock.DELIVERY, WINDOW, state.delivery_clock),
        ]
        watched = [Watched(kind, party, clock) for kind, party, clock in own if clock]
        watched += [
            Watched(SupervisedClock.REVIEW, task.department, task.clock)
            for task in state.tasks_in(TaskState.PENDING)
            if task.clock
        ]
        watched += [
            Watched(SupervisedClock.FOLLOW_UP, f.party, f.clock, f.follow_up_no)
            for f in state.follow_ups.values()
            if f.is_open
        ]
        return [w for w in watched if w.clock.running]

    def _warn(self, now: datetime) -> None:
        """Remind the party of every clock that has turned yellow by ``now`` and is still
        within its period; a clock whose period has already passed is red instead."""
        if self.state.policy is None:
            return
        for watched in self._watched():
            clock, due = watched.clock, self._warning_due(watched.clock)
            assert clock.deadline is not None
            if due is None or not due <= now < clock.deadline.due:
                continue
            clock.warned = True
            self._record(
                ClockWarned(
                    **self._stamp(now, ENGINE),
                    clock=watched.kind,
                    party=watched.party,
                    last_day=clock.deadline.last_day,
                    remaining_wd=clock.remaining(self.calendar, now) or 0,
                    **_follow_up(watched.follow_up_no),
                )
            )
        self._warn_supplement(now)

    def _supplement_warning_due(self) -> datetime | None:
        """When the applicant's supplement period turns yellow: counted in calendar days, as
        the period is (R6)."""
        state = self.state
        if state.supplement_warned or state.stage not in SUPPLEMENTING:
            return None
        last_day = last_day_of(state.supplement_due)
        if last_day is None:
            return None
        days_left = self.warning.yellow_within(state.matter.supplement_period_days)
        return datetime.combine(last_day - timedelta(days=days_left), time(), SHANGHAI)

    def _warn_supplement(self, now: datetime) -> None:
        state = self.state
        due = self._supplement_warning_due()
        if due is None or state.supplement_due is None or not due <= now < state.supplement_due:
            return
        last_day = last_day_of(state.supplement_due)
        today = date_of(now)
        assert last_day is not None and today is not None
        state.supplement_warned = True
        self._record(
            ClockWarned(
                **self._stamp(now, ENGINE),
                clock=SupervisedClock.SUPPLEMENT,
                party=APPLICANT_PARTY,
                last_day=last_day,
                remaining_wd=self.calendar.working_days_between(today, last_day),
            )
        )

    def _mark_red(
        self,
        now: datetime,
        kind: SupervisedClock,
        party: str,
        last_day: date | None,
        follow_up_no: str | None = None,
    ) -> None:
        """A red mark against ``party``: the period of its clock has passed (R19)."""
        if self.state.policy is None or last_day is None:
            return
        self._record(
            RedMarkRecorded(
                **self._stamp(now, ENGINE),
                clock=kind,
                party=party,
                last_day=last_day,
                **_follow_up(follow_up_no),
            )
        )


def _follow_up(follow_up_no: str | None) -> dict[str, str]:
    """The follow-up a mark names, stated only when there is one."""
    return {"follow_up_no": follow_up_no} if follow_up_no else {}
