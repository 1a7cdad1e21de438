"""Wiring an engine process: the workflows and activities a worker serves, the department
systems it reaches, and the API as ``make run`` serves it (``uvicorn --factory
approval.runtime:api_app``). It stands above every package it wires, and only entry points
import it (worker.py, the command line's local stack, the test environments); none of the
packages it wires does. Opening the store and checking the settings are the store's
(approval.store.engine); they are named here too, for the scripts, benchmarks and tests that
take them from here."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.departments import DepartmentActivities
from activities.record_reads import RecordReads
from activities.store import StoreActivities
from approval.config import PROJECT_ROOT, get_settings
from approval.departments import DepartmentSystem
from approval.departments.http_client import DepartmentEndpoints, HttpDepartmentSystem
from approval.departments.stub import Answer, StubDepartmentSystem
from approval.domain.errors import DomainError
from approval.domain.models import Decide
from approval.logs import configure_logging
from approval.metrics import WorkerMetrics
from approval.service import CaseWorkflowClient
from approval.store.engine import check_store, engine_settings, open_store
from workflows.case_workflow import CaseWorkflow

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = [
    "api_app",
    "build_worker",
    "check_store",
    "department_system",
    "engine_settings",
    "open_store",
    "workflow_runner",
]

log = structlog.get_logger(__name__)


def api_app() -> FastAPI:
    """The HTTP API and web console with the checked settings of this process (``uvicorn
    --factory approval.runtime:api_app``): a bad setting stops it before it serves."""
    from approval.api.app import create_app  # only when called: a worker loads no web stack

    settings = engine_settings()
    configure_logging(json=settings.log_json)
    return create_app(settings=settings)


def answer_through(client: Client) -> Answer:
    """How a stub department's decision reaches its case: the workflow's Update; a refusal
    (the case moved on) is only logged."""
    cases = CaseWorkflowClient(client)

    async def answer(case_no: str, decision: Decide, request_id: str) -> None:
        try:
            await cases.send(case_no, decision, request_id)
        except DomainError as refusal:
            log.info("stub.answer_refused", case_no=case_no, reason=str(refusal))

    return answer


def department_system(
    client: Client,
    sessions: sessionmaker[Session],
    stub_behaviours: Mapping[str, str],
    endpoints: DepartmentEndpoints,
) -> DepartmentSystem:
    """The department systems over HTTP when ``endpoints`` name them, else the in-process
    stub answering per ``stub_behaviours``."""
    answer = answer_through(client)
    if endpoints.over_http:
        return HttpDepartmentSystem(endpoints, answer)
    return StubDepartmentSystem(sessions, stub_behaviours, answer)


GRACEFUL_SHUTDOWN = timedelta(seconds=30)
"""How long a stopping worker (SIGTERM) lets its running activities finish before it cancels
them; it takes no new tasks meanwhile. A cancelled store write or send is retried by another
worker: each is idempotent (R23)."""

WORKFLOW_CODE = (
    "workflows",
    "approval/domain",
    "approval/contracts.py",
    "approval/routing.py",
    "approval/search_attributes.py",
)
"""What decides how a case's workflow behaves, for its build id."""


@functools.cache
def workflow_build_id() -> str:
    """The worker's build id: 12 hex digits of the SHA-256 of the workflow's code (the SDK's
    default is 32 of every loaded module's, and each workflow task of a history repeats it)."""
    digest = hashlib.sha256()
    for root in WORKFLOW_CODE:
        path = PROJECT_ROOT / root
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(PROJECT_ROOT).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def build_worker(
    client: Client,
    *,
    task_queue: str,
    sessions: sessionmaker[Session],
    stub_behaviours: Mapping[str, str],
    executor: ThreadPoolExecutor,
    audit_key: bytes,
    departments: DepartmentSystem | None = None,
) -> Worker:
    """A worker serving the case workflow, the store and the department systems:
    ``departments``, or by default as configured — over HTTP when APPROVAL_DEPARTMENTS_URL is
    set, otherwise the in-process stub answering per ``stub_behaviours``."""
    if departments is None:
        endpoints = DepartmentEndpoints.from_settings(get_settings())
        departments = department_system(client, sessions, stub_behaviours, endpoints)
    record_reads = RecordReads(sessions)
    runtime = client.service_client.config.runtime or Runtime.default()
    metrics = WorkerMetrics(runtime.metric_meter)
    store = StoreActivities(sessions, audit_key, record_reads, metrics)
    activities = DepartmentActivities(departments, record_reads, metrics)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CaseWorkflow],
        activities=[
            store.record_case_events,
            store.record_step_locally,
            activities.send_to_department,
        ],
        activity_executor=executor,
        max_concurrent_activities=executor._max_workers,
        workflow_runner=workflow_runner(get_settings().workflow_sandbox),
        build_id=workflow_build_id(),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


def workflow_runner(sandboxed: bool) -> WorkflowRunner:
    """Temporal's sandbox (it restricts non-deterministic calls) or the plain runner
    (APPROVAL_WORKFLOW_SANDBOX; see Settings.workflow_sandbox)."""
    return SandboxedWorkflowRunner() if sandboxed else UnsandboxedWorkflowRunner()
