"""The web console's pages and form posts. The person is the user of the API token kept in an
HttpOnly cookie (set at ``/web/login``); every page and post checks the role the same way the
API does (approval.api.deps, R22), and every form post calls the same engine method as the API.
Every post must come from the console's own page (its Origin and CSRF token,
approval.web.security). A refusal renders the page again with its one line (``field:
reason``), never a stack trace; failed logins are rate-limited per client (429)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.orm import Session

from approval.auditing.narrative import timeline
from approval.calendar_source import calendar_of_events
from approval.domain.calendar import SHANGHAI
from approval.domain.catalogue import Catalogue, Matter
from approval.domain.check_code import check_code
from approval.domain.compliance import RuleResult, as_recorded, check_case
from approval.domain.documents import PROCEDURE_NAMES
from approval.domain.errors import DomainError, PermissionDeniedError
from approval.domain.labels import STAGE_LABELS, TASK_LABELS
from approval.domain.models import (
    Actor,
    Application,
    Decide,
    Outcome,
    Role,
)
from approval.domain.state import (
    OPEN_TASK_STATES,
)
from approval.domain.status import CaseStatus, Light
from approval.http.deps import ServiceDep, SessionDep, deciding_department, refuse
from approval.http.limiting import client_key, rate_limits
from approval.http.paging import PAGE_SIZE, Limit, Offset
from approval.http.refusals import refusal_status
from approval.service import CaseService
from approval.store.lights import calendar_through, remaining_working_days, task_light
from approval.store.queries import flagged_tasks, open_cases
from approval.store.repository import (
    department_inbox,
    events_of,
    has_task,
    notices_of,
    user_by_token,
)
from approval.validation import problem_line
from approval.web.case_actions import CASE_ACTIONS, FIELD_LABELS, materials_of, notice_items
from approval.web.security import (
    COOKIE,
    current_actor,
    keep_secret,
    post_problem,
    token_field,
)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

ROLE_LABELS = {
    Role.CLERK: "窗口工作人员",
    Role.REVIEWER: "部门审批人员",
    Role.SUPERVISOR: "电子监察人员",
    Role.AUDITOR: "审计人员",
}
HOME = {
    Role.CLERK: "/web/cases/new",
    Role.REVIEWER: "/web/inbox",
    Role.SUPERVISOR: "/web/board",
    Role.AUDITOR: "/web/board",
}
LIGHTS = {
    Light.GREEN: "● 绿",
    Light.YELLOW: "● 黄",
    Light.RED: "● 红",
    Light.PAUSED: "‖ 暂停",
    Light.NONE: "—",
}
OUTCOME_LABELS = {
    Outcome.APPROVE: "同意",
    Outcome.REJECT: "不同意",
    Outcome.REQUEST_SUPPLEMENT: "要求补正",
}
BOARD_ROLES = (Role.SUPERVISOR, Role.AUDITOR)
HEADINGS = {
    status.HTTP_403_FORBIDDEN: "拒绝办理",
    status.HTTP_429_TOO_MANY_REQUESTS: "请求过于频繁",
    status.HTTP_503_SERVICE_UNAVAILABLE: "系统暂时无法办理，请稍后重试",
}
"""The heading of an error page by its status; 无法办理 for any other."""


def _local(value: datetime | None) -> str:
    """A moment in Beijing time, ``2026-11-28 09:30``."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


templates.env.filters["local"] = _local
templates.env.globals.update(
    STAGE_LABELS=STAGE_LABELS,
    TASK_LABELS=TASK_LABELS,
    LIGHTS=LIGHTS,
    ROLE_LABELS=ROLE_LABELS,
    PROCEDURE_NAMES=PROCEDURE_NAMES,
)


# ---- who is asking, and from where ------------------------------------------------------------


def posted_action(request: Request) -> str:
    """The engine's name of the action a console post asks for, as its refusals are kept."""
    name = str(request.path_params.get("action", ""))
    if name == "decision":
        return "decide"
    form_action = CASE_ACTIONS.get(name)
    return form_action.action if form_action else name or "post"


async def guard_posts(request: Request, service: ServiceDep, session: SessionDep) -> None:
    """Every console POST comes from the console's own page: its Origin and its CSRF token
    (approval.web.security); else 403, kept in the case's record when a logged-in person
    posted on a case (R21, R22)."""
    if request.method != "POST":
        return
    refusal = await post_problem(request)
    if refusal is None:
        return
    actor = current_actor(request, session)
    case_no = request.path_params.get("case_no")
    if actor is not None and case_no is not None:
        action = posted_action(request)
        with suppress(PermissionDeniedError):
            await refuse(service, session, case_no, actor, action, refusal.field, refusal.reason)
    raise refusal


router = APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(guard_posts)])


def is_console(request: Request) -> bool:
    """Whether the request is the console's (its answers are pages, not JSON)."""
    path = request.url.path
    return path == "/web" or path.startswith("/web/")


def page(
    request: Request,
    name: str,
    actor: Actor | None,
    code: int = status.HTTP_200_OK,
    **context: Any,
) -> HTMLResponse:
    """A page of the console for ``actor``; its forms carry the CSRF token."""
    context = {"actor": actor, "csrf_field": token_field(request), **context}
    response = templates.TemplateResponse(request, name, context, status_code=code)
    keep_secret(request, response)
    return response


def problem_page(
    request: Request,
    code: int,
    line: str,
    machine_code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The page of a refusal or an outage the app answered (approval.api.app), with its
    status, its one line and its machine code (``data-code``)."""
    heading = HEADINGS.get(code)
    response = page(
        request, "error.html", None, code, error=line, error_code=machine_code, heading=heading
    )
    response.headers.update(headers or {})
    return response


def to_login() -> RedirectResponse:
    """Back to the login page (no or stale token)."""
    return RedirectResponse("/web/login", status_code=status.HTTP_303_SEE_OTHER)


def forbidden(request: Request, actor: Actor, message: str) -> HTMLResponse:
    """The 403 page."""
    return page(request, "forbidden.html", actor, status.HTTP_403_FORBIDDEN, error=message)


async def permitted(
    service: CaseService,
    session: Session,
    actor: Actor,
    action: str,
    roles: Sequence[Role],
    case_no: str | None = None,
) -> str | None:
    """None when ``actor`` may do ``action``; else the refusal's line, kept in the case's
    record when the case is known (R21, R22), exactly as the API's role check."""
    if actor.role in roles:
        return None
    needed = "/".join(r.value for r in roles)
    try:
        await refuse(
            service,
            session,
            case_no,
            actor,
            action,
            "actor.role",
            f"{actor.role} may not {action}; needs {needed} (R22)",
        )
    except PermissionDeniedError as refusal:
        return f"{refusal.field}: {refusal.reason}"


def refusal_line(error: DomainError | ValidationError) -> str:
    """A refusal as one line, ``field: reason``."""
    if isinstance(error, DomainError):
        return f"{error.field}: {error.reason}"
    return problem_line(error)


def refusal_code(error: DomainError | ValidationError) -> int:
    """The HTTP status the API gives the same refusal."""
    if isinstance(error, ValidationError):
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    return refusal_status(error)


# ---- login ----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: SessionDep) -> Response:
    """The actor's own start page."""
    actor = current_actor(request, session)
    if actor is None:
        return to_login()
    return RedirectResponse(HOME.get(actor.role, "/web/login"), status.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    """The login form: an API token (approval.cli.users create)."""
    return page(request, "login.html", None)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request, session: SessionDep, token: Annotated[str, Form()] = ""
) -> Response:
    """Check the token and keep it in an HttpOnly cookie. A client past its failed attempts
    (``APPROVAL_LOGIN_FAILURE_RATE_LIMIT``) is refused with 429 until the window frees one."""
    failures, client = rate_limits(request).login_failures, client_key(request)
    if failures.exhausted(client):
        raise failures.refusal(client)
    user = user_by_token(session, token.strip()) if token.strip() else None
    if user is None:
        failures.hit(client)
        refused = page(
            request,
            "login.html",
            None,
            status.HTTP_401_UNAUTHORIZED,
            error="token: 令牌无效或已停用 (not a valid token)",
        )
        refused.headers["WWW-Authenticate"] = LOGIN_CHALLENGE
        return refused
    response = RedirectResponse(
        HOME.get(Role(user.role), "/web/login"), status_code=status.HTTP_303_SEE_OTHER
    )
    response.set_cookie(
        COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/web",
    )
    return response


LOGIN_CHALLENGE = 'Bearer realm="approval-console"'
"""The 401's challenge: the console's login takes the person's bearer token."""


@router.post("/logout")
async def logout() -> Response:
    """Forget the token."""
    response = to_login()
    response.delete_cookie(COOKIE, path="/web")
    return response


@router.get("/static/console.css")
async def stylesheet() -> Response:
    """The console's one stylesheet."""
    css = (HERE / "static" / "console.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})


# ---- intake (收件) ---------------------------------------------------------------------------


def intake_page(
    request: Request,
    actor: Actor,
    catalogue: Catalogue,
    matter_code: str | None,
    code: int = status.HTTP_200_OK,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    """The intake form, with the chosen matter's checklist."""
    matter: Matter | None = None
    if matter_code:
        matter = next((m for m in catalogue.matters if m.code == matter_code), None)
    return page(
        request,
        "intake.html",
        actor,
        code,
        matters=catalogue.matters,
        matter=matter,
        error=error,
        form=form or {},
        key=f"web-{uuid.uuid4().hex}",
    )


@router.get("/cases/new", response_class=HTMLResponse)
async def intake_form(
    request: Request, service: ServiceDep, session: SessionDep, matter: str | None = None
) -> Response:
    """The clerk's intake form (收件)."""
    actor = current_actor(request, session)
    if actor is None:
        return to_login()
    if refused := await permitted(service, session, actor, "submit", (Role.CLERK,)):
        return forbidden(request, actor, refused)
    return intake_page(request, actor, service.catalogue, matter)


@router.post("/cases", response_class=HTMLResponse)
async def submit(request: Request, service: ServiceDep, session: SessionDep) -> Response:
    """Receive the application and go to its case page."""
    actor = current_actor(request, session)
    if actor is None:
        return to_login()
    if refused := await permitted(service, session, actor, "submit", (Role.CLERK,)):
        return forbidden(request, actor, refused)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    catalogue = service.catalogue
    matter_code = values.get("matter_code", "")
    matter = next((m for m in catalogue.matters if m.code == matter_code), None)
    try:
        if matter is None:
            return intake_page(
                request,
                actor,
                catalogue,
                None,
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "matter_code: 请选择事项 (choose a matter of the catalogue)",
                values,
            )
        application = Application.model_validate(
            {
                "matter_code": matter.code,
                "applicant": {
                    "name": values.get("applicant_name", "").strip(),
                    "id_number": values.get("id_number", "").strip().upper(),
                },
                "materials": await materials_of([r.code for r in matter.demanded_materials], form),
                "idempotency_key": values.get("idempotency_key") or f"web-{uuid.uuid4().hex}",
            }
        )
        submission = await service.submit(application, actor)
    except (DomainError, ValidationError) as error:
        return intake_page(
            request,
            actor,
            catalogue,
            matter_code,
            refusal_code(error),
            refusal_line(error),
            values,
        )
    return RedirectResponse(f"/web/cases/{submission.case_no}", status.HTTP_303_SEE_OTHER)


# ---- the case page ----------------------------------------------------------------------------


async def may_read(
    service: CaseService, session: Session, actor: Actor, case_no: str
) -> str | None:
    """As the API's status: a reviewer reads only cases its department has a task on (R22)."""
    if actor.role is Role.REVIEWER and not has_task(session, case_no, actor.department or ""):
        reason = f"{actor.department} has no task on {case_no} (R22)"
        try:
            await refuse(service, session, case_no, actor, "read_status", "case_no", reason)
        except PermissionDeniedError as refusal:
            return f"{refusal.field}: {refusal.reason}"
    return None


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
    recorded = as_recorded(rows)
    compliance: list[RuleResult] = []
    if actor.role is Role.AUDITOR and recorded:
        compliance = check_case(recorded, calendar_of_events(service.settings, recorded))
    return page(
        request,
        "case.html",
        actor,
        code,
        case=case,
        clocks=_clocks(case),
        entries=timeline(rows),
        notices=notices_of(session, case_no),
        compliance=compliance,
        actions={n: a for n, a in CASE_ACTIONS.items() if a.offered(actor, case)},
        matter=next((m for m in service.catalogue.matters if m.code == case.matter_code), None),
        check_code=check_code(case_no, service.settings.audit_key_bytes)
        if actor.role is Role.CLERK
        else None,
        error=error,
        done=done,
        key=f"web-{uuid.uuid4().hex}",
    )


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
    case_no: str, request: Request, service: ServiceDep, session: SessionDep
) -> Response:
    """The case page."""
    actor = current_actor(request, session)
    if actor is None:
        return to_login()
    if refused := await may_read(service, session, actor, case_no):
        return forbidden(request, actor, refused)
    return await case_page(request, service, session, actor, case_no)


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
    service: ServiceDep,
    session: SessionDep,
) -> Response:
    """A form of the case page (CASE_ACTIONS), or a department's decision from its inbox;
    the role check is the API's (R22) and a refusal is the page again with its line."""
    actor = current_actor(request, session)
    if actor is None:
        return to_login()
    if action == "decision":
        return await decide(case_no, request, service, session, actor)
    form_action = CASE_ACTIONS.get(action)
    if form_action is None:
        return page(
            request, "error.html", actor, status.HTTP_404_NOT_FOUND, error="action: 无此操作"
        )
    refused = await permitted(
        service, session, actor, form_action.action, (form_action.role,), case_no
    )
    if refused:
        return forbidden(request, actor, refused)
    try:
        command = await form_action.command(actor, await request.form())
        await service.act(case_no, command)
    except (DomainError, ValidationError) as error:
        line = action_refusal(form_action.label, error)
        return await case_page(request, service, session, actor, case_no, refusal_code(error), line)
    done = f"已{form_action.label}"
    return await case_page(request, service, session, actor, case_no, done=done)


# ---- the department's inbox ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pager:
    """One page of a list: where it starts, how many in all, the links to its neighbours."""

    total: int
    limit: int
    offset: int
    previous: str | None
    next: str | None

    @property
    def first(self) -> int:
        """The position of the page's first row, from 1 (0 for an empty list)."""
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        """The position of the page's last row."""
        return min(self.offset + self.limit, self.total)


def pager(request: Request, total: int, limit: int, offset: int, param: str = "offset") -> Pager:
    """The pager of a list shown from ``offset``; its links keep the page's other parameters."""

    def link(to: int) -> str:
        query = {**request.query_params, "limit": str(limit), param: str(to)}
        return f"{request.url.path}?{urlencode(query)}"

    previous = link(max(0, offset - limit)) if offset > 0 else None
    following = link(offset + limit) if offset + limit < total else None
    return Pager(total, limit, offset, previous, following)


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
    service: ServiceDep,
    session: SessionDep,
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> Response:
    """The reviewer's own department's open tasks (R22), ``limit`` from ``offset``."""
    actor = current_actor(request, session)
    if actor is None:
        return to_login()
    if refused := await permitted(service, session, actor, "inbox", (Role.REVIEWER,)):
        return forbidden(request, actor, refused)
    return await inbox_page(request, service, session, actor, limit=limit, offset=offset)


async def decide(
    case_no: str, request: Request, service: CaseService, session: Session, actor: Actor
) -> Response:
    """A department's opinion from the inbox form, as the API's POST /decision."""
    refused = await permitted(service, session, actor, "decide", (Role.REVIEWER,), case_no)
    if refused:
        return forbidden(request, actor, refused)
    form = await request.form()
    named = form.get("department")
    try:
        department = await deciding_department(
            service, session, case_no, actor, named if isinstance(named, str) else None
        )
    except PermissionDeniedError as refusal:
        return forbidden(request, actor, refusal_line(refusal))
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
            line, code = refusal_line(error), refusal_code(error)
        else:
            line, code = "outcome: 请选择审查意见", status.HTTP_422_UNPROCESSABLE_CONTENT
        return await inbox_page(request, service, session, actor, code, line)
    except DomainError as error:
        return await inbox_page(
            request, service, session, actor, refusal_code(error), refusal_line(error)
        )
    done = f"{case_no}：已提交审查意见（{OUTCOME_LABELS[outcome]}）"
    return await inbox_page(request, service, session, actor, done=done)


# ---- the supervisor's board ---------------------------------------------------------------------


@router.get("/board", response_class=HTMLResponse)
async def board(
    request: Request,
    service: ServiceDep,
    session: SessionDep,
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
    flagged_offset: Offset = 0,
) -> Response:
    """Open cases with their lights, and the overdue or escalated tasks (电子监察), each list
    ``limit`` a page (``offset``, ``flagged_offset``)."""
    actor = current_actor(request, session)
    if actor is None:
        return to_login()
    if refused := await permitted(service, session, actor, "board", BOARD_ROLES):
        return forbidden(request, actor, refused)
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
