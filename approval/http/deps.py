"""The dependencies both HTTP faces take (the API with its bearer token, approval.api.deps;
the console with its login cookie, approval.web.access): the engine, a store session, and the
role checks of R22. A role check that refuses an action on a case keeps the refused attempt in
the case's record (R21), as the case does for the refusals it decides itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, NoReturn

import structlog
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from approval.domain.errors import PermissionDeniedError
from approval.domain.labels import ROLE_LABELS, action_label
from approval.domain.models import Actor, Role
from approval.service import CaseService
from approval.store.numbering import case_known
from approval.store.queries import has_task


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


def bind_actor(actor: Actor, case_no: str | None) -> None:
    """Name the request's actor (its id, role, department) and case on every log line the
    request writes from here on."""
    structlog.contextvars.bind_contextvars(
        actor=actor.id, role=actor.role.value, department=actor.department
    )
    if case_no:
        structlog.contextvars.bind_contextvars(case_no=case_no)


ServiceDep = Annotated[CaseService, Depends(get_service)]
SessionDep = Annotated[Session, Depends(get_session)]


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
    needed = "或".join(ROLE_LABELS[r] for r in roles)
    doing = action_label(action)
    reason = f"{ROLE_LABELS[actor.role]}无权{doing}，须由{needed}办理（R22）"
    await refuse(service, session, case_no, actor, action, "actor.role", reason)


async def reviewer_with_task(
    service: CaseService, session: Session, case_no: str, actor: Actor, action: str
) -> None:
    """A reviewer reads a case only where its department has a task (R22): otherwise 403, the
    attempt kept in the case's record (R21). Any other role passes."""
    if actor.role is Role.REVIEWER and not has_task(session, case_no, actor.department or ""):
        reason = f"部门 {actor.department} 在办件 {case_no} 上没有审查任务（R22）"
        await refuse(service, session, case_no, actor, action, "case_no", reason)


async def deciding_department(
    service: CaseService, session: Session, case_no: str, actor: Actor, named: str | None
) -> str:
    """The department a reviewer decides for: its own, with a task on the case. A request
    naming another department, or a department without a task there, is refused (403) and
    the attempt kept in the case's record (R21, R22)."""
    department = actor.department or ""
    if named is not None and named != department:
        own = department or "（无部门）"
        reason = f"部门审批人员只能代表本部门 {own} 提出意见，不能代表 {named}（R22）"
        await refuse(service, session, case_no, actor, "decide", "department", reason)
    if not has_task(session, case_no, department):
        reason = f"部门 {department or '（无部门）'} 在办件 {case_no} 上没有审查任务（R22）"
        await refuse(service, session, case_no, actor, "decide", "department", reason)
    return department
