"""Who is asking the console, and whether a form post really comes from the console's own page.

Every POST under /web carries a CSRF token: the HMAC, under a key derived from the audit key,
of the browser's random CSRF cookie and its login cookie (OWASP's signed double-submit token,
bound to the session). The page puts it in each form (``csrf_token``); a program may send it
as the ``X-CSRF-Token`` header instead. A token is good for the browser and the login it was
made for: it changes at login and logout. The post's ``Origin`` (or, without one, its
``Referer``) must be the console's own host (its ``Host`` header: a reverse proxy in front
must pass the browser's on, e.g. nginx ``proxy_set_header Host $host``). A refused post is the
403 page; on a case, by a logged-in person, it is kept in the case's record (R21, R22)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from approval.config import Settings
from approval.domain.models import Actor, Role
from approval.http.refusals import HttpRefusal
from approval.store.users import user_by_token

COOKIE = "approval_token"
"""The login cookie: the person's API token (HttpOnly)."""
CSRF_COOKIE = "approval_csrf"
"""The browser's random CSRF secret (HttpOnly)."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_KEY_LABEL = b"approval.web.csrf/v1"
CSRF_INVALID = "csrf_invalid"
FOREIGN_ORIGIN = "foreign_origin"
"""The machine codes of the two refusals."""


class ConsoleRefusal(HttpRefusal):
    """A console request refused before its route ran: shown as a page with one line."""


def current_actor(request: Request, session: Session) -> Actor | None:
    """The actor of the cookie's token, as the API's bearer token (approval.api.deps)."""
    token = request.cookies.get(COOKIE)
    user = user_by_token(session, token) if token else None
    if user is None:
        return None
    return Actor(role=Role(user.role), id=user.name, department=user.department)


def csrf_key(settings: Settings) -> bytes:
    """The key of the CSRF tokens, derived from the audit key (never the audit key itself)."""
    return hmac.new(settings.audit_key_bytes, CSRF_KEY_LABEL, hashlib.sha256).digest()


def csrf_token(key: bytes, secret: str, login: str) -> str:
    """The token of a browser's CSRF secret and its login cookie (empty before login)."""
    message = f"{secret}\n{login}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def browser_secret(request: Request) -> str:
    """The request's CSRF secret: its cookie's, or a new one that ``keep_secret`` sets."""
    secret = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_secret", None)
    if not secret:
        secret = secrets.token_urlsafe(32)
        request.state.csrf_secret = secret
    return str(secret)


def form_token(request: Request) -> str:
    """The CSRF token the page's forms carry."""
    key = csrf_key(_settings(request))
    return csrf_token(key, browser_secret(request), request.cookies.get(COOKIE, ""))


def token_field(request: Request) -> Markup:
    """The hidden input of the CSRF token, for every form that posts."""
    value = escape(form_token(request))
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{value}">')


def keep_secret(request: Request, response: Response) -> None:
    """Set the CSRF cookie when this request made a new secret."""
    secret = getattr(request.state, "csrf_secret", None)
    if secret and request.cookies.get(CSRF_COOKIE) != secret:
        secure = request.url.scheme == "https"
        response.set_cookie(
            CSRF_COOKIE, secret, httponly=True, samesite="strict", secure=secure, path="/web"
        )


def origin_problem(request: Request) -> ConsoleRefusal | None:
    """None when the post's Origin (else its Referer) is the console's own host, or the
    request names neither (not a browser); else the refusal."""
    field = "origin" if "origin" in request.headers else "referer"
    source = request.headers.get(field)
    if source is None:
        return None
    try:
        netloc = urlsplit(source).netloc.lower() if source != "null" else ""
    except ValueError:
        netloc = ""
    if netloc and netloc == request.headers.get("host", "").lower():
        return None
    reason = f"请求来源 {source[:100]} 不是本系统页面，已拒绝（R22）"
    return ConsoleRefusal(403, field, reason, FOREIGN_ORIGIN)


async def posted_token(request: Request) -> str:
    """The CSRF token the post carries: its header, or its form's field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


async def token_problem(request: Request) -> ConsoleRefusal | None:
    """None when the post's CSRF token is the one its page was given; else the refusal."""
    secret = request.cookies.get(CSRF_COOKIE)
    sent = await posted_token(request)
    if secret and sent and hmac.compare_digest(form_token(request).encode(), sent.encode()):
        return None
    reason = "表单已过期或不是本系统页面提交的，请刷新页面后重试（R22）"
    return ConsoleRefusal(403, CSRF_FIELD, reason, CSRF_INVALID)


async def post_problem(request: Request) -> ConsoleRefusal | None:
    """Why a console POST is refused (a foreign origin, then a bad token), if it is."""
    return origin_problem(request) or await token_problem(request)
