"""The FastAPI app: one Temporal client and one store for the process, opened at start-up;
every refusal answered as ``{"detail": {"field": ..., "reason": ..., "code": ...}}`` with a 4xx
status (the reason in Chinese, the code for programs),
never a 500 for bad input. An outage is told as one: Temporal, the worker or the store out of
reach is a 503 with ``Retry-After`` and a machine ``code`` (``engine_unavailable``,
``store_unavailable``); past a rate limit, 429 (``rate_limited``). Every answer carries the
security headers of approval.api.headers.

The app serves the console too (approval.web, under /web), which shows the same answers as a
Chinese page with the same status: this module mounts the console's router and answers its
refusals; the console never imports the API (both stand on approval.http).

Run it with any ASGI server, e.g. ``uvicorn --factory approval.api.app:create_app`` (the
same as ``approval.runtime:api_app``): the settings are checked before it serves, as in every
engine process, and a bad one, an unreachable store or an unreachable Temporal stops the start
with one line naming the setting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from approval.api import observability
from approval.api.headers import SecurityHeaders
from approval.api.observability import ApiMetrics, Observed
from approval.api.routes import (
    aftercare,
    audit,
    cases,
    efficiency,
    health,
    inbox,
    materials,
    notices,
    public,
    supervision,
)
from approval.api.startup import OneLineStartupRefusal, free_loopback_port, reach_engine
from approval.config import Settings
from approval.domain.catalogue import load_catalogue
from approval.domain.errors import DomainError
from approval.http.limiting import RateLimitedError, RateLimits
from approval.http.refusals import refusal_code, refusal_status
from approval.metrics import engine_runtime
from approval.service import CaseService, EngineUnavailableError
from approval.store.engine import engine_settings, open_store
from approval.validation import INVALID_INPUT, first_problem
from approval.web.access import HANDLERS as CONSOLE_HANDLERS
from approval.web.rendering import is_console, problem_page
from approval.web.routes import router as web_router
from approval.web.security import ConsoleRefusal

log = structlog.get_logger(__name__)

ENGINE_DOWN = "审批引擎暂时无法连接，请稍后重试（同一请求可安全重发）"
STORE_DOWN = "办件数据库暂时无法连接，请稍后重试（同一请求可安全重发）"
FRAMEWORK_REASONS = {
    status.HTTP_400_BAD_REQUEST: "请求内容无法解析",
    status.HTTP_401_UNAUTHORIZED: "须提供有效的身份凭证",
    status.HTTP_403_FORBIDDEN: "无权访问",
    status.HTTP_404_NOT_FOUND: "没有这个地址",
    status.HTTP_405_METHOD_NOT_ALLOWED: "该地址不接受这种请求方式",
    status.HTTP_413_CONTENT_TOO_LARGE: "请求内容过大",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "不支持这种请求内容格式",
}
"""The framework's own refusals (no such path, an unreadable body …) in Chinese, by status."""
FRAMEWORK_CODES = {
    status.HTTP_400_BAD_REQUEST: INVALID_INPUT,
    status.HTTP_401_UNAUTHORIZED: "unauthenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
}
"""The machine code of a framework refusal, by status."""
STORE_UNAVAILABLE = "store_unavailable"


def create_app(
    service: CaseService | None = None,
    sessions: sessionmaker[Session] | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The API. Tests inject an engine and its store; otherwise start-up connects to Temporal
    and opens the store named by ``settings`` (default: the environment's, checked as
    approval.store.engine.engine_settings checks them: a bad one is one line, exit status 2).
    Temporal out of reach at start-up is one line naming APPROVAL_TEMPORAL_ADDRESS."""
    config = _settings_of(service, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service is not None and sessions is not None:
            yield
            return
        sdk_metrics = f"127.0.0.1:{free_loopback_port()}"
        client = await reach_engine(config, engine_runtime(sdk_metrics))
        metrics.sdk_metrics_url = f"http://{sdk_metrics}/metrics"
        store = open_store(config.store_url)
        metrics.watch_cases(store)
        catalogue = load_catalogue(config.catalogue_path)
        app.state.service = CaseService(client, config, catalogue, store)
        app.state.settings = config
        app.state.sessions = store
        try:
            yield
        finally:
            store.kw["bind"].dispose()

    app = FastAPIOffline(
        title="并联审批引擎 API",
        description="Parallel approval engine: the window, the departments, the supervisor.",
        lifespan=lifespan,
    )
    app.state.settings = config
    app.state.rate_limits = RateLimits.of(app.state.settings)
    metrics = app.state.metrics = ApiMetrics()
    if service is not None and sessions is not None:
        app.state.service, app.state.sessions = service, sessions
        metrics.watch_cases(sessions)
    for routes in (
        cases,
        aftercare,
        materials,
        notices,
        inbox,
        supervision,
        efficiency,
        audit,
        public,
        health,
        observability,
    ):
        app.include_router(routes.router)
    app.include_router(web_router)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(OneLineStartupRefusal)
    app.add_middleware(Observed, metrics=metrics)
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)
    return app


def _settings_of(service: CaseService | None, settings: Settings | None) -> Settings:
    """The settings given; else the injected engine's; else this process's, checked before
    anything starts (approval.store.engine.engine_settings)."""
    if settings is not None:
        return settings
    return service.settings if service is not None else engine_settings()


def answer(
    request: Request,
    code: int,
    field: str,
    reason: str,
    machine_code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A refusal or an outage: ``{"detail": {"field", "reason"[, "code"]}}``, or on the
    console its page, with the same status."""
    if is_console(request):
        return problem_page(request, code, f"{field}: {reason}", machine_code, headers)
    detail = {"field": field, "reason": reason}
    if machine_code:
        detail["code"] = machine_code
    return JSONResponse(status_code=code, content={"detail": detail}, headers=headers)


async def _domain_refusal(request: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    code = refusal_code(error)
    return answer(request, refusal_status(error), error.field, error.reason, code)


async def _invalid_request(request: Request, error: Exception) -> Response:
    """The first problem of a request's input, naming its field, in Chinese (422,
    ``invalid_input``)."""
    assert isinstance(error, RequestValidationError | ValidationError)
    field, reason = first_problem(error, of_request=True)
    code = status.HTTP_422_UNPROCESSABLE_CONTENT
    return answer(request, code, field, reason, INVALID_INPUT)


async def _http_problem(request: Request, error: Exception) -> Response:
    """The framework's own refusals (an unreadable body, no such path or method) in the same
    shape as every other: a field and a reason, with their headers (401: WWW-Authenticate;
    405: Allow, every method the path has)."""
    assert isinstance(error, StarletteHTTPException)
    headers = dict(error.headers or {})
    if error.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        headers["Allow"] = ", ".join(allowed_methods(request))
    code = FRAMEWORK_CODES.get(error.status_code)
    if isinstance(error.detail, dict):
        field, reason = str(error.detail.get("field")), str(error.detail.get("reason"))
        code = str(error.detail.get("code") or code or "") or None
    else:
        field = "body" if error.status_code == status.HTTP_400_BAD_REQUEST else "path"
        reason = FRAMEWORK_REASONS.get(error.status_code, "请求未能办理")
    return answer(request, error.status_code, field, reason, code, headers=headers)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route of the request's path answers."""
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]


async def _engine_unavailable(request: Request, error: Exception) -> Response:
    """Temporal or the worker out of reach (approval.service): 503, try again later."""
    assert isinstance(error, EngineUnavailableError)
    log.warning("api.engine_unavailable", path=request.url.path, reason=error.reason)
    return _outage(request, "engine", ENGINE_DOWN, error.code, error.retry_after_s)


async def _store_error(request: Request, error: Exception) -> Response:
    """The store out of reach (no connection, a lost one, a lock it could not get): 503, try
    again later. Any other database error is a fault of the engine: raised again (500)."""
    assert isinstance(error, DBAPIError)
    if not (isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated):
        raise error
    log.warning("api.store_unavailable", path=request.url.path, error=str(error.orig))
    retry = EngineUnavailableError.retry_after_s
    return _outage(request, "store", STORE_DOWN, STORE_UNAVAILABLE, retry)


def _outage(request: Request, field: str, reason: str, code: str, retry_after_s: int) -> Response:
    headers = {"Retry-After": str(retry_after_s)}
    return answer(request, status.HTTP_503_SERVICE_UNAVAILABLE, field, reason, code, headers)


async def _rate_limited(request: Request, error: Exception) -> Response:
    """Past a rate limit (approval.http.limiting): 429 with Retry-After."""
    assert isinstance(error, RateLimitedError)
    headers = {"Retry-After": str(error.retry_after_s)}
    code = status.HTTP_429_TOO_MANY_REQUESTS
    return answer(request, code, "client", error.reason, error.code, headers)


async def _console_refusal(request: Request, error: Exception) -> Response:
    """A console post refused before its route (approval.web.security)."""
    assert isinstance(error, ConsoleRefusal)
    return answer(request, error.status_code, error.field, error.reason, error.code)


HANDLERS = {
    DomainError: _domain_refusal,
    RequestValidationError: _invalid_request,
    ValidationError: _invalid_request,
    StarletteHTTPException: _http_problem,
    EngineUnavailableError: _engine_unavailable,
    DBAPIError: _store_error,
    RateLimitedError: _rate_limited,
    ConsoleRefusal: _console_refusal,
    **CONSOLE_HANDLERS,
}
