"""A reviewer's inbox: its own department's review tasks, from the read model, with the working
days left to each deadline (R17)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from approval.api.deps import allowed
from approval.api.schemas import InboxPage, InboxTask
from approval.calendar_source import calendar_spanning
from approval.config import Settings
from approval.domain.calendar import SHANGHAI, Deadline, WorkingCalendar
from approval.domain.models import Actor, Role
from approval.domain.state import OPEN_TASK_STATES, TaskState
from approval.domain.status import Light, light_for
from approval.http.deps import ServiceDep, SessionDep
from approval.http.paging import PAGE_SIZE, Limit, Offset
from approval.http.refusals import REFUSALS
from approval.store.repository import department_inbox
from approval.store.schema import ReviewTaskRow

DISPATCHED_OPEN_STATES = frozenset({TaskState.PENDING.value, TaskState.SUPPLEMENT_REQUESTED.value})
"""Open tasks whose clock has started (a waiting one has none yet)."""
router = APIRouter(tags=["inbox"], responses=REFUSALS)


def inbox_calendar(
    settings: Settings, tasks: Sequence[ReviewTaskRow], now: datetime
) -> WorkingCalendar:
    """The configured working-day calendar from today's year to the last deadline's (R17)."""
    years = [now.astimezone(SHANGHAI).year, *(t.last_day.year for t in tasks if t.last_day)]
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


@router.get("/inbox", response_model=InboxPage)
async def inbox(
    actor: Annotated[Actor, Depends(allowed("inbox", Role.REVIEWER))],
    service: ServiceDep,
    session: SessionDep,
    state: Annotated[list[TaskState] | None, Query(description="default: the open states")] = None,
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> InboxPage:
    """The department's tasks in ``state`` (default: open), earliest deadline first (R22:
    a reviewer sees its own department only); ``remaining_days`` counts working days (R17)."""
    department = actor.department or ""
    states = [s.value for s in (state or sorted(OPEN_TASK_STATES))]
    total, rows = department_inbox(session, department, states, limit=limit, offset=offset)
    now = datetime.now(UTC)
    calendar = inbox_calendar(service.settings, [task for task, _ in rows], now)
    tasks = []
    for task, case in rows:
        remaining = remaining_working_days(task, calendar, now)
        tasks.append(
            InboxTask(
                case_no=task.case_no,
                matter_code=case.matter_code,
                matter_name=case.matter_name,
                applicant_name=case.applicant_name,
                state=TaskState(task.state),
                round=task.round,
                due=task.due_at,
                last_day=task.last_day,
                remaining_days=remaining,
                light=task_light(task, remaining),
                overdue=task.overdue,
                escalated=task.escalated,
            )
        )
    return InboxPage(department=department, total=total, limit=limit, offset=offset, tasks=tasks)
