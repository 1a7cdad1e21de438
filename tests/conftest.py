"""Shared fixtures: a real Temporal server (time-skipping, or the dev server), a real SQLite
store per test, and a worker serving the cases on a task queue of the test's own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from approval.config import PROJECT_ROOT, Settings
from approval.domain.catalogue import Catalogue, load_catalogue
from approval.environments import dev_server_environment, running_worker, time_skipping_environment
from approval.runtime import open_store
from approval.service import CaseService


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


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    """A fresh SQLite store for the test."""
    return open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")


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
