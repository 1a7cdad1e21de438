"""The public progress page (办件进度查询), for the applicant, without a login: a form for the
case number and the check code printed on the case's notices; the case's page with its stage,
dates, outcome and each department's state (no applicant, no reviewer, no opinion's text);
and, on a completed case awaiting it, the rating form (好差评, R20): five levels, an optional
comment and the departments or the window it concerns, named.

The case number and the check code are posted, never put in an address (no code in a log, a
browser's history or a referrer). Every post carries the console's CSRF token
(approval.web.security, checked by approval.web.access.guard_posts before the route), and
counts against the same public rate limit as the JSON route (``APPROVAL_PUBLIC_RATE_LIMIT``,
then 429 with Retry-After). A wrong check code and an unknown case are the same page. The
rating form carries a request id of its own, so that a double submit has one effect (R23); a
refusal is the page again with its Chinese line, an outage a 503 saying to try again later
(the same form may be sent again)."""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from approval.config import Settings
from approval.domain.check_code import CHECK_CODE_PATTERN, PROGRESS_PATH
from approval.domain.models import CASE_NUMBER_PATTERN, RatingLevel
from approval.http.deps import ServiceDep, SessionDep
from approval.http.limiting import RateLimitedError, public_rate_limit
from approval.service import EngineUnavailableError
from approval.web.pages.public_progress import (
    COMMENT_MAX,
    FIELD_PROBLEMS,
    INVALID_INPUT,
    NOT_FOUND_FIELD,
    NOT_FOUND_REASON,
    REQUEST_ID_PATTERN,
    PublicCase,
    RatingRefusal,
    find_case,
    rate,
    rating_command,
)
from approval.web.rendering import page

router = APIRouter()

PATH = PROGRESS_PATH.removeprefix("/web")
"""The page under the console's prefix: ``/web/progress`` (approval.domain.check_code)."""
NOT_FOUND_LINE = f"{NOT_FOUND_FIELD}: {NOT_FOUND_REASON}"
TRY_LATER = "请稍后重试：系统暂时无法办理，本次评价尚未记录，可再次提交"
LEVELS = tuple(RatingLevel)


def _text(form: FormData, name: str) -> str:
    """A text field of the form, trimmed; empty when missing or not text."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def lookup_page(
    request: Request,
    code: int = status.HTTP_200_OK,
    error: str | None = None,
    error_code: str | None = None,
    case_no: str = "",
) -> HTMLResponse:
    """The form for the case number and the check code."""
    return page(
        request,
        "public_lookup.html",
        None,
        code,
        error=error,
        error_code=error_code,
        case_no=case_no,
        case_no_pattern=CASE_NUMBER_PATTERN.strip("^$"),
        check_code_pattern=CHECK_CODE_PATTERN.strip("^$"),
    )


def case_page(
    request: Request,
    case: PublicCase,
    check_code: str,
    code: int = status.HTTP_200_OK,
    error: str | None = None,
    error_code: str | None = None,
    done: str | None = None,
    request_id: str | None = None,
) -> HTMLResponse:
    """The case as the applicant sees it; the rating form while the case awaits it."""
    return page(
        request,
        "public_case.html",
        None,
        code,
        case=case,
        check_code=check_code,
        levels=LEVELS,
        comment_max=COMMENT_MAX,
        request_id=request_id or f"web-{uuid.uuid4().hex}",
        error=error,
        error_code=error_code,
        done=done,
    )


async def _limited(request: Request) -> HTMLResponse | None:
    """The 429 page once the client is past the public rate limit; None before."""
    try:
        await public_rate_limit(request)
    except RateLimitedError as refusal:
        line = f"client: {refusal.reason}"
        response = lookup_page(request, status.HTTP_429_TOO_MANY_REQUESTS, line, refusal.code)
        response.headers["Retry-After"] = str(refusal.retry_after_s)
        return response
    return None


def _malformed(field: str) -> str:
    return f"{field}: {FIELD_PROBLEMS[field]}"


def _found(
    request: Request, session: Session, form: FormData
) -> tuple[PublicCase, str] | HTMLResponse:
    """The case the form names with its check code; else the lookup page saying why (a
    malformed field, or the one answer of every miss)."""
    case_no, check_code = _text(form, "case_no"), _text(form, "check_code").upper()
    if not re.fullmatch(CASE_NUMBER_PATTERN, case_no):
        unprocessable = status.HTTP_422_UNPROCESSABLE_CONTENT
        return lookup_page(request, unprocessable, _malformed("case_no"), INVALID_INPUT)
    if not re.fullmatch(CHECK_CODE_PATTERN, check_code):
        unprocessable = status.HTTP_422_UNPROCESSABLE_CONTENT
        line = _malformed("check_code")
        return lookup_page(request, unprocessable, line, INVALID_INPUT, case_no)
    session.expire_all()
    case = find_case(session, _settings(request).audit_key_bytes, case_no, check_code)
    if case is None:
        return lookup_page(request, status.HTTP_404_NOT_FOUND, NOT_FOUND_LINE, case_no=case_no)
    return case, check_code


@router.get(PATH, response_class=HTMLResponse)
async def lookup_form(request: Request) -> Response:
    """The form: case number and check code."""
    return lookup_page(request)


@router.post(PATH, response_class=HTMLResponse)
async def lookup(request: Request, session: SessionDep) -> Response:
    """The case the number and the check code name; the same page for a wrong code and an
    unknown case. Rate-limited with the JSON route."""
    if (limited := await _limited(request)) is not None:
        return limited
    found = _found(request, session, await request.form())
    if isinstance(found, HTMLResponse):
        return found
    case, check_code = found
    return case_page(request, case, check_code)


@router.post(f"{PATH}/rating", response_class=HTMLResponse)
async def rating(request: Request, session: SessionDep, service: ServiceDep) -> Response:
    """The applicant's rating (R20), authenticated by the check code, sent with the form's
    request id (one effect, R23). Refused: the page again with the Chinese line naming the
    field; the engine out of reach: 503, try again later."""
    if (limited := await _limited(request)) is not None:
        return limited
    form = await request.form()
    found = _found(request, session, form)
    if isinstance(found, HTMLResponse):
        return found
    case, check_code = found
    request_id = _text(form, "request_id")
    if not re.fullmatch(REQUEST_ID_PATTERN, request_id):
        line, unprocessable = _malformed("request_id"), status.HTTP_422_UNPROCESSABLE_CONTENT
        return case_page(request, case, check_code, unprocessable, line, INVALID_INPUT)
    concerns = [c for c in form.getlist("concerns") if isinstance(c, str)]
    try:
        command = rating_command(
            case.case_no, _text(form, "level"), _text(form, "comment"), concerns
        )
    except RatingRefusal as refusal:  # never sent: the same request id may be sent again
        code, line = refusal.status_code, refusal.line
        return case_page(request, case, check_code, code, line, refusal.code, request_id=request_id)
    try:
        await rate(service, session, case.case_no, command, request_id)
    except RatingRefusal as refusal:  # refused by the case: a new request id for the next
        case = _again(request, session, case, check_code)
        return case_page(request, case, check_code, refusal.status_code, refusal.line, refusal.code)
    except EngineUnavailableError as outage:
        response = case_page(
            request,
            case,
            check_code,
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"engine: {TRY_LATER}",
            outage.code,
            request_id=request_id,
        )
        response.headers["Retry-After"] = str(outage.retry_after_s)
        return response
    case = _again(request, session, case, check_code)
    return case_page(request, case, check_code, done=f"感谢您的评价：{command.level.label}")


def _again(request: Request, session: Session, case: PublicCase, check_code: str) -> PublicCase:
    """The case read again after the engine answered (it has recorded what it did)."""
    session.expire_all()
    key = _settings(request).audit_key_bytes
    return find_case(session, key, case.case_no, check_code) or case
