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


class InboxPage(BaseModel):
    """A page of a department's inbox."""

    department: str
    total: int
    limit: int
    offset: int
    tasks: list[InboxTask]
