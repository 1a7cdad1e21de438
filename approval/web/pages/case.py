"""The case page: stage, deadlines and lights, the clerk who received it (首问负责), its
materials by name, each department's task, the decision, the notices, the timeline and the
forms the person's role may post now (approval.web.case_actions: only the case's next
possible actions); a reviewer whose department's task waits has the decision form beside the
materials; the auditor also sees the compliance check. A form's refusal is the page again
with its line. A reviewer reads only the cases its department has a task on (R22), as in the
API."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from approval.auditing.timeline import timeline
from approval.calendar_source import calendar_of_events
from approval.domain.check_code import check_code
from approval.domain.compliance import RuleResult, check_case
from approval.domain.errors import DomainError
from approval.domain.events import as_events
from approval.domain.models import Actor, Role
from approval.domain.state import TaskState
from approval.domain.status import CaseStatus
from approval.http.deps import ServiceDep, SessionDep, require_role, reviewer_with_task
from approval.service import CaseService
from approval.store.audit_log import events_of, notices_of
from approval.store.queries import case_materials, case_row
from approval.web.access import SignedIn, or_forbidden
from approval.web.case_actions import CASE_ACTIONS, FIELD_LABELS
from approval.web.pages.inbox import decide, decide_from_inbox
from approval.web.rendering import page, refusal_code, refusal_line

router = APIRouter()


async def case_page(
    request: Request,
    service: CaseService,
    session: Session,
    actor: Actor,
    case_no: str,
    code: int = status.HTTP_200_OK,
    error: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    """The case: stage, deadlines and lights, tasks, decision, notices, timeline, and the
    actions the actor's role may take; the auditor also sees the compliance check."""
    try:
        case = await service.status(case_no)
    except DomainError as refusal:
        return page(
            request, "error.html", actor, refusal_code(refusal), error=refusal_line(refusal)
        )
    session.expire_all()
    rows = events_of(session, case_no)
    recorded = as_events(rows)
    compliance: list[RuleResult] = []
    if actor.role is Role.AUDITOR and recorded:
        compliance = check_case(recorded, calendar_of_events(service.settings, recorded))
    matter = next((m for m in service.catalogue.matters if m.code == case.matter_code), None)
    row = case_row(session, case_no)
    return page(
        request,
        "case.html",
        actor,
        code,
        case=case,
        names={m.code: m.name for m in matter.materials} if matter else {},
        materials=case_materials(session, case_no).materials,
        clerk_id=row.clerk_id if row else None,
        deciding=_deciding(actor, case),
        clocks=_clocks(case),
        entries=timeline(rows),
        notices=notices_of(session, case_no),
        compliance=compliance,
        actions={n: a for n, a in CASE_ACTIONS.items() if a.offered(actor, case)},
        matter=matter,
        check_code=check_code(case_no, service.settings.audit_key_bytes)
        if actor.role is Role.CLERK
        else None,
        error=error,
        done=done,
        key=f"web-{uuid.uuid4().hex}",
    )


def _deciding(actor: Actor, case: CaseStatus) -> bool:
    """Whether the page offers ``actor`` the decision form: a reviewer whose department's
    task on the accepted case waits for its opinion."""
    if actor.role is not Role.REVIEWER or case.accepted_at is None:
        return False
    mine = [t for t in case.tasks if t.department == actor.department]
    return any(t.state is TaskState.PENDING for t in mine)


def _clocks(case: CaseStatus) -> list[tuple[str, Any]]:
    """The case's clocks worth showing, with their Chinese names."""
    named = (
        ("受理期限（告知/受理）", case.intake_clock),
        ("办理时限", case.case_clock),
        ("送达期限", case.delivery_clock),
    )
    return [(name, clock) for name, clock in named if clock is not None]


@router.get("/cases/{case_no}", response_class=HTMLResponse)
async def show_case(
    case_no: str, request: Request, actor: SignedIn, service: ServiceDep, session: SessionDep
) -> Response:
    """The case page; a reviewer's only where its department has a task (R22)."""
    await or_forbidden(actor, reviewer_with_task(service, session, case_no, actor, "read_status"))
    return await case_page(request, service, session, actor, case_no)


PAGE_KEY = re.compile(r"web-[0-9a-f]{32}")
"""The key each rendering of the case page gives its forms (``key``, a hidden ``page_key``)."""


def form_request_id(form: FormData, action: str) -> str | None:
    """The Update id of a case-page form: its page's key and the action, so that the same
    form sent again (a double click, a resend after an outage) has one effect (R23) and
    another form of the page is an action of its own; None for a form without a sane key."""
    key = str(form.get("page_key") or "")
    return f"{key}-{action}" if PAGE_KEY.fullmatch(key) else None


def action_refusal(label: str, error: DomainError | ValidationError) -> str:
    """A refusal of a case-page form in Chinese naming the field, then the engine's line."""
    line = refusal_line(error)
    field = line.split(": ", 1)[0]
    named = FIELD_LABELS.get(field.split(".")[0], field)
    return f"未能{label}：{named}不符合要求（{line}）"


@router.post("/cases/{case_no}/{action}", response_class=HTMLResponse)
async def case_action(
    case_no: str,
    action: str,
    request: Request,
    actor: SignedIn,
    service: ServiceDep,
    session: SessionDep,
) -> Response:
    """A form of the case page (CASE_ACTIONS), or a department's decision from its inbox;
    the role check is the API's (R22) and a refusal is the page again with its line."""
    if action == "decision":
        if (await request.form()).get("from_page") != "case":
            return await decide_from_inbox(case_no, request, service, session, actor)
        code, error, done = await decide(case_no, request, service, session, actor)
        return await case_page(request, service, session, actor, case_no, code, error, done)
    form_action = CASE_ACTIONS.get(action)
    if form_action is None:
        return page(
            request, "error.html", actor, status.HTTP_404_NOT_FOUND, error="action: 无此操作"
        )
    roles = (form_action.role,)
    await or_forbidden(
        actor, require_role(service, session, case_no, actor, form_action.action, roles)
    )
    form = await request.form()
    try:
        command = await form_action.command(actor, form, service.settings)
        await service.act(case_no, command, request_id=form_request_id(form, action))
    except (DomainError, ValidationError) as error:
        line = action_refusal(form_action.label, error)
        return await case_page(request, service, session, actor, case_no, refusal_code(error), line)
    done = f"已{form_action.label}"
    return await case_page(request, service, session, actor, case_no, done=done)
