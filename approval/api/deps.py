"""The dependencies of the routes: the engine, a store session, the authenticated actor and
the role checks (R22). A role check that refuses an action on a case keeps the refused attempt
in the case's record (R21), as the case does for the refusals it decides itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, NoReturn

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from approval.domain.errors import PermissionDeniedError
from approval.domain.models import CASE_NUMBER_PATTERN, Actor, Role
from approval.service import CaseService, UnknownCaseError
from approval.store.repository import case_known, has_task, user_by_token

bearer = HTTPBearer(auto_error=False, description="an API token (approval.cli.users create)")


def get_service(request: Request) -> CaseService:
    """The engine the app was started with."""
    service: CaseService = request.app.state.service
    return service


def get_sessions(request: Request) -> sessionmaker[Session]:
    """The store's session factory."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]


async def get_session(sessions: SessionsDep) -> AsyncIterator[Session]:
    """A store session for the request, for reading. Opened on the event loop, as the routes
    use it: its look-ups are short, and a hand-off to the thread pool costs more (BENCHMARKS.md)."""
    with sessions() as session:
        yield session


ServiceDep = Annotated[CaseService, Depends(get_service)]
SessionDep = Annotated[Session, Depends(get_session)]
CaseNo = Annotated[
    str, Path(pattern=CASE_NUMBER_PATTERN, description="e.g. 371600-20261128-000042")
]


async def get_actor(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The authenticated actor: role, id and department of the token's active user (R22)."""
    user = user_by_token(session, credentials.credentials) if credentials else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={"field": "authorization", "reason": "a valid bearer token is required"},
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Actor(role=Role(user.role), id=user.name, department=user.department)


CurrentActor = Annotated[Actor, Depends(get_actor)]


async def refuse(
    service: CaseService,
    session: Session,
    case_no: str | None,
    actor: Actor,
    action: str,
    field: str,
    reason: str,
) -> NoReturn:
    """Refuse with 403; an attempt on a known case is kept in its record (R21)."""
    if case_no is not None and case_known(session, case_no):
        await service.keep_refusal(case_no, actor, action, field, reason)
    raise PermissionDeniedError(field, reason)


def allowed(action: str, *roles: Role) -> Callable[..., Awaitable[Actor]]:
    """A dependency: the actor, when its role may do ``action``; else 403, recorded (R22)."""

    async def check(
        request: Request, actor: CurrentActor, service: ServiceDep, session: SessionDep
    ) -> Actor:
        case_no = request.path_params.get("case_no")
        await require_role(service, session, case_no, actor, action, roles)
        return actor

    return check


async def require_role(
    service: CaseService,
    session: Session,
    case_no: str | None,
    actor: Actor,
    action: str,
    roles: tuple[Role, ...],
) -> None:
    """Nothing when the actor's role is one of ``roles``; else 403, recorded (R21, R22)."""
    if actor.role in roles:
        return
    needed = "/".join(r.value for r in roles)
    reason = f"{actor.role} may not {action}; needs {needed} (R22)"
    await refuse(service, session, case_no, actor, action, "actor.role", reason)


CASE_READERS = (Role.CLERK, Role.REVIEWER, Role.SUPERVISOR, Role.AUDITOR)
"""The roles that read a case's record (its materials, its notices); a reviewer only where its
department has a task."""


async def reviewer_with_task(
    service: CaseService, session: Session, case_no: str, actor: Actor, action: str
) -> None:
    """A reviewer reads a case only where its department has a task (R22): otherwise 403, the
    attempt kept in the case's record (R21). Any other role passes."""
    if actor.role is Role.REVIEWER and not has_task(session, case_no, actor.department or ""):
        reason = f"{actor.department} has no task on {case_no} (R22)"
        await refuse(service, session, case_no, actor, action, "case_no", reason)


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


async def deciding_department(
    service: CaseService, session: Session, case_no: str, actor: Actor, named: str | None
) -> str:
    """The department a reviewer decides for: its own, with a task on the case. A request
    naming another department, or a department without a task there, is refused (403) and
    the attempt kept in the case's record (R21, R22)."""
    department = actor.department or ""
    if named is not None and named != department:
        reason = f"{actor.id} decides for {department or 'no department'}, not {named} (R22)"
        await refuse(service, session, case_no, actor, "decide", "department", reason)
    if not has_task(session, case_no, department):
        reason = f"{department or 'no department'} has no task on {case_no} (R22)"
        await refuse(service, session, case_no, actor, "decide", "department", reason)
    return department
