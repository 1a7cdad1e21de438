"""A reviewer's inbox: its own department's review tasks, from the read model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from approval.api.deps import SessionDep, allowed
from approval.api.routes.cases import REFUSALS
from approval.api.schemas import InboxPage, InboxTask
from approval.domain.calendar import SHANGHAI
from approval.domain.models import Actor, Role
from approval.domain.state import OPEN_TASK_STATES, TaskState
from approval.store.repository import department_inbox

router = APIRouter(tags=["inbox"], responses=REFUSALS)


@router.get("/inbox", response_model=InboxPage)
async def inbox(
    actor: Annotated[Actor, Depends(allowed("inbox", Role.REVIEWER))],
    session: SessionDep,
    state: Annotated[list[TaskState] | None, Query(description="default: the open states")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> InboxPage:
    """The department's tasks in ``state`` (default: open), earliest deadline first (R22:
    a reviewer sees its own department only)."""
    department = actor.department or ""
    states = [s.value for s in (state or sorted(OPEN_TASK_STATES))]
    total, rows = department_inbox(session, department, states, limit=limit, offset=offset)
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    tasks = [
        InboxTask(
            case_no=task.case_no,
            matter_code=case.matter_code,
            matter_name=case.matter_name,
            applicant_name=case.applicant_name,
            state=TaskState(task.state),
            round=task.round,
            due=task.due_at,
            last_day=task.last_day,
            remaining_days=(task.last_day - today).days if task.last_day else None,
            overdue=task.overdue,
            escalated=task.escalated,
        )
        for task, case in rows
    ]
    return InboxPage(department=department, total=total, limit=limit, offset=offset, tasks=tasks)
