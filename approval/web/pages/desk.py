"""The clerk's desk (窗口工作台): the centre's cases, found by part of the number or the
applicant's name, the matter, the stage, the days of receipt, or only the clerk's own
(首问负责), newest first, a page at a time; each row links to its case page, which offers only
the case's next possible actions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from approval.domain.models import Actor, Role
from approval.http.deps import ServiceDep, SessionDep
from approval.http.paging import PAGE_SIZE, Limit, Offset
from approval.store.case_search import CaseSearch, search_cases
from approval.web.access import person
from approval.web.pager import pager
from approval.web.rendering import page

router = APIRouter()
Clerk = Annotated[Actor, Depends(person("search_cases", Role.CLERK))]
Typed = Annotated[str, Query(max_length=100)]


def _day(text: str) -> date | None:
    """A day typed as ``YYYY-MM-DD``; None when empty or not a day (the form shows it kept)."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/cases", response_class=HTMLResponse)
async def desk(
    request: Request,
    actor: Clerk,
    service: ServiceDep,
    session: SessionDep,
    q: Typed = "",
    matter: Typed = "",
    stage: Typed = "",
    received_from: Typed = "",
    received_to: Typed = "",
    mine: Typed = "",
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> Response:
    """The cases found by the form's criteria, newest receipt first."""
    search = CaseSearch(
        text=q.strip(),
        matter_code=matter,
        stage=stage,
        received_from=_day(received_from),
        received_to=_day(received_to),
        clerk_id=actor.id if mine else "",
    )
    session.expire_all()
    total, rows = search_cases(session, search, limit=limit, offset=offset)
    return page(
        request,
        "desk.html",
        actor,
        rows=rows,
        matters=service.catalogue.matters,
        typed={
            "q": q,
            "matter": matter,
            "stage": stage,
            "received_from": received_from,
            "received_to": received_to,
            "mine": mine,
        },
        pages=pager(request, total, limit, offset),
    )
