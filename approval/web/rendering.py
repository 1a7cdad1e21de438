"""How the console answers: its Jinja templates with the Chinese labels they show, a page for
the signed-in person (its forms carrying the CSRF token), the page of a refusal or an outage
with its status, and a refusal as the one line (``field: reason``) that page shows, with the
status the API gives the same refusal."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from approval.domain.calendar import SHANGHAI
from approval.domain.errors import DomainError
from approval.domain.labels import PROCEDURE_NAMES, STAGE_LABELS, TASK_LABELS
from approval.domain.models import Actor, Role
from approval.domain.status import Light
from approval.http.refusals import refusal_status
from approval.validation import problem_line
from approval.web.security import keep_secret, token_field

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

ROLE_LABELS = {
    Role.CLERK: "窗口工作人员",
    Role.REVIEWER: "部门审批人员",
    Role.SUPERVISOR: "电子监察人员",
    Role.AUDITOR: "审计人员",
}
LIGHTS = {
    Light.GREEN: "● 绿",
    Light.YELLOW: "● 黄",
    Light.RED: "● 红",
    Light.PAUSED: "‖ 暂停",
    Light.NONE: "—",
}
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
