"""What a case looks like to the people watching it: stage, tasks, deadlines, lights (R19)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel

from approval.domain.calendar import WorkingCalendar
from approval.domain.catalogue import WarningThreshold
from approval.domain.clock import Clock
from approval.domain.state import (
    OPEN_TASK_STATES,
    CaseState,
    Decision,
    ExcludedPeriod,
    FollowUpCause,
    Rating,
    Stage,
    TaskState,
)

DEFAULT_WARNING = WarningThreshold()
"""1 WD left or 80 % of the period used (R19), where no other threshold is configured."""


class Light(StrEnum):
    """Electronic supervision light (电子监察): green, yellow, red; grey when stopped or closed."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    PAUSED = "paused"
    NONE = "none"


class ClockStatus(BaseModel):
    """One period as seen at a moment."""

    period_wd: int
    due: datetime | None
    last_day: date | None
    provisional: bool
    remaining_wd: int | None
    stopped: bool
    light: Light


class TaskStatus(BaseModel):
    """One department's task as seen at a moment."""

    department: str
    name: str
    state: TaskState
    round: int
    clock: ClockStatus | None
    overdue: bool
    escalated: bool
    absent_at_meeting: bool = False
    """Deemed to agree by absence from a joint review meeting (R10)."""
    decided_by: str | None
    decided_at: datetime | None
    reasons: str | None
    requested_items: list[str]


class FollowUpStatus(BaseModel):
    """One follow-up of a bad rating or a complaint, as seen at a moment (R20)."""

    follow_up_no: str
    party: str
    party_name: str
    cause: FollowUpCause
    opened_at: datetime
    clock: ClockStatus | None
    answered_at: datetime | None
    on_time: bool | None


class CaseStatus(BaseModel):
    """The full status of a case (the Query's answer)."""

    case_no: str
    matter_code: str
    matter_name: str
    catalogue_version: str
    applicant_name: str
    stage: Stage
    as_of: datetime
    received_at: datetime
    accepted_at: datetime | None
    accepted_as_of: datetime | None
    deemed_accepted: bool
    missing_materials: list[str]
    open_notice_items: list[str]
    supplement_due: datetime | None
    intake_clock: ClockStatus | None
    case_clock: ClockStatus | None
    delivery_clock: ClockStatus | None
    case_overdue: bool
    extended: bool
    excluded_period: ExcludedPeriod | None = None
    """The procedure under way whose time no period counts (art. 45, R12)."""
    tasks: list[TaskStatus]
    decision: Decision | None
    certificate_no: str | None
    closed_at: datetime | None
    provisional: bool
    """Some deadline counts days of a year whose holiday schedule is not yet known (R17)."""
    rating: Rating | None = None
    follow_ups: list[FollowUpStatus] = []


def light_of(
    clock: Clock, remaining: int | None, warning: WarningThreshold = DEFAULT_WARNING
) -> Light:
    """A clock's light (R19): see ``light_for``."""
    return light_for(
        clock.period_wd, remaining, stopped=clock.stopped, expired=clock.expired, warning=warning
    )


def light_for(
    period_wd: int | None,
    remaining: int | None,
    *,
    stopped: bool,
    expired: bool,
    warning: WarningThreshold = DEFAULT_WARNING,
) -> Light:
    """Red when overdue, yellow at the warning threshold (default 1 WD left or 80 % of the
    period used), else green; paused while stopped (R19). Without the period's length, the
    days left alone decide."""
    if stopped:
        return Light.PAUSED
    if remaining is None:
        return Light.NONE
    if expired or remaining < 0:
        return Light.RED
    if warning.is_yellow(period_wd, remaining):
        return Light.YELLOW
    return Light.GREEN


def clock_status(
    clock: Clock | None,
    calendar: WorkingCalendar,
    now: datetime,
    warning: WarningThreshold = DEFAULT_WARNING,
) -> ClockStatus | None:
    """A clock as seen at ``now``."""
    if clock is None:
        return None
    remaining = clock.remaining(calendar, now)
    deadline = clock.deadline
    return ClockStatus(
        period_wd=clock.period_wd,
        due=deadline.due if deadline else None,
        last_day=deadline.last_day if deadline else None,
        provisional=bool(deadline and deadline.provisional),
        remaining_wd=remaining,
        stopped=clock.stopped,
        light=light_of(clock, remaining, warning),
    )


def case_status(
    state: CaseState, missing: list[str], calendar: WorkingCalendar, now: datetime
) -> CaseStatus:
    """The status of the case at ``now``."""
    warning = state.policy.warning if state.policy else DEFAULT_WARNING

    def clock_at(clock: Clock | None) -> ClockStatus | None:
        return clock_status(clock, calendar, now, warning)

    tasks = [
        TaskStatus(
            department=t.department,
            name=t.name,
            state=t.state,
            round=t.round,
            clock=clock_at(t.clock if t.state in OPEN_TASK_STATES else None),
            overdue=t.overdue,
            escalated=t.escalated,
            absent_at_meeting=t.absent_at_meeting,
            decided_by=t.decided_by.id if t.decided_by else None,
            decided_at=t.decided_at,
            reasons=t.reasons,
            requested_items=[i.code for i in t.requested_items],
        )
        for t in state.tasks.values()
    ]
    clocks = [clock_at(c) for c in (state.intake_clock, state.case_clock, state.delivery_clock)]
    follow_ups = [
        FollowUpStatus(
            **f.model_dump(include=set(FollowUpStatus.model_fields) - {"clock"}),
            clock=clock_at(f.clock if f.is_open else None),
        )
        for f in state.follow_ups.values()
    ]
    every_clock = [c for c in clocks if c] + [t.clock for t in tasks if t.clock]
    return CaseStatus(
        case_no=state.case_no,
        matter_code=state.matter.code,
        matter_name=state.matter.name,
        catalogue_version=state.catalogue_version,
        applicant_name=state.applicant.name,
        stage=state.stage,
        as_of=now,
        received_at=state.received_at,
        accepted_at=state.accepted_at,
        accepted_as_of=state.accepted_as_of,
        deemed_accepted=state.deemed_accepted,
        missing_materials=missing,
        open_notice_items=[i.code for i in state.open_notice_items],
        supplement_due=state.supplement_due,
        intake_clock=clocks[0],
        case_clock=clocks[1],
        delivery_clock=clocks[2],
        case_overdue=state.case_overdue,
        extended=state.extended,
        excluded_period=state.excluded_period,
        tasks=tasks,
        decision=state.decision,
        certificate_no=state.certificate_no,
        closed_at=state.closed_at,
        provisional=any(c.provisional for c in every_clock),
        rating=state.rating,
        follow_ups=follow_ups,
    )
