"""Response bodies of the API, one family per resource. The request bodies of the actions are
approval.http.bodies (the command line builds them too)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from approval.domain.state import TaskState
from approval.domain.status import Light

# ---- cases -----------------------------------------------------------------------------------


class Submitted(BaseModel):
    """The case number an application was given; ``created`` is false for a repeat (R23)."""

    case_no: str
    created: bool


# ---- inbox -----------------------------------------------------------------------------------


class InboxTask(BaseModel):
    """One review task in a department's inbox."""

    case_no: str
    matter_code: str
    matter_name: str
    applicant_name: str
    state: TaskState
    round: int
    due: datetime | None
    last_day: date | None
    remaining_days: int | None
    """Working days left after today (Asia/Shanghai) up to the last day, as the case's clock
    counts them (R17): 0 on the last day, negative when late."""
    light: Light
    """The supervision light (R19), as the case's status shows it."""
    overdue: bool
    escalated: bool
    reminded_at: datetime | None = None
    """When the task turned yellow and the department was reminded (催办, R19)."""


class InboxPage(BaseModel):
    """A page of a department's inbox."""

    department: str
    total: int
    limit: int
    offset: int
    tasks: list[InboxTask]


class FollowUpItem(BaseModel):
    """One follow-up of a bad rating or a complaint (整改, R20), as its party's list shows it."""

    follow_up_no: str
    case_no: str
    matter_name: str
    party: str
    party_name: str
    cause: str
    opened_at: datetime
    due: datetime
    last_day: date | None
    light: Light
    answered_at: datetime | None
    on_time: bool | None
    reminded: bool
    red_marked: bool


class FollowUpPage(BaseModel):
    """Follow-ups, earliest deadline first: a department's own, the window's, or (for the
    supervisor and the auditor) every party's."""

    party: str | None
    total: int
    limit: int
    offset: int
    follow_ups: list[FollowUpItem]
