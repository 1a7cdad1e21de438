"""Outages told as outages: an app whose store (SQLite or PostgreSQL) cannot be reached, and an
app whose engine (Temporal, the worker) cannot, answer 503 with Retry-After and a machine code,
never a 500 — on an authenticated API route, where the token look-up itself fails, and on the
console, as a Chinese page. Nothing here needs a Temporal server: the engine is a stand-in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, cast

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.domain.models import Actor
from approval.service import CaseService, EngineUnavailableError
from approval.store.users import create_users_with_tokens
from tests.web.test_web import console_client

UNREACHABLE = {
    "postgresql": "postgresql+psycopg://x:y@127.0.0.1:1/none",
    "sqlite": "sqlite:///{tmp}/no-such-directory/store.sqlite3",
}
"""A store nobody answers: a closed port, a directory that does not exist."""
CASE_NO = "371600-20261201-000001"


@dataclass
class StandInEngine:
    """What the routes use of the engine, with Temporal out of reach: every call to the
    engine raises EngineUnavailableError, as approval.service does then."""

    settings: Settings
    catalogue: Catalogue

    async def _down(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        raise EngineUnavailableError("temporal: connection refused")

    status = act = act_and_read = submit = history = _down

    async def keep_refusal(self, case_no: str, actor: Actor, *_args: str) -> NoReturn:
        await self._down(case_no, actor)


def stand_in(settings: Settings, catalogue: Catalogue) -> CaseService:
    """The stand-in engine where the app expects the real one."""
    return cast(CaseService, StandInEngine(settings, catalogue))


@pytest.fixture
def unreachable_store(store_backend: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A session factory on a database that cannot be reached."""
    engine = create_engine(UNREACHABLE[store_backend].format(tmp=tmp_path))
    yield sessionmaker(engine)
    engine.dispose()


def check_outage(response: httpx.Response, field: str, code: str) -> None:
    """A 503 with Retry-After in seconds and, from the API, the detail naming ``field`` with a
    Chinese reason and the machine ``code``."""
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1
    detail = response.json()["detail"]
    assert (detail["field"], detail["code"]) == (field, code)
    assert "暂时无法连接" in detail["reason"] and "可安全重发" in detail["reason"]


def check_outage_page(response: httpx.Response, code: str) -> None:
    """The console's 503: a Chinese page with the machine code, Retry-After, no trace."""
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["content-type"].startswith("text/html")
    assert "系统暂时无法办理" in response.text and "Traceback" not in response.text
    assert re.search(rf'role="alert" data-code="{code}">[^<]*暂时无法连接', response.text)


async def test_an_unreachable_store_is_a_503_on_the_api_and_the_console(
    unreachable_store: sessionmaker[Session], settings: Settings, catalogue: Catalogue
) -> None:
    """The token look-up of an authenticated route cannot reach the store: 503 naming the
    store, not a 500; the console's pages and its login answer the same as a page."""
    app = create_app(stand_in(settings, catalogue), unreachable_store, settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as api:
        headers = {"Authorization": "Bearer some-token"}
        for path in ("/inbox", f"/cases/{CASE_NO}", "/supervision/overdue"):
            check_outage(await api.get(path, headers=headers), "store", "store_unavailable")
    console = await console_client(app)
    try:
        console.cookies.set("approval_token", "some-token", domain="console.test", path="/web")
        check_outage_page(await console.get("/web/inbox"), "store_unavailable")
        check_outage_page(await console.get("/web/"), "store_unavailable")
        login = await console.post("/web/login", data={"token": "some-token"})
        check_outage_page(login, "store_unavailable")
    finally:
        await console.aclose()


@pytest.fixture
async def engine_down(
    sessions: sessionmaker[Session], settings: Settings, catalogue: Catalogue
) -> AsyncIterator[tuple[FastAPI, dict[str, str]]]:
    """The app on a real store with the engine out of reach, and a clerk's token."""
    with sessions.begin() as session:
        tokens = create_users_with_tokens(session, [("clerk", "clerk", None)], datetime.now(UTC))
    yield create_app(stand_in(settings, catalogue), sessions, settings), tokens


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_an_unreachable_engine_is_a_503_on_the_api_and_the_console(
    engine_down: tuple[FastAPI, dict[str, str]],
) -> None:
    """Temporal out of reach while a clerk reads a case and acts on it: 503 naming the engine
    with the engine's Retry-After (the same request may be sent again, R23); on the console
    the case page is the Chinese 503 page."""
    app, tokens = engine_down
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {tokens['clerk']}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as api:
        for method, path in (("GET", f"/cases/{CASE_NO}"), ("POST", f"/cases/{CASE_NO}/accept")):
            response = await api.request(method, path, headers=headers)
            check_outage(response, "engine", "engine_unavailable")
            assert response.headers["Retry-After"] == str(EngineUnavailableError.retry_after_s)
    console = await console_client(app)
    try:
        assert (
            await console.post("/web/login", data={"token": tokens["clerk"]})
        ).status_code == 303
        check_outage_page(await console.get(f"/web/cases/{CASE_NO}"), "engine_unavailable")
        check_outage_page(await console.post(f"/web/cases/{CASE_NO}/accept"), "engine_unavailable")
    finally:
        await console.aclose()
