"""Liveness and readiness of the API (approval.api.routes.health): /healthz while the process
serves, /readyz only while the real Temporal server and the real store both answer, else 503
naming the part that does not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from approval.api.app import create_app
from approval.config import Settings
from approval.contracts import DATA_CONVERTER
from approval.service import CaseService

UNREACHABLE_TEMPORAL = "127.0.0.1:1"
"""A port nothing listens on."""


async def api(service: CaseService, sessions: sessionmaker[Session]) -> httpx.AsyncClient:
    """A client of the app over the given engine and store."""
    app = create_app(service=service, sessions=sessions, settings=service.settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")


@pytest.fixture
async def client(
    engine: CaseService, sessions: sessionmaker[Session]
) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the test's engine (time-skipping Temporal server) and store."""
    async with await api(engine, sessions) as c:
        yield c


async def test_healthz_answers_while_the_process_serves(client: httpx.AsyncClient) -> None:
    """/healthz: 200, with the security headers every answer has."""
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_readyz_is_ready_when_temporal_and_the_store_answer(
    client: httpx.AsyncClient,
) -> None:
    """/readyz: 200 and each part ok, against the real server and store."""
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"temporal": {"ok": True}, "store": {"ok": True}},
    }


async def test_readyz_names_an_unreachable_store(
    engine: CaseService, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """/readyz with the store out of reach (a SQLite file in a directory that does not
    exist): 503 with Retry-After, the store named with its code, Temporal still ok."""
    missing = tmp_path_factory.mktemp("store") / "no-such-dir" / "store.sqlite3"
    unreachable = sessionmaker(create_engine(f"sqlite:///{missing}"))
    async with await api(engine, unreachable) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"]
    body = response.json()
    assert body["status"] == "unavailable" and body["checks"]["temporal"] == {"ok": True}
    assert body["checks"]["store"]["code"] == "store_unavailable"
    assert "数据库" in body["checks"]["store"]["reason"]


async def test_readyz_names_an_unreachable_temporal(
    sessions: sessionmaker[Session], settings: Settings, engine: CaseService
) -> None:
    """/readyz with Temporal out of reach (nothing listens at its address): 503, Temporal
    named with its code, the store still ok."""
    lost = await Client.connect(UNREACHABLE_TEMPORAL, data_converter=DATA_CONVERTER, lazy=True)
    service = CaseService(lost, settings, engine.catalogue, sessions)
    async with await api(service, sessions) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["store"] == {"ok": True}
    assert checks["temporal"]["ok"] is False
    assert checks["temporal"]["code"] == "engine_unavailable"
