"""The supervisor's board (电子监察): the open cases with their lights, and the overdue or
escalated review tasks; each list paged. The auditor may read it too (R22)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from approval.domain.errors import DomainError
from approval.domain.models import Actor, Role
from approval.domain.status import CaseStatus
from approval.http.deps import ServiceDep, SessionDep
from approval.http.paging import PAGE_SIZE, Limit, Offset
from approval.store.queries import flagged_tasks, open_cases
from approval.web.access import person
from approval.web.pager import pager
from approval.web.rendering import page

router = APIRouter()
BOARD_ROLES = (Role.SUPERVISOR, Role.AUDITOR)
Watcher = Annotated[Actor, Depends(person("board", *BOARD_ROLES))]


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
    total, case_numbers = open_cases(session, limit=limit, offset=offset)
    cases: list[CaseStatus] = []
    for case_no in case_numbers:
        try:
            cases.append(await service.status(case_no))
        except DomainError:
            continue
    flagged_total, flagged = flagged_tasks(session, limit=limit, offset=flagged_offset)
    return page(
        request,
        "board.html",
        actor,
        cases=cases,
        flagged=flagged,
        case_pages=pager(request, total, limit, offset),
        flagged_pages=pager(request, flagged_total, limit, flagged_offset, "flagged_offset"),
    )
