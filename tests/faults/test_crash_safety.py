"""The record survives crashes (R21, R23): cases in review while the worker is SIGKILLed, the
Temporal server SIGKILLed or stopped and started again on the same file, the store cut off
from the workers, and three workers on PostgreSQL with one killed. Afterwards every case
completes, and for every case the audit log equals its committed Temporal history (crosscheck),
its chain verifies, the read model equals a rebuild from the histories, and its notices and
department messages are there once each. No outage is ever answered as a refusal."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.domain.models import Decide
from approval.runtime import open_store
from approval.service import CaseService
from tests.faults.harness import (
    DevServer,
    Drive,
    StoreLink,
    Workers,
    audit,
    completed_histories,
    decide_all,
    decisions,
    deliver_all,
    eventually,
    open_cases,
    stopped_on_exit,
)

pytestmark = [pytest.mark.slow, pytest.mark.devserver]

CASES = 10
ANSWER_WITHIN_S = 5.0
"""How long the driver's engine waits for an answer before it calls it an outage."""
FAULT_TIMEOUT_S = 240.0

Fault = Callable[[], Awaitable[None]]


async def run_with_faults(
    service: CaseService,
    drive: Drive,
    waves: Sequence[Sequence[tuple[str, Decide]]],
    faults: list[Fault],
) -> None:
    """Send every decision while the faults strike one after another, each once a further
    share of the decisions has been answered (so each lands mid-review, with Updates, store
    writes and department sends in flight)."""
    total = sum(len(wave) for wave in waves)
    before = drive.answered

    async def strike() -> None:
        for n, fault in enumerate(faults, start=1):
            share = before + total * n // (len(faults) + 1)
            await eventually(partial(_answered, drive, share), f"{share} answers", FAULT_TIMEOUT_S)
            await fault()

    await asyncio.gather(decide_all(service, drive, waves), strike())


async def _answered(drive: Drive, count: int) -> bool:
    return drive.answered >= count


async def finish_and_audit(
    service: CaseService,
    client: Client,
    drive: Drive,
    cases: dict[str, str],
    settings: Settings,
    catalogue: Catalogue,
    sessions_url: str,
) -> None:
    """Deliver every case, wait for each to complete, and find nothing wrong in any record."""
    await deliver_all(service, drive, cases)
    assert drive.refusals == [], drive.refusals
    histories = await completed_histories(client, list(cases))
    assert audit(histories, open_store(sessions_url), settings, cases, catalogue) == []


async def test_R21_worker_and_server_killed_mid_review_every_record_equals_its_history(
    tmp_path: Path, catalogue: Catalogue, fault_settings: Settings
) -> None:
    """R21, R23: ten 4–5-department cases in review while the worker is SIGKILLed (and a new
    one started), the Temporal server is SIGKILLed and started again on the same file, and
    then stopped with SIGTERM and started again; every case completes, no action is refused,
    and every case's crosscheck, chain, rebuild, notices and messages are clean."""
    settings = fault_settings
    server = DevServer(tmp_path)
    store_url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    workers = Workers(tmp_path, server, settings, store_url)
    async with stopped_on_exit(server, workers):
        server.start()
        await server.wait_ready()
        await workers.start()
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        service = CaseService(
            client, settings, catalogue, open_store(store_url), answer_within_s=ANSWER_WITHIN_S
        )
        drive = Drive()
        cases = await open_cases(service, catalogue, drive, CASES)

        async def kill_worker() -> None:
            workers.kill_one()
            await workers.start()

        async def restart_server(how: signal.Signals) -> None:
            server.kill(how)
            server.start()
            await server.wait_ready()

        faults: list[Fault] = [
            kill_worker,
            lambda: restart_server(signal.SIGKILL),
            lambda: restart_server(signal.SIGTERM),
        ]
        await run_with_faults(service, drive, decisions(cases, catalogue), faults)
        await finish_and_audit(service, client, drive, cases, settings, catalogue, store_url)
        print(f"outage answers seen by the driver: {drive.outages}")


@pytest.mark.parametrize("store_backend", ["postgresql"])
async def test_R21_three_workers_on_postgresql_one_killed_and_the_store_cut(
    tmp_path: Path,
    catalogue: Catalogue,
    fault_settings: Settings,
    store_url: str,
    store_backend: str,
) -> None:
    """R21, R23: three workers share a PostgreSQL store; mid-review one worker is SIGKILLed,
    then the store is cut off from the workers (every connection broken, new ones refused)
    until the driver has been told of the outage, then mended; every case completes once, no
    action is refused, and every record is clean."""
    settings = fault_settings
    url = make_url(store_url)
    link = StoreLink(url.host or "127.0.0.1", url.port or 5432)
    await link.mend()
    through_link = url.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
    open_store(store_url)  # the schema, before the workers race to make it
    server = DevServer(tmp_path)
    workers = Workers(tmp_path, server, settings, through_link)
    async with stopped_on_exit(server, workers):
        server.start()
        await server.wait_ready()
        await workers.start(3)
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        service = CaseService(
            client, settings, catalogue, open_store(store_url), answer_within_s=ANSWER_WITHIN_S
        )
        drive = Drive()
        cases = await open_cases(service, catalogue, drive, CASES)

        async def kill_worker() -> None:
            workers.kill_one()

        async def cut_the_store() -> None:
            seen = drive.outages
            await link.cut()
            await eventually(lambda: _outage_seen(drive, seen), "an outage answer", FAULT_TIMEOUT_S)
            await link.mend()

        await run_with_faults(
            service, drive, decisions(cases, catalogue), [kill_worker, cut_the_store]
        )
        await finish_and_audit(service, client, drive, cases, settings, catalogue, store_url)
        assert drive.outages > 0
    await link.cut()


async def _outage_seen(drive: Drive, before: int) -> bool:
    return drive.outages > before
