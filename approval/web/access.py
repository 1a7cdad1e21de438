"""Who is asking the console, and what they may open (R22): FastAPI dependencies, so that no
page repeats it. The person is the user of the API token in the login cookie
(approval.web.security), checked with the same role rules as the API (approval.http.deps);
a refused attempt on a case is kept in its record there (R21).

A page's dependency raises instead of answering: ``SignInNeeded`` (no or stale token) is the
way back to the login page, ``Forbidden`` the 403 page with the refusal's one line. The app
answers both with HANDLERS. Every POST is checked first (``guard_posts``): its Origin and its
CSRF token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.responses import Response

from approval.domain.errors import PermissionDeniedError
from approval.domain.models import Actor, Role
from approval.http.deps import ServiceDep, SessionDep, bind_actor, refuse, require_role
from approval.web.case_actions import CASE_ACTIONS
from approval.web.rendering import forbidden, refusal_line, to_login
from approval.web.security import current_actor, post_problem

T = TypeVar("T")


class SignInNeeded(Exception):
    """The request carries no valid login: back to the login page."""


class Forbidden(Exception):
    """The signed-in person may not do this: the 403 page with the refusal's line."""

    def __init__(self, actor: Actor, line: str) -> None:
        super().__init__(line)
        self.actor = actor
        self.line = line


async def signed_in(request: Request, session: SessionDep) -> Actor:
    """The signed-in person, as the API's bearer token is read (approval.api.deps)."""
    actor = current_actor(request, session)
    if actor is None:
        raise SignInNeeded
    bind_actor(actor, request.path_params.get("case_no"))
    return actor


SignedIn = Annotated[Actor, Depends(signed_in)]


async def or_forbidden(actor: Actor, check: Awaitable[T]) -> T:
    """What ``check`` gives; a refusal it raises (403, approval.http.deps) is Forbidden."""
    try:
        return await check
    except PermissionDeniedError as refusal:
        raise Forbidden(actor, refusal_line(refusal)) from None


def person(action: str, *roles: Role) -> Callable[..., Awaitable[Actor]]:
    """A dependency: the signed-in person, when its role may do ``action``; else Forbidden,
    the attempt kept in the case's record when the page is a case's (R21, R22)."""

    async def check(
        request: Request, actor: SignedIn, service: ServiceDep, session: SessionDep
    ) -> Actor:
        case_no = request.path_params.get("case_no")
        await or_forbidden(actor, require_role(service, session, case_no, actor, action, roles))
        return actor

    return check


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


async def _to_login(_request: Request, _error: Exception) -> Response:
    return to_login()


async def _forbidden(request: Request, error: Exception) -> Response:
    assert isinstance(error, Forbidden)
    return forbidden(request, error.actor, error.line)


HANDLERS = {SignInNeeded: _to_login, Forbidden: _forbidden}
"""How the app answers the console's own refusals (approval.api.app adds them)."""
