"""Wiring an engine process: its settings checked before anything starts, the store, the
workflows and activities a worker serves, and the API as ``make run`` serves it."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.departments import DepartmentActivities
from activities.store import StoreActivities
from approval.config import SettingError, Settings, get_settings, refuse_to_start
from approval.departments import DepartmentSystem
from approval.departments.http_client import DepartmentEndpoints, HttpDepartmentSystem
from approval.departments.stub import Answer, StubDepartmentSystem
from approval.domain.errors import DomainError
from approval.domain.models import Decide
from approval.service import CaseWorkflowClient
from approval.store.repository import create_schema, make_engine, make_session_factory
from workflows.case_workflow import CaseWorkflow

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger(__name__)


def engine_settings() -> Settings:
    """The settings of an engine process (the worker, the API, the local stack), checked
    before anything starts: every setting well-formed, the secrets present outside
    development, the store reachable. A problem is one line naming the setting, exit 2."""
    try:
        settings = get_settings()
        _ = settings.token_key_bytes  # the audit key, and the token key derived from it
        check_store(settings)
    except SettingError as problem:
        refuse_to_start(problem)
    return settings


def check_store(settings: Settings) -> None:
    """SettingError naming APPROVAL_DATABASE_URL (or APPROVAL_DATA_DIR, for the default SQLite
    file) when the store's URL is malformed or its database cannot be reached."""
    setting = "APPROVAL_DATABASE_URL" if settings.database_url else "APPROVAL_DATA_DIR"
    try:
        shown = make_url(settings.store_url).render_as_string(hide_password=True)
    except ArgumentError:
        raise SettingError(setting, "不是数据库地址 is not a SQLAlchemy database URL") from None
    try:
        engine = make_engine(settings.store_url)
        try:
            engine.connect().close()
        finally:
            engine.dispose()
    except (SQLAlchemyError, OSError) as error:
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        reason = f"无法连接数据库 cannot open the store at {shown}: {cause}"
        raise SettingError(setting, reason) from None


def api_app() -> FastAPI:
    """The HTTP API and web console with the checked settings of this process (``uvicorn
    --factory approval.runtime:api_app``): a bad setting stops it before it serves."""
    from approval.api.app import create_app  # it imports this module

    return create_app(settings=engine_settings())


def open_store(url: str) -> sessionmaker[Session]:
    """The store at ``url``, its schema created if new."""
    engine = make_engine(url)
    create_schema(engine)
    return make_session_factory(engine)


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
    store = StoreActivities(sessions, audit_key)
    activities = DepartmentActivities(departments)
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
    )


def workflow_runner(sandboxed: bool) -> WorkflowRunner:
    """Temporal's sandbox (it restricts non-deterministic calls) or the plain runner
    (APPROVAL_WORKFLOW_SANDBOX; see Settings.workflow_sandbox)."""
    return SandboxedWorkflowRunner() if sandboxed else UnsandboxedWorkflowRunner()
