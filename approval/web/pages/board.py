"""The supervisor's board (电子监察): the open cases with their lights, and the overdue or
escalated review tasks; each list paged. The auditor may read it too (R22). Both lists are
read from the store (approval.store.board, approval.store.queries): a page costs a few
queries, not one workflow Query per case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from approval.domain.calendar import SHANGHAI, WorkingCalendar
from approval.domain.catalogue import Catalogue
from approval.domain.models import Actor, Role
from approval.domain.state import Stage, TaskState
from approval.http.deps import ServiceDep, SessionDep
from approval.http.paging import PAGE_SIZE, Limit, Offset
from approval.store.board import BoardCase, open_cases_on_board
from approval.store.lights import ShownClock, calendar_through, task_clock
from approval.store.queries import flagged_tasks
from approval.web.access import person
from approval.web.pager import pager
from approval.web.rendering import page

router = APIRouter()
BOARD_ROLES = (Role.SUPERVISOR, Role.AUDITOR)
Watcher = Annotated[Actor, Depends(person("board", *BOARD_ROLES))]


@dataclass(frozen=True)
class BoardTask:
    """A department's task on a case's line: its state and its clock's light."""

    department: str
    state: TaskState
    clock: ShownClock | None


@dataclass(frozen=True)
class BoardLine:
    """One open case on the board."""

    case_no: str
    matter_name: str
    applicant_name: str
    stage: Stage
    case_overdue: bool
    clock: ShownClock | None
    tasks: list[BoardTask]


def board_line(
    item: BoardCase, catalogue: Catalogue, calendar: WorkingCalendar, now: datetime
) -> BoardLine:
    """A case's line: its clock, and its tasks in the matter's order, as its status lists them."""
    row = item.case
    matter = next((m for m in catalogue.matters if m.code == row.matter_code), None)
    rank = {review.department: n for n, review in enumerate(matter.reviews)} if matter else {}
    tasks = sorted(item.tasks, key=lambda task: rank.get(task.department, len(rank)))
    return BoardLine(
        case_no=row.case_no,
        matter_name=row.matter_name,
        applicant_name=row.applicant_name,
        stage=Stage(row.stage),
        case_overdue=row.overdue,
        clock=item.clock(matter, calendar, now),
        tasks=[
            BoardTask(t.department, TaskState(t.state), task_clock(t, calendar, now)) for t in tasks
        ],
    )


@router.get("/board", response_class=HTMLResponse)
async def board(
    request: Request,
    actor: Watcher,
    service: ServiceDep,
    session: SessionDep,
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
    flagged_offset: Offset = 0,
) -> Response:
    """Open cases with their lights, and the overdue or escalated tasks (电子监察), each list
    ``limit`` a page (``offset``, ``flagged_offset``)."""
    session.expire_all()
    total, cases = open_cases_on_board(session, limit=limit, offset=offset)
    now = datetime.now(UTC)
    days = [
        day
        for item in cases
        for day in (
            item.check_started_at.astimezone(SHANGHAI).date(),
            item.case.case_last_day,
            *(task.last_day for task in item.tasks),
        )
    ]
    calendar = calendar_through(service.settings, days, now)
    lines = [board_line(item, service.catalogue, calendar, now) for item in cases]
    flagged_total, flagged = flagged_tasks(session, limit=limit, offset=flagged_offset)
    return page(
        request,
        "board.html",
        actor,
        cases=lines,
        flagged=flagged,
        case_pages=pager(request, total, limit, offset),
        flagged_pages=pager(request, flagged_total, limit, flagged_offset, "flagged_offset"),
    )
