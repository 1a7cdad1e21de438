"""An outage is answered as an outage and never kept as somebody's refusal (R21), and concurrent
requests with one idempotency key all get the one answer (R23): against a real Temporal dev
server that is stopped mid-case, and truly concurrent HTTP requests, many rounds."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from approval.api.app import create_app
from approval.config import Settings
from approval.contracts import DATA_CONVERTER
from approval.domain.catalogue import Catalogue
from approval.environments import running_worker
from approval.service import CaseService
from approval.store.audit_log import events_of
from approval.store.users import create_users_with_tokens
from tests.api.test_api import GHXK, Api, accepted_case, application
from tests.faults.harness import DevServer

pytestmark = pytest.mark.devserver

ROUNDS = 15
CALLERS_AT_ONCE = 4
ANSWER_WITHIN_S = 3.0
RECOVERY_TIMEOUT_S = 240.0


@pytest.fixture
async def own_server(tmp_path: Path) -> AsyncIterator[DevServer]:
    """A dev server of the test's own, persisted in a file, that the test may stop and start."""
    server = DevServer(tmp_path)
    server.start()
    try:
        await server.wait_ready()
        yield server
    finally:
        server.kill(signal.SIGTERM)


def _api_of(
    service: CaseService, sessions: sessionmaker[Session], *people: tuple[str, str, str | None]
) -> tuple[httpx.AsyncClient, dict[str, dict[str, str]]]:
    """An HTTP client of the app on ``service`` and the bearer headers of ``people``."""
    with sessions.begin() as session:
        tokens = create_users_with_tokens(session, people, datetime.now(UTC))
    headers = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
    app = create_app(service=service, sessions=sessions)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")
    return client, headers


async def test_R21_with_temporal_stopped_a_decision_is_a_503_and_no_refusal_is_kept(
    own_server: DevServer,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
) -> None:
    """R21: the Temporal server is stopped while a case is in review; the reviewer's decision
    answers 503 with Retry-After naming the engine, and nothing is written: no ActionRefused,
    no decision. With the server back, the same request (same Idempotency-Key) decides once."""
    temporal = await Client.connect(own_server.address, data_converter=DATA_CONVERTER)
    service = CaseService(temporal, settings, catalogue, sessions, answer_within_s=ANSWER_WITHIN_S)
    people = [("clerk", "clerk", None), ("rev-ZRZY", "reviewer", "ZRZY")]
    client, headers = _api_of(service, sessions, *people)
    async with client, running_worker(temporal, sessions, task_queue=settings.task_queue):
        case_no = await accepted_case(Api(client, headers), catalogue)
        with sessions() as session:
            before = [e.type for e in events_of(session, case_no)]
        own_server.kill(signal.SIGKILL)
        decide = {"outcome": "approve"}
        key = {**headers["rev-ZRZY"], "Idempotency-Key": "outage-1"}
        path = f"/cases/{case_no}/decision"
        down = await client.post(path, json=decide, headers=key)
        assert down.status_code == 503, down.text
        assert int(down.headers["Retry-After"]) > 0
        assert down.json()["detail"]["code"] == "engine_unavailable"
        with sessions() as session:
            assert [e.type for e in events_of(session, case_no)] == before
        own_server.start()
        await own_server.wait_ready()
        up = await _retried_while_unavailable(lambda: client.post(path, json=decide, headers=key))
        again = await client.post(path, json=decide, headers=key)
        assert (up.status_code, again.status_code) == (200, 200), (up.text, again.text)
        with sessions() as session:
            types = [e.type for e in events_of(session, case_no)]
    assert "ActionRefused" not in types
    assert types.count("ReviewApproved") == 1


async def _retried_while_unavailable(
    send: Callable[[], Awaitable[httpx.Response]],
) -> httpx.Response:
    """Send until the answer is not a 503, as a client told Retry-After does (bounded: the
    restarted server's worker reconnects with a back-off)."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    while (answer := await send()).status_code == 503 and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    return answer


@pytest.fixture
async def api_on_dev(
    own_server: DevServer,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, dict[str, str]]]]:
    """The app on an engine of a dev server of the test's own (the store's case numbers
    start at 1 on each backend, so a shared server would already hold them), with a clerk and
    a ZRZY reviewer."""
    temporal = await Client.connect(own_server.address, data_converter=DATA_CONVERTER)
    service = CaseService(temporal, settings, catalogue, sessions)
    people = [("clerk", "clerk", None), ("rev-ZRZY", "reviewer", "ZRZY")]
    client, headers = _api_of(service, sessions, *people)
    async with client, running_worker(temporal, sessions, task_queue=settings.task_queue):
        yield client, headers


async def test_R23_concurrent_submissions_with_one_key_all_name_the_one_case(
    api_on_dev: tuple[httpx.AsyncClient, dict[str, dict[str, str]]], catalogue: Catalogue
) -> None:
    """R23: in each of many rounds, four truly concurrent POST /cases with the same
    idempotency key all succeed (201 for the one that made the case, 200 for the others) and
    all name the same case; no caller is told the case is missing from the store."""
    client, headers = api_on_dev
    for _ in range(ROUNDS):
        body = application(catalogue, matter=GHXK)
        answers = await asyncio.gather(
            *(
                client.post("/cases", json=body, headers=headers["clerk"])
                for _ in range(CALLERS_AT_ONCE)
            )
        )
        assert sorted(a.status_code for a in answers) == [200] * (CALLERS_AT_ONCE - 1) + [201], [
            a.text for a in answers
        ]
        assert len({a.json()["case_no"] for a in answers}) == 1


async def test_R23_concurrent_decisions_with_one_key_have_one_effect(
    api_on_dev: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
) -> None:
    """R23: four truly concurrent decisions with the same Idempotency-Key all answer 200 with
    the same task state, and the case's record holds one approval and no refused attempt."""
    client, headers = api_on_dev
    case_no = await accepted_case(Api(client, headers), catalogue)
    key = {**headers["rev-ZRZY"], "Idempotency-Key": f"{case_no}-once"}
    answers = await asyncio.gather(
        *(
            client.post(f"/cases/{case_no}/decision", json={"outcome": "approve"}, headers=key)
            for _ in range(CALLERS_AT_ONCE)
        )
    )
    assert [a.status_code for a in answers] == [200] * CALLERS_AT_ONCE, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    with sessions() as session:
        types = [e.type for e in events_of(session, case_no)]
    assert types.count("ReviewApproved") == 1
    assert "ActionRefused" not in types
