"""The API's own dependencies: the actor of the bearer token, and the role checks of the routes
built on it (R22). The engine, the store session and the checks the console makes too are
approval.http.deps; a refused action on a case is kept in its record there (R21)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from approval.domain.models import CASE_NUMBER_PATTERN, Actor, Role
from approval.http.deps import (
    ServiceDep,
    SessionDep,
    bind_actor,
    require_role,
    reviewer_with_task,
)
from approval.service import UnknownCaseError
from approval.store.numbering import case_known
from approval.store.users import user_by_token

bearer = HTTPBearer(auto_error=False, description="an API token (approval.cli.users create)")

IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=200,
        description="the same key sent again (a retry after an outage) has one effect (R23)",
    ),
]
"""The ``Idempotency-Key`` of an action on a case: its Update's id."""

CaseNo = Annotated[
    str, Path(pattern=CASE_NUMBER_PATTERN, description="e.g. 371600-20261128-000042")
]


async def get_actor(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The authenticated actor: role, id and department of the token's active user (R22);
    the request's log lines name it, and the case of the path."""
    user = user_by_token(session, credentials.credentials) if credentials else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={
                "field": "authorization",
                "reason": "须提供有效的访问令牌（Authorization: Bearer 令牌）",
                "code": "unauthenticated",
            },
            headers={"WWW-Authenticate": "Bearer"},
        )
    actor = Actor(role=Role(user.role), id=user.name, department=user.department)
    bind_actor(actor, request.path_params.get("case_no"))
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


def allowed(action: str, *roles: Role) -> Callable[..., Awaitable[Actor]]:
    """A dependency: the actor, when its role may do ``action``; else 403, recorded (R22)."""

    async def check(
        request: Request, actor: CurrentActor, service: ServiceDep, session: SessionDep
    ) -> Actor:
        case_no = request.path_params.get("case_no")
        await require_role(service, session, case_no, actor, action, roles)
        return actor

    return check


CASE_READERS = (Role.CLERK, Role.REVIEWER, Role.SUPERVISOR, Role.AUDITOR)
"""The roles that read a case's record (its materials, its notices); a reviewer only where its
department has a task."""


def case_reader(action: str) -> Callable[..., Awaitable[Actor]]:
    """A dependency: the actor reading a known case's record, as ``action``: a role of
    CASE_READERS (R22), a reviewer only where its department has a task, refusals kept (R21);
    a number no case was given is 404."""

    async def check(
        case_no: CaseNo, actor: CurrentActor, service: ServiceDep, session: SessionDep
    ) -> Actor:
        await require_role(service, session, case_no, actor, action, CASE_READERS)
        await reviewer_with_task(service, session, case_no, actor, action)
        if not case_known(session, case_no):
            raise UnknownCaseError("case_no", f"no case {case_no}")
        return actor

    return check
