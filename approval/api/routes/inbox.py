"""A reviewer's inbox: its own department's review tasks, from the read model, with the working
days left to each deadline (R17)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from approval.api.deps import allowed
from approval.api.schemas import InboxPage, InboxTask
from approval.domain.models import Actor, Role
from approval.domain.state import OPEN_TASK_STATES, TaskState
from approval.http.deps import ServiceDep, SessionDep
from approval.http.paging import PAGE_SIZE, Limit, Offset
from approval.http.refusals import REFUSALS
from approval.store.lights import calendar_through, remaining_working_days, task_light
from approval.store.queries import department_inbox

router = APIRouter(tags=["inbox"], responses=REFUSALS)


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
    calendar = calendar_through(service.settings, (task.last_day for task, _ in rows), now)
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
                reminded_at=task.reminded_at,
            )
        )
    return InboxPage(department=department, total=total, limit=limit, offset=offset, tasks=tasks)
