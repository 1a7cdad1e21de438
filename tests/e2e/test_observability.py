"""What an operator sees of a case, with the real programs as production runs them: a worker
(worker.py) and an API process (uvicorn's factory), both logging JSON lines and tracing to an
OTLP collector, on the dev server. A case is submitted, refused once, decided by its four
departments, delivered and rated through the API; then both processes' ``/metrics`` show it,
every log line is JSON, the lines of each decision name the case, the department and the
actor, both processes' spans reach the collector, and SIGTERM drains the worker."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from temporalio.testing import WorkflowEnvironment

from approval.config import DEVELOPMENT_AUDIT_KEY, PROJECT_ROOT
from approval.domain.catalogue import Catalogue
from approval.domain.check_code import check_code
from approval.runtime import open_store
from approval.store.users import create_users_with_tokens
from approval.tracing import API_SERVICE, WORKER_SERVICE
from tests.api.test_api import DEPARTMENTS, application
from tests.api.test_metrics import Samples, scrape, value
from tests.faults.apis import ApiProcess
from tests.faults.harness import free_port
from tests.processes import WorkerProcess, new_namespace, process_env

pytestmark = [pytest.mark.slow, pytest.mark.devserver]

CLERK = "clerk-observed"
WAIT_S = 120.0
"""Bound of a wait for the worker to catch up (it takes moments; a busy machine gets more)."""
COUNTED_ONLY_WHEN_IT_HAPPENS = frozenset(
    {
        "approval_silent_consents_total",  # a period passing in silence: days
        "approval_department_send_retries_total",  # a department system failing
        "approval_public_rate_limited_total",  # tests/api/test_metrics.py
        "temporal_request_failure",
    }
)
"""Figures of the dashboard that no series shows until the first time they count."""
TRACED = {
    (API_SERVICE, "StartWorkflowUpdate:act"),
    (WORKER_SERVICE, "RunWorkflow:CaseWorkflow"),
    (WORKER_SERVICE, "HandleUpdate:act"),
    (WORKER_SERVICE, "RunActivity:record_case_events"),
    (WORKER_SERVICE, "RunActivity:send_to_department"),
}
"""Spans each process sends when it traces (APPROVAL_OTLP_ENDPOINT)."""
DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "dashboards" / "approval.json"


class Collector:
    """An OpenTelemetry collector's OTLP/HTTP trace receiver, on a free port of 127.0.0.1, in
    a thread: it keeps (service name, span name) of every span it is sent."""

    def __init__(self) -> None:
        self.spans: set[tuple[str, str]] = set()
        collector = self

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                collector.receive(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads what it received instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def receive(self, request: ExportTraceServiceRequest) -> None:
        """Keep each span's service and name."""
        for resource in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource.resource.attributes}
            service = attributes.get("service.name", "?")
            for scope in resource.scope_spans:
                self.spans.update((service, span.name) for span in scope.spans)

    async def received(self, expected: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """The spans received once ``expected`` are among them, or after WAIT_S."""
        deadline = time.monotonic() + WAIT_S
        while not expected <= self.spans and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return set(self.spans)

    def close(self) -> None:
        """Stop receiving."""
        self._server.shutdown()
        self._server.server_close()


class Desk:
    """The API as the case's people use it: each call as one of them, with a key of its own."""

    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self._http = http
        self._tokens = tokens

    async def post(self, who: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """``POST path`` as ``who`` (an Idempotency-Key each); the answer's JSON, 2xx only."""
        headers = {"Authorization": f"Bearer {self._tokens[who]}"}
        headers["Idempotency-Key"] = f"observed-{uuid.uuid4().hex}"
        answer = await self._http.post(path, json=body, headers=headers)
        assert answer.is_success, answer.text
        return answer.json()

    async def refused(self, who: str, path: str) -> int:
        """The status of ``POST path`` as ``who`` (a refusal expected)."""
        headers = {"Authorization": f"Bearer {self._tokens[who]}"}
        return (await self._http.post(path, headers=headers)).status_code


async def run_a_case(desk: Desk, http: httpx.AsyncClient, catalogue: Catalogue) -> str:
    """Submit, accept, accept again (refused), four approvals, delivery, the rating 满意."""
    case_no: str = (await desk.post(CLERK, "/cases", application(catalogue)))["case_no"]
    await desk.post(CLERK, f"/cases/{case_no}/accept")
    assert await desk.refused(CLERK, f"/cases/{case_no}/accept") == 409
    for department in DEPARTMENTS:
        await desk.post(f"rv-{department}", f"/cases/{case_no}/decision", {"outcome": "approve"})
    await desk.post(CLERK, f"/cases/{case_no}/deliver", {})
    code = check_code(case_no, DEVELOPMENT_AUDIT_KEY.encode())
    rated = await http.post(
        f"/public/cases/{case_no}/rating", json={"check_code": code, "level": "satisfied"}
    )
    assert rated.is_success, rated.text
    return case_no


async def scraped_once_completed(url: str) -> Samples:
    """The worker's metrics once they count the case's workflow completed (it ends just after
    the rating is recorded), or as they are after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    async with httpx.AsyncClient(base_url=url) as http:
        while not value(samples := await scrape(http), "temporal_workflow_completed_total"):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
    return samples


def json_lines(log: str) -> list[dict[str, Any]]:
    """Every line of ``log`` parsed as JSON (a line that is not fails the test)."""
    return [json.loads(line) for line in log.splitlines() if line.strip()]


def dashboard_metrics() -> set[str]:
    """The metric names the Grafana dashboard's queries use, without histogram suffixes."""
    text = DASHBOARD.read_text(encoding="utf-8")
    names = set(re.findall(r"\b(?:approval|temporal)_[a-z_]+", text))
    return {re.sub(r"_(bucket|sum|count)$", "", name) for name in names}


def names(*scrapes: Samples) -> set[str]:
    """Every metric name of the scrapes as Prometheus stores it: without histogram suffixes,
    and a counter of the SDK's without the ``_total`` the parser gives its samples (the SDK
    names its counters without it, the engine's own end in it)."""
    found = {re.sub(r"_(bucket|sum|count)$", "", name) for s in scrapes for name, _ in s}
    return found | {name.removesuffix("_total") for name in found if name.startswith("temporal_")}


async def test_a_case_is_counted_by_both_processes_and_logged_as_json_lines(
    tmp_path: Path, dev_env: WorkflowEnvironment, catalogue: Catalogue
) -> None:
    """R22 (every line of an action names its actor): after one case, the worker's metrics
    count its four department answers, its decision, its refused attempt, its store writes,
    and the SDK's own figures; the API's count the four decisions under their route, the case
    under its stage, and its SDK client's requests; every figure of the Grafana dashboard is
    among them (but those counted only when they happen). Every line of both logs is JSON; the
    worker's line for each department's answer names the case, its workflow run, the
    department and the reviewer, and the API's line of each decision the case, the department,
    the actor and the request id. Both processes trace to the collector: the API's Updates and
    the worker's workflow run, Update handling and activities are spans of their services.
    SIGTERM drains the worker: exit status 0, no traceback."""
    metrics_port = free_port()
    namespace = await new_namespace(dev_env.client, "observed")
    env = process_env(
        address=dev_env.client.service_client.config.target_host,
        namespace=namespace,
        task_queue=f"observed-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path,
    )
    collector = Collector()
    env |= {
        "APPROVAL_LOG_JSON": "true",
        "APPROVAL_WORKER_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
        "APPROVAL_OTLP_ENDPOINT": collector.url,
    }
    accounts = [(CLERK, "clerk", None)] + [(f"rv-{d}", "reviewer", d) for d in DEPARTMENTS]
    sessions = open_store(f"sqlite:///{tmp_path / 'approval.sqlite3'}")
    with sessions.begin() as session:
        tokens = create_users_with_tokens(session, accounts, datetime.now(UTC))

    worker = WorkerProcess(env, tmp_path / "worker.log")
    api = ApiProcess(env, tmp_path / "api.log")
    try:
        await worker.wait_started()
        await api.wait_ready()
        async with httpx.AsyncClient(base_url=api.url, timeout=120) as http:
            case_no = await run_a_case(Desk(http, tokens), http, catalogue)
            api_samples = await scrape(http)
        worker_samples = await scraped_once_completed(f"http://127.0.0.1:{metrics_port}")
        spans = await collector.received(TRACED)
        status = await asyncio.to_thread(worker.terminated)
    finally:
        worker.stop()
        api.stop()
        collector.close()
    assert spans >= TRACED, spans

    assert value(worker_samples, "approval_review_answers_total", outcome="approved") == 4
    for department in DEPARTMENTS:
        assert value(worker_samples, "approval_review_answers_total", department=department) == 1
    assert value(worker_samples, "approval_decisions_total", outcome="approved") == 1
    assert value(worker_samples, "approval_refused_attempts_total", action="accept") == 1
    assert value(worker_samples, "approval_store_write_seconds_count") >= 8
    assert value(worker_samples, "temporal_workflow_completed_total") == 1
    route = "/cases/{case_no}/decision"
    assert value(api_samples, "approval_http_requests_total", route=route, status="200") == 4
    assert value(api_samples, "approval_cases", stage="completed") == 1
    assert value(api_samples, "temporal_request_total") > 0
    missing = dashboard_metrics() - names(api_samples, worker_samples)
    assert missing <= COUNTED_ONLY_WHEN_IT_HAPPENS, missing

    assert status == 0, worker.log()
    worker_lines = json_lines(worker.log())
    events = [line["event"] for line in worker_lines]
    assert {"worker.started", "worker.draining", "worker.stopped"} <= set(events)
    assert "Traceback" not in worker.log()
    answers = [line for line in worker_lines if line["event"] == "case.review_answer_recorded"]
    assert sorted(line["department"] for line in answers) == sorted(DEPARTMENTS)
    for line in answers:
        assert (line["case_no"], line["workflow_id"]) == (case_no, case_no)
        assert line["actor"] == f"rv-{line['department']}" and line["run_id"]

    api_lines = json_lines(api.log_path.read_text(encoding="utf-8"))
    decisions = [
        line
        for line in api_lines
        if line["event"] == "case.action_taken" and line["action"] == "decide"
    ]
    assert sorted(line["department"] for line in decisions) == sorted(DEPARTMENTS)
    for line in decisions:
        assert line["case_no"] == case_no and line["actor"] == f"rv-{line['department']}"
        assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"]), line
