"""A department's inbox: its open review tasks, each with its working days left (R17) and its
light (R19), counted as the API's inbox counts them (approval.store.lights), with the
approve / reject / request-supplement form, which decides as the API's POST /decision does:
in the reviewer's own department's name (R22)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from approval.domain.errors import DomainError
from approval.domain.models import Actor, Decide, Outcome, Role
from approval.domain.state import OPEN_TASK_STATES
from approval.http.deps import ServiceDep, SessionDep, deciding_department, require_role
from approval.http.paging import PAGE_SIZE, Limit, Offset
from approval.service import CaseService
from approval.store.lights import calendar_through, remaining_working_days, task_light
from approval.store.queries import department_inbox
from approval.web.access import or_forbidden, person
from approval.web.case_actions import notice_items
from approval.web.pager import pager
from approval.web.rendering import page, refusal_code, refusal_line

router = APIRouter()
Reviewer = Annotated[Actor, Depends(person("inbox", Role.REVIEWER))]
OUTCOME_LABELS = {
    Outcome.APPROVE: "同意",
    Outcome.REJECT: "不同意",
    Outcome.REQUEST_SUPPLEMENT: "要求补正",
}


async def inbox_page(
    request: Request,
    service: CaseService,
    session: Session,
    actor: Actor,
    code: int = status.HTTP_200_OK,
    error: str | None = None,
    done: str | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> HTMLResponse:
    """A page of the inbox (``limit`` tasks from ``offset``): each task's working days left
    (R17, counted as the API's inbox counts them) and its light as the case's own status
    shows it (R19)."""
    states = sorted(OPEN_TASK_STATES)
    session.expire_all()
    total, rows = department_inbox(
        session, actor.department or "", states, limit=limit, offset=offset
    )
    now = datetime.now(UTC)
    calendar = calendar_through(service.settings, (task.last_day for task, _ in rows), now)
    remaining = {task.case_no: remaining_working_days(task, calendar, now) for task, _ in rows}
    lights = {task.case_no: task_light(task, remaining[task.case_no]) for task, _ in rows}
    return page(
        request,
        "inbox.html",
        actor,
        code,
        rows=rows,
        lights=lights,
        remaining=remaining,
        pages=pager(request, total, limit, offset),
        error=error,
        done=done,
        key=f"web-{uuid.uuid4().hex}",
    )


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(
    request: Request,
    actor: Reviewer,
    service: ServiceDep,
    session: SessionDep,
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> Response:
    """The reviewer's own department's open tasks (R22), ``limit`` from ``offset``."""
    return await inbox_page(request, service, session, actor, limit=limit, offset=offset)


Answer = tuple[int, str | None, str | None]
"""What a decision form's post came to: the status, the refusal's line or the done line."""


async def decide(
    case_no: str, request: Request, service: CaseService, session: Session, actor: Actor
) -> Answer:
    """A department's opinion from a decision form (the inbox's or the case page's), as the
    API's POST /decision: the outcome is the button pressed, the opinion (``reasons``) the
    one text for every outcome (required for 不同意, approval.service), the items asked for
    with 要求补正 one a line."""
    roles = (Role.REVIEWER,)
    await or_forbidden(actor, require_role(service, session, case_no, actor, "decide", roles))
    form = await request.form()
    named = form.get("department")
    department = await or_forbidden(
        actor,
        deciding_department(
            service, session, case_no, actor, named if isinstance(named, str) else None
        ),
    )
    try:
        outcome = Outcome(str(form.get("outcome", "")))
        reasons = str(form.get("reasons") or "").strip() or None
        command = Decide(
            actor=actor,
            department=department,
            outcome=outcome,
            reasons=reasons,
            items=notice_items(str(form.get("items", ""))),
        )
        request_id = str(form.get("request_id") or "") or None
        await service.act(case_no, command, request_id=request_id)
    except ValueError as error:
        if isinstance(error, ValidationError):
            return refusal_code(error), refusal_line(error), None
        return status.HTTP_422_UNPROCESSABLE_CONTENT, "outcome: 请选择审查意见", None
    except DomainError as error:
        return refusal_code(error), refusal_line(error), None
    return status.HTTP_200_OK, None, f"{case_no}：已提交审查意见（{OUTCOME_LABELS[outcome]}）"


async def decide_from_inbox(
    case_no: str, request: Request, service: CaseService, session: Session, actor: Actor
) -> Response:
    """The inbox's decision form: the inbox again, with the answer's line."""
    code, error, done = await decide(case_no, request, service, session, actor)
    return await inbox_page(request, service, session, actor, code, error, done)
