"""The FastAPI app: one Temporal client and one store for the process, opened at start-up;
every refusal answered as ``{"detail": {"field": ..., "reason": ...}}`` with a 4xx status,
never a 500 for bad input.

Run it with any ASGI server, e.g. ``uvicorn --factory approval.api.app:create_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from approval.api.routes import audit, cases, inbox, materials, public, supervision
from approval.config import Settings, get_settings
from approval.domain.catalogue import load_catalogue
from approval.domain.errors import DomainError
from approval.runtime import open_store
from approval.service import CaseService, RefusedError, connect
from approval.web.routes import router as web_router

STATUS_OF_REFUSAL = {
    "PermissionDeniedError": status.HTTP_403_FORBIDDEN,
    "UnknownCaseError": status.HTTP_404_NOT_FOUND,
    "StageError": status.HTTP_409_CONFLICT,
    "TaskClosedError": status.HTTP_409_CONFLICT,
    "ExtensionRefusedError": status.HTTP_409_CONFLICT,
    "PiecemealNoticeError": status.HTTP_409_CONFLICT,
    "RefusedError": status.HTTP_409_CONFLICT,
}
"""HTTP status by the refusal's kind; any other domain refusal is invalid input (422)."""
REQUEST_PARTS = ("body", "path", "query", "header")


def create_app(
    service: CaseService | None = None,
    sessions: sessionmaker[Session] | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The API. Tests inject an engine and its store; otherwise start-up connects to Temporal
    and opens the store named by ``settings`` (default: the environment's)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service is not None and sessions is not None:
            yield
            return
        config = settings or get_settings()
        store = open_store(config.store_url)
        client = await connect(config)
        catalogue = load_catalogue(config.catalogue_path)
        app.state.service = CaseService(client, config, catalogue, store)
        app.state.settings = config
        app.state.sessions = store
        try:
            yield
        finally:
            store.kw["bind"].dispose()

    app = FastAPI(
        title="并联审批引擎 API",
        description="Parallel approval engine: the window, the departments, the supervisor.",
        lifespan=lifespan,
    )
    if service is not None and sessions is not None:
        app.state.service, app.state.sessions = service, sessions
        app.state.settings = settings or get_settings()
    for routes in (cases, materials, inbox, supervision, audit, public):
        app.include_router(routes.router)
    app.include_router(web_router)
    app.add_exception_handler(DomainError, _domain_refusal)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(ValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    return app


def refusal_kind(error: DomainError) -> str:
    """The kind of a refusal: the rule's own, also for one the case refused."""
    return error.kind if isinstance(error, RefusedError) else type(error).__name__


async def _domain_refusal(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    code = STATUS_OF_REFUSAL.get(refusal_kind(error), status.HTTP_422_UNPROCESSABLE_CONTENT)
    return _problem(code, error.field, error.reason)


async def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    """The first problem of a request's input, naming its field (422)."""
    assert isinstance(error, RequestValidationError | ValidationError)
    problems: list[Any] = list(error.errors())
    if not problems:
        return _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, "request", "invalid input")
    first = problems[0]
    loc = [str(p) for p in first.get("loc", ())]
    if loc and loc[0] in REQUEST_PARTS and not all(p.isdigit() for p in loc[1:]):
        loc = loc[1:]  # "applicant.id_number", not "body.applicant.id_number"
    elif loc and loc[0] in REQUEST_PARTS:
        loc = loc[:1]  # the body as a whole, e.g. not JSON
    message = str(first.get("msg", "invalid"))
    field = ".".join(loc)
    if message.startswith("Value error, ") and ": " in message:
        # a model's own check names its field at the start: "items: ..."
        field, message = message.removeprefix("Value error, ").split(": ", 1)
    return _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, field or "request", message)


async def _http_problem(_request: Request, error: Exception) -> JSONResponse:
    """The framework's own refusals (an unreadable body, no such path or method) in the same
    shape as every other: a field and a reason."""
    assert isinstance(error, StarletteHTTPException)
    if isinstance(error.detail, dict):
        return JSONResponse(status_code=error.status_code, content={"detail": error.detail})
    field = "body" if error.status_code == status.HTTP_400_BAD_REQUEST else "path"
    return _problem(error.status_code, field, str(error.detail))


def _problem(code: int, field: str, reason: str) -> JSONResponse:
    return JSONResponse(status_code=code, content={"detail": {"field": field, "reason": reason}})
