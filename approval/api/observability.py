"""What the API tells its operators: every request's log lines carry a request id (the
caller's ``X-Request-ID`` when it is a sane one, else a new one, answered in the same header)
and, once known, the actor and the case; ``/metrics`` serves Prometheus text — the API's own
figures (requests by route and status, their latency, public queries past their rate limit, the
cases by stage in the read model) followed by the Temporal SDK's for this process's client."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import httpx
import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from approval.http.limiting import public_rate_limit
from approval.store.schema import CaseRow

log = structlog.get_logger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
UNMATCHED = "unmatched"
"""The route label of a request no route took (404s of any path): one label, not one per path."""
SDK_METRICS_TIMEOUT_S = 2.0


class ApiMetrics:
    """The API's Prometheus figures, in a registry of the app's own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "approval_http_requests",
            "HTTP requests answered, by method, route and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "approval_http_request_seconds",
            "Time to answer an HTTP request, by route",
            ("route",),
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "approval_public_rate_limited",
            "Requests refused past a rate limit (429), by route",
            ("route",),
            registry=self.registry,
        )
        self.sdk_metrics_url: str | None = None
        """Where this process's Temporal runtime serves its own metrics (loopback only)."""

    def watch_cases(self, sessions: sessionmaker[Session]) -> None:
        """Count the read model's cases by stage at every scrape."""
        self.registry.register(CasesByStage(sessions))

    async def exposition(self) -> bytes:
        """The API's figures, then the SDK's (left out when they cannot be read)."""
        text = generate_latest(self.registry)
        if self.sdk_metrics_url is None:
            return text
        try:
            async with httpx.AsyncClient(timeout=SDK_METRICS_TIMEOUT_S) as http:
                sdk = await http.get(self.sdk_metrics_url)
            sdk.raise_for_status()
        except httpx.HTTPError as error:
            log.warning("metrics.sdk_unreadable", url=self.sdk_metrics_url, reason=str(error))
            return text
        return text + sdk.content


class CasesByStage(Collector):
    """``approval_cases{stage}``: the read model's cases in each stage, counted at a scrape;
    left out of a scrape while the store does not answer."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge with a sample per stage."""
        try:
            with self._sessions() as session:
                counted = session.execute(
                    select(CaseRow.stage, func.count()).group_by(CaseRow.stage)
                ).all()
        except SQLAlchemyError as error:
            log.warning("metrics.store_unreadable", reason=str(error).splitlines()[0])
            return
        family = GaugeMetricFamily("approval_cases", "Cases by stage", labels=("stage",))
        for stage, count in counted:
            family.add_metric((stage,), count)
        yield family


def route_of(scope: Scope) -> str:
    """The route template that took the request (``/cases/{case_no}``), or UNMATCHED."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class Observed:
    """ASGI middleware: binds a request id for the request's log lines (and answers it), and
    counts and times every HTTP request in the app's ApiMetrics."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode(), b"").decode()
        request_id = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        answered = {"status": 500}
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = route_of(scope)
            status = str(answered["status"])
            self.metrics.requests.labels(scope["method"], route, status).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
            if status == "429":
                self.metrics.rate_limited.labels(route).inc()


router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(public_rate_limit)],
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(request: Request) -> Response:
    """Prometheus text: the API's figures and its Temporal client's (for the scraper)."""
    found: ApiMetrics = request.app.state.metrics
    return Response(await found.exposition(), media_type=CONTENT_TYPE_LATEST)
