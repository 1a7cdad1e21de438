"""The supervisor's lists (电子监察), from the read model: tasks escalated because silent
consent is excluded (R9), and the cases with something overdue (R9, R13, R16). The supervisor
acts on them; the auditor may read them too (R22). Paginated like /inbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from approval.api.deps import allowed
from approval.domain.models import Actor, Role
from approval.domain.state import Stage, TaskState
from approval.http.deps import SessionDep
from approval.http.paging import PAGE_SIZE, Limit, Offset
from approval.http.refusals import REFUSALS
from approval.store.queries import escalated_open_tasks, overdue_cases
from approval.store.schema import CaseRow, ReviewTaskRow

router = APIRouter(prefix="/supervision", tags=["supervision"], responses=REFUSALS)
READERS = (Role.SUPERVISOR, Role.AUDITOR)


class CaseRef(BaseModel):
    """Which case: number, matter, applicant and stage."""

    case_no: str
    matter_code: str
    matter_name: str
    applicant_name: str
    stage: Stage


class SupervisedTask(CaseRef):
    """One department's review task on a case, as the supervisor sees it."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    department: str
    name: str
    state: TaskState
    round: int
    due: datetime | None
    last_day: date | None
    """The last working day of the department's period."""
    overdue: bool
    escalated: bool


class EscalationPage(BaseModel):
    """A page of the open escalated tasks (R9), earliest deadline first."""

    total: int
    limit: int
    offset: int
    tasks: list[SupervisedTask]


class OverdueCase(CaseRef):
    """A case with something overdue: its own period (R13), its delivery (R16), or the
    departments' review tasks listed in ``tasks`` (R9)."""

    case_last_day: date | None
    case_overdue: bool
    delivery_overdue: bool
    tasks: list[SupervisedTask]


class OverduePage(BaseModel):
    """A page of the cases with something overdue, oldest received first."""

    total: int
    limit: int
    offset: int
    cases: list[OverdueCase]


def _case_ref(case: CaseRow) -> dict[str, Any]:
    """The fields of ``CaseRef`` from a case row."""
    return CaseRef(
        case_no=case.case_no,
        matter_code=case.matter_code,
        matter_name=case.matter_name,
        applicant_name=case.applicant_name,
        stage=Stage(case.stage),
    ).model_dump()


def supervised_task(task: ReviewTaskRow, case: CaseRow) -> SupervisedTask:
    """A task row and its case as the response shows them."""
    return SupervisedTask(
        **_case_ref(case),
        department=task.department,
        name=task.name,
        state=TaskState(task.state),
        round=task.round,
        due=task.due_at,
        last_day=task.last_day,
        overdue=task.overdue,
        escalated=task.escalated,
    )


@router.get("/escalations", response_model=EscalationPage)
async def escalations(
    _actor: Annotated[Actor, Depends(allowed("escalations", *READERS))],
    session: SessionDep,
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> EscalationPage:
    """Review tasks whose period passed on a matter that excludes silent consent, escalated to
    the supervisor and still open (R9)."""
    total, rows = escalated_open_tasks(session, limit=limit, offset=offset)
    tasks = [supervised_task(task, case) for task, case in rows]
    return EscalationPage(total=total, limit=limit, offset=offset, tasks=tasks)


@router.get("/overdue", response_model=OverduePage)
async def overdue(
    _actor: Annotated[Actor, Depends(allowed("overdue", *READERS))],
    session: SessionDep,
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> OverduePage:
    """Cases past their committed date or delivery period, or with review tasks whose
    department let the period pass (效能问责)."""
    total, page = overdue_cases(session, limit=limit, offset=offset)
    cases = [
        OverdueCase(
            **_case_ref(item.case),
            case_last_day=item.case.case_last_day,
            case_overdue=item.case_overdue,
            delivery_overdue=item.delivery_overdue,
            tasks=[supervised_task(task, item.case) for task in item.tasks],
        )
        for item in page
    ]
    return OverduePage(total=total, limit=limit, offset=offset, cases=cases)
