"""Liveness and readiness, for the load balancer and the orchestrator in front of the API:
``/healthz`` answers while the process serves (no I/O, never rate-limited: a probe may call
it every second); ``/readyz`` only when Temporal and the store answer too, else 503 naming
each part that does not, with a machine code and Retry-After (a client address may ask it a
limited number of times, as every public route: ``APPROVAL_PUBLIC_RATE_LIMIT``)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from approval.http.limiting import public_rate_limit
from approval.service import CaseService, EngineUnavailableError

router = APIRouter(tags=["health"])

ENGINE_UNREACHABLE = ("engine_unavailable", "审批引擎（Temporal）无法连接 Temporal unreachable")
STORE_UNREACHABLE = ("store_unavailable", "办件数据库无法连接 store unreachable")


class Check(BaseModel):
    """One part the API needs: whether it answers, and if not why."""

    ok: bool
    code: str | None = None
    reason: str | None = None


class Readiness(BaseModel):
    """``ready`` when every part answers, else ``unavailable``."""

    status: str
    checks: dict[str, Check]


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process serves."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    dependencies=[Depends(public_rate_limit)],
    responses={503: {"model": Readiness}, 429: {}},
)
async def readyz(request: Request) -> JSONResponse:
    """Temporal and the store answer: 200, else 503 with Retry-After."""
    service: CaseService = request.app.state.service
    sessions: sessionmaker[Session] = request.app.state.sessions
    temporal, store = await asyncio.gather(
        service.temporal_answers(), asyncio.to_thread(_store_answers, sessions)
    )
    checks = {
        "temporal": _check(temporal, ENGINE_UNREACHABLE),
        "store": _check(store, STORE_UNREACHABLE),
    }
    ready = all(check.ok for check in checks.values())
    body = Readiness(status="ready" if ready else "unavailable", checks=checks)
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE,
        headers=None if ready else {"Retry-After": str(EngineUnavailableError.retry_after_s)},
    )


def _check(ok: bool, problem: tuple[str, str]) -> Check:
    code, reason = problem
    return Check(ok=True) if ok else Check(ok=False, code=code, reason=reason)


def _store_answers(sessions: sessionmaker[Session]) -> bool:
    """Whether the store answers a trivial query."""
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return False
    return True
