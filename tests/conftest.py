"""Shared fixtures: a real Temporal server (time-skipping, or the dev server), a real store per
test (SQLite, and PostgreSQL when APPROVAL_TEST_POSTGRES_URL names a server), and a worker
serving the cases on a task queue of the test's own."""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from approval.config import PROJECT_ROOT, Settings
from approval.domain.catalogue import Catalogue, load_catalogue
from approval.environments import dev_server_environment, running_worker, time_skipping_environment
from approval.runtime import open_store
from approval.service import CaseService

# Every worker the tests start, in this process or in a subprocess, runs the case workflow in
# Temporal's sandbox: a non-deterministic call in workflow code fails the tests. Settings are
# read when a worker starts, after this.
os.environ.setdefault("APPROVAL_WORKFLOW_SANDBOX", "true")
# The tests run in development mode, explicitly: the published development audit key (and the
# token key derived from it). Outside it the engine refuses to start without a key
# (tests/cli/test_cli_settings.py); the programs' environments say so too
# (tests.processes.process_env).
os.environ["APPROVAL_ENVIRONMENT"] = "development"


@pytest.fixture(autouse=True, scope="module")
def long_lived_objects_frozen() -> None:
    """Before each test module: collect, then freeze what survives (``gc.freeze``), so that a
    full collection during the module walks only what the module made. A worker runs workflow
    activations in threads under Temporal's 2-second deadlock detector; a full collection of
    the whole session's heap on a busy 2-core machine can stall an activation past it (seen
    once in CI as ``_InterruptDeadlockError`` raised inside a gc callback)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The demo catalogue."""
    return load_catalogue(PROJECT_ROOT / "data" / "catalogue.yaml")


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server of the test's own: another test's idle workflows would
    hold its clock."""
    async with await time_skipping_environment() as env:
        yield env


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """One Temporal CLI dev server for the session."""
    async with await dev_server_environment() as env:
        yield env


POSTGRES_URL_VARIABLE = "APPROVAL_TEST_POSTGRES_URL"
STORE_BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An engine on the tests' PostgreSQL database (APPROVAL_TEST_POSTGRES_URL, e.g.
    ``postgresql+psycopg://user:password@127.0.0.1:5432/db``), to make and drop the schemas of
    the tests. Without the variable the PostgreSQL variants are skipped, except in CI
    (CI=true), where they fail: CI never skips them silently."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        reason = f"{POSTGRES_URL_VARIABLE} is not set: no PostgreSQL server to test the store on"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: .ci/run starts one and sets it)", pytrace=False)
        pytest.skip(f"{reason} (.ci/run starts one and sets it)")
    engine = create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(params=STORE_BACKENDS)
def store_backend(request: pytest.FixtureRequest) -> str:
    """The database the test's store runs on: every store test runs on each. A test limited
    to one backend parametrises ``store_backend`` itself."""
    backend: str = request.param
    return backend


@pytest.fixture
def store_url(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of an empty database of the test's own: a SQLite file in a directory that
    does not exist yet, or a new PostgreSQL schema (the connections' search_path), dropped
    with everything in it after the test."""
    if store_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'store.sqlite3'}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(admin.url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def sessions(store_url: str) -> Iterator[sessionmaker[Session]]:
    """A fresh store for the test, migrated to the newest schema, on SQLite and on
    PostgreSQL; its connections are closed afterwards."""
    factory = open_store(store_url)
    yield factory
    factory.kw["bind"].dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of the test: its own task queue and data directory."""
    return Settings(
        task_queue=f"cases-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path,
        holiday_override_path=tmp_path / "no-override.yaml",
    )


@pytest.fixture
def stub_behaviours() -> dict[str, str]:
    """How the stub departments answer; silent unless a test says otherwise."""
    return {}


async def _engine(
    env: WorkflowEnvironment,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    behaviours: dict[str, str],
) -> AsyncIterator[CaseService]:
    async with running_worker(
        env.client, sessions, task_queue=settings.task_queue, stub_behaviours=behaviours
    ):
        yield CaseService(env.client, settings, catalogue, sessions)


@pytest.fixture
async def engine(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    stub_behaviours: dict[str, str],
) -> AsyncIterator[CaseService]:
    """The engine on the time-skipping server, with a worker for this test."""
    async for service in _engine(time_skipping_env, settings, catalogue, sessions, stub_behaviours):
        yield service


@pytest.fixture
async def dev_engine(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    stub_behaviours: dict[str, str],
) -> AsyncIterator[CaseService]:
    """The engine on the dev server (real time), with a worker for this test."""
    async for service in _engine(dev_env, settings, catalogue, sessions, stub_behaviours):
        yield service


def pytest_configure(config: Any) -> None:
    """Keep hypothesis quick and deterministic in CI."""
    from hypothesis import settings as hypothesis_settings

    hypothesis_settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True)
    hypothesis_settings.load_profile("ci")
