"""Signing in and out of the console with an API token (approval.cli.users create), kept in an
HttpOnly cookie; each person's own start page; the console's stylesheet. Failed logins are
rate-limited per client (``APPROVAL_LOGIN_FAILURE_RATE_LIMIT``, then 429)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from approval.domain.models import Role
from approval.http.deps import SessionDep
from approval.http.limiting import client_key, rate_limits
from approval.store.users import user_by_token
from approval.web.access import SignedIn
from approval.web.rendering import HERE, page, to_login
from approval.web.security import COOKIE

router = APIRouter()

HOME = {
    Role.CLERK: "/web/cases/new",
    Role.REVIEWER: "/web/inbox",
    Role.SUPERVISOR: "/web/board",
    Role.AUDITOR: "/web/board",
}
LOGIN_CHALLENGE = 'Bearer realm="approval-console"'
"""The 401's challenge: the console's login takes the person's bearer token."""


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def home(actor: SignedIn) -> Response:
    """The actor's own start page."""
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
