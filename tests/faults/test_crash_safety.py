"""The record survives crashes (R21, R23): cases in review while the worker is SIGKILLed, the
Temporal server SIGKILLed or stopped and started again on the same file, the store cut off
from the workers, and three workers on PostgreSQL with one killed. Afterwards every case
completes, and for every case the audit log equals its committed Temporal history (crosscheck),
its chain verifies, the read model equals a rebuild from the histories, and its notices and
department messages are there once each. No outage is ever answered as a refusal."""

from __future__ import annotations

import signal
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.runtime import open_store
from tests.faults.harness import (
    FAULT_TIMEOUT_S,
    Drive,
    Fault,
    FaultRun,
    StoreLink,
    audit,
    completed_histories,
    decisions,
    deliver_all,
    eventually,
    fault_run,
    run_with_faults,
)

pytestmark = [pytest.mark.slow, pytest.mark.devserver]

CASES = 10


async def finish_and_audit(
    run: FaultRun, settings: Settings, catalogue: Catalogue, store_url: str
) -> None:
    """Deliver every case, wait for each to complete, and find nothing wrong in any record."""
    await deliver_all(run.service, run.drive, run.cases)
    assert run.drive.refusals == [], run.drive.refusals
    histories = await completed_histories(run.client, list(run.cases))
    problems = audit(histories, open_store(store_url), settings, run.cases, catalogue)
    assert problems == []


async def test_R21_worker_and_server_killed_mid_review_every_record_equals_its_history(
    tmp_path: Path, catalogue: Catalogue, fault_settings: Settings
) -> None:
    """R21, R23: ten 4–5-department cases in review while the worker is SIGKILLed (and a new
    one started), the Temporal server is SIGKILLed and started again on the same file, and
    then stopped with SIGTERM and started again; every case completes, no action is refused,
    and every case's crosscheck, chain, rebuild, notices and messages are clean."""
    settings = fault_settings
    store_url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    urls = (store_url, store_url)
    async with fault_run(tmp_path, settings, catalogue, urls, workers=1, cases=CASES) as run:
        faults: list[Fault] = [
            run.workers.replace_one,
            lambda: run.server.restart(signal.SIGKILL),
            lambda: run.server.restart(signal.SIGTERM),
        ]
        await run_with_faults(run, decisions(run.cases, catalogue), faults)
        await finish_and_audit(run, settings, catalogue, store_url)
        print(f"outage answers seen by the driver: {run.drive.outages}")


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
    urls = (store_url, through_link)
    async with fault_run(tmp_path, settings, catalogue, urls, workers=3, cases=CASES) as run:

        async def cut_the_store() -> None:
            seen = run.drive.outages
            await link.cut()
            await eventually(partial(_outage_seen, run.drive, seen), "an outage", FAULT_TIMEOUT_S)
            await link.mend()

        faults: list[Fault] = [_kill_one(run), cut_the_store]
        await run_with_faults(run, decisions(run.cases, catalogue), faults)
        await finish_and_audit(run, settings, catalogue, store_url)
        assert run.drive.outages > 0
    await link.cut()


def _kill_one(run: FaultRun) -> Fault:
    """A fault: SIGKILL one of the run's workers (the others carry on)."""

    async def kill() -> None:
        run.workers.kill_one()

    return kill


async def _outage_seen(drive: Drive, before: int) -> bool:
    return drive.outages > before
