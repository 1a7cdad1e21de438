"""Signing in and out of the console, and changing one's password; each person's own start
page; the console's stylesheet.

A person signs in with their user name and password (argon2id, approval.store.users); a
system's API token is taken too. Either way the browser gets a sign-in of its own, a token
that expires after ``APPROVAL_SESSION_LIFETIME_MINUTES`` and is kept in an HttpOnly cookie;
signing out ends it. Failed sign-ins are rate-limited per client
(``APPROVAL_LOGIN_FAILURE_RATE_LIMIT``, then 429)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from approval.config import Settings
from approval.domain.models import Role
from approval.http.deps import SessionsDep
from approval.http.limiting import client_key, rate_limits
from approval.store.schema import UserRow
from approval.store.users import (
    close_other_sign_ins,
    close_sign_in,
    open_sign_in,
    set_password,
    user_by_password,
    user_by_token,
)
from approval.web.access import SignedIn
from approval.web.rendering import HERE, page, to_login
from approval.web.security import COOKIE

router = APIRouter()

HOME = {
    Role.CLERK: "/web/cases",
    Role.REVIEWER: "/web/inbox",
    Role.SUPERVISOR: "/web/board",
    Role.AUDITOR: "/web/board",
}
LOGIN_CHALLENGE = 'Bearer realm="approval-console"'
"""The 401's challenge: the console's sign-in takes a password or a bearer token."""
BAD_SIGN_IN = "用户名或密码不正确，或账号已停用"
BAD_SIGN_IN_CODE = "sign_in_failed"
Text = Annotated[str, Form()]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def home(actor: SignedIn) -> Response:
    """The actor's own start page."""
    return RedirectResponse(HOME.get(actor.role, "/web/login"), status.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    """The sign-in form: user name and password (a system's token below it)."""
    return page(request, "login.html", None)


def _who(session: Session, name: str, password: str, token: str) -> UserRow | None:
    """The user the form names: by user name and password, else by token."""
    if name.strip():
        return user_by_password(session, name.strip(), password)
    return user_by_token(session, token.strip()) if token.strip() else None


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    sessions: SessionsDep,
    name: Text = "",
    password: Text = "",
    token: Text = "",
) -> Response:
    """Check the user name and password (or the token) and start a sign-in that expires. A
    client past its failed attempts (``APPROVAL_LOGIN_FAILURE_RATE_LIMIT``) is refused with
    429 until the window frees one."""
    failures, client = rate_limits(request).login_failures, client_key(request)
    if failures.exhausted(client):
        raise failures.refusal(client)
    lifetime = timedelta(minutes=_settings(request).session_lifetime_minutes)
    with sessions.begin() as session:
        user = _who(session, name, password, token)
        signed = user and open_sign_in(session, user.id, datetime.now(UTC), lifetime)
        home = HOME.get(Role(user.role), "/web/login") if user else ""
    if not signed:
        failures.hit(client)
        refused = page(
            request,
            "login.html",
            None,
            status.HTTP_401_UNAUTHORIZED,
            error=f"登录失败：{BAD_SIGN_IN}",
            error_code=BAD_SIGN_IN_CODE,
            typed_name=name.strip(),
        )
        refused.headers["WWW-Authenticate"] = LOGIN_CHALLENGE
        return refused
    response = RedirectResponse(home, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        signed,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/web",
    )
    return response


@router.post("/logout")
async def logout(request: Request, sessions: SessionsDep) -> Response:
    """End the sign-in: its token stops working, and the browser forgets it."""
    token = request.cookies.get(COOKIE)
    if token:
        with sessions.begin() as session:
            close_sign_in(session, token)
    response = to_login()
    response.delete_cookie(COOKIE, path="/web")
    return response


@router.get("/password", response_class=HTMLResponse)
async def password_form(request: Request, actor: SignedIn) -> Response:
    """The form to change one's own password."""
    return page(request, "password.html", actor)


def _password_change_problem(user: UserRow | None, new: str, repeated: str) -> str | None:
    """Why the change is refused (``field：reason``), or None."""
    if user is None:
        return "current：当前密码不正确"
    if new != repeated:
        return "repeated：两次输入的新密码不一致"
    return None


@router.post("/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    actor: SignedIn,
    sessions: SessionsDep,
    current: Text = "",
    new: Text = "",
    repeated: Text = "",
) -> Response:
    """Change one's password: the current one checked, the new one twice. Every other sign-in
    of the person ends (whoever knew the old password is signed out); this one goes on."""
    with sessions.begin() as session:
        user = user_by_password(session, actor.id, current)
        problem = _password_change_problem(user, new, repeated)
        if user is not None and problem is None:
            try:
                set_password(session, user, new)
            except ValueError as refusal:
                problem = str(refusal).replace(": ", "：", 1)
            else:
                close_other_sign_ins(session, user.id, request.cookies.get(COOKIE, ""))
    if problem:
        return page(
            request, "password.html", actor, status.HTTP_422_UNPROCESSABLE_CONTENT, error=problem
        )
    return page(request, "password.html", actor, done="密码已修改，其他设备上的登录已退出")


@router.get("/static/console.css")
async def stylesheet() -> Response:
    """The console's one stylesheet."""
    css = (HERE / "static" / "console.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})
