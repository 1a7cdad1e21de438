"""A case's record as its rules write it: the state, the outbox of past-tense events, the
written notices, and the helpers every group of rules shares (approval.domain.case for the
lifecycle, approval.domain.supervision for the supervisor's procedures)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from approval.domain.calendar import SHANGHAI, WorkingCalendar
from approval.domain.clock import Clock
from approval.domain.errors import PermissionDeniedError, StageError
from approval.domain.events import CaseEvent, ClocksStopped, NoticeIssued
from approval.domain.labels import ROLE_LABELS, STAGE_LABELS, action_label
from approval.domain.models import ENGINE, Actor, Command, Role
from approval.domain.notices import EDITION, Notice, NoticeKind
from approval.domain.state import OPEN_TASK_STATES, CaseState, ReviewTask, Stage


class CaseRecord:
    """A case's state and the events its changes produced (the outbox)."""

    def __init__(self, state: CaseState, calendar: WorkingCalendar) -> None:
        self.state = state
        self.calendar = calendar
        self.outbox: list[CaseEvent] = []

    def _progress(self, now: datetime) -> None:
        """Move the case on after a change in review (approval.domain.case.Case)."""
        raise NotImplementedError

    def _stop_clocks(self, now: datetime, **why: Any) -> None:
        for clock in self._clocks():
            clock.stop(self.calendar, now)
        self._record(ClocksStopped(**self._stamp(now, ENGINE), **why))

    def _clocks(self) -> list[Clock]:
        state = self.state
        task_clocks = [
            t.clock for t in state.tasks.values() if t.clock and t.state in OPEN_TASK_STATES
        ]
        own = [state.intake_clock, state.case_clock, state.delivery_clock]
        return [c for c in own if c is not None] + task_clocks

    def _used(self, task: ReviewTask, now: datetime) -> dict[str, int]:
        """The working days of its period the task has used by ``now``, for the record of
        its answer (stated only for cases under a supervision policy)."""
        clock = task.clock
        until = now - timedelta(microseconds=1)  # an answer at midnight ends the day before
        remaining = clock.remaining(self.calendar, until) if clock else None
        if self.state.policy is None or clock is None or remaining is None:
            return {}
        return {"used_wd": clock.period_wd - remaining}

    def _require_stage(self, action: str, *stages: Stage) -> None:
        if self.state.stage not in stages:
            raise StageError(
                "stage",
                f"本案当前为“{STAGE_LABELS[self.state.stage]}”，不能{action_label(action)}",
            )

    def _stamp(self, at: datetime, actor: Actor) -> dict[str, Any]:
        """The next event's place in the record, moment and actor."""
        self.state.last_seq += 1
        return {"seq": self.state.last_seq, "at": at, "actor": actor}

    def _record(self, event: CaseEvent) -> None:
        self.outbox.append(event)

    def _issue(self, kind: NoticeKind, now: datetime, **facts: Any) -> Notice:
        state = self.state
        state.notices_issued += 1
        notice = Notice(
            notice_no=f"{state.case_no}-N{state.notices_issued:02d}",
            kind=kind,
            case_no=state.case_no,
            matter_code=state.matter.code,
            matter_name=state.matter.name,
            applicant_name=state.applicant.name,
            issued_at=now,
            edition=EDITION,
            **(
                {"progress_url": url} if state.policy and (url := state.policy.progress_url) else {}
            ),
            **facts,
        )
        self._record(NoticeIssued(**self._stamp(now, ENGINE), notice=notice))
        return notice


def require_role(cmd: Command, *roles: Role) -> None:
    if cmd.actor.role not in roles:
        allowed = "或".join(ROLE_LABELS[r] for r in roles)
        action = action_label(str(getattr(cmd, "kind", "")))
        raise PermissionDeniedError(
            "actor.role",
            f"{ROLE_LABELS[cmd.actor.role]}无权{action}，须由{allowed}办理（R22）",
        )


def due_of(clock: Clock | None) -> datetime | None:
    """A running clock's deadline, for the record."""
    return clock.deadline.due if clock and clock.deadline else None


def provisional_of(clock: Clock | None) -> bool | None:
    """Whether a running clock's deadline is provisional (R17)."""
    return clock.deadline.provisional if clock and clock.deadline else None


def last_day_of(end: datetime | None) -> date | None:
    """The last whole day of a period that ends at ``end`` (a midnight in Shanghai)."""
    return date_of(end - timedelta(microseconds=1)) if end else None


def date_of(moment: datetime | None) -> date | None:
    return moment.astimezone(SHANGHAI).date() if moment else None
