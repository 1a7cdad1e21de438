"""The production topology on one machine, without containers: one Temporal dev server, a
PostgreSQL store, three worker processes and two API processes (uvicorn, each on a port of its
own), a hundred cases driven over HTTP through both APIs in turn as the demo users, and one
worker SIGKILLed a third of the way into the decisions. Every case completes once with a clean
record: the proof that nothing in the engine assumes one process (in-memory state, SQL only
SQLite takes, per-process caches that go stale)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus

from approval.config import Settings
from approval.demo_users import DemoUser, ensure_demo_users
from approval.domain.catalogue import Catalogue
from approval.domain.events import (
    ApplicationAccepted,
    ApplicationReceived,
    CaseRated,
    ResultDelivered,
    ReviewApproved,
)
from approval.domain.models import RatingLevel, Role
from approval.domain.state import Stage
from approval.store.audit_log import events_of
from approval.store.schema import CaseRow
from tests.faults.apis import ApiDriver, api_processes
from tests.faults.harness import (
    SETTLE_TIMEOUT_S,
    Drive,
    Fault,
    Workers,
    audit,
    completed_histories,
    decide_all,
    decisions,
    deliver_all,
    engine_processes,
    eventually,
    open_cases,
    strike_during,
)

pytestmark = [pytest.mark.slow, pytest.mark.devserver]

CASES = 100
WORKERS = 3
APIS = 2
KILL_AT = Fraction(1, 3)
"""The share of the decisions answered when one worker is SIGKILLed."""


@pytest.mark.parametrize("store_backend", ["postgresql"])
async def test_R21_R22_R23_two_apis_three_workers_one_killed_every_case_completes_once(
    tmp_path: Path,
    catalogue: Catalogue,
    fault_settings: Settings,
    sessions: sessionmaker[Session],
    store_url: str,
    store_backend: str,
) -> None:
    """R21, R22, R23 across processes: a hundred 4–5-department cases submitted, accepted,
    decided by every department, delivered and rated 满意 over HTTP, each request of a case
    through the other API than its previous one (the retries of one action too), as the demo
    user whose bearer token sent it; one of three workers SIGKILLed once a third of the
    decisions are answered. No action is refused (an outage is retried with the same key);
    every submission gives a case of its own and every case one workflow run, completed; every
    record is clean (crosscheck, anchored chain, rebuild, notices and department messages once
    each); the read model holds exactly those cases, completed and rated; each action is
    recorded once, in the name of the token's user (R22). A case whose department send the
    killed worker held answers no action until that send has run again elsewhere: its
    actions are outages meanwhile, resent with their keys until answered."""
    settings = fault_settings  # ``sessions``: the store's schema made before the processes start
    users = ensure_demo_users(sessions, catalogue, datetime.now(UTC))
    drive = Drive()
    async with (
        engine_processes(tmp_path, settings, store_url, workers=WORKERS) as engine,
        api_processes(tmp_path, engine.workers.env, APIS) as urls,
        ApiDriver(urls, users, settings.audit_key_bytes) as http,
    ):
        cases = await open_cases(http, catalogue, drive, CASES)
        waves = decisions(cases, catalogue)
        total = sum(len(wave) for wave in waves)
        kill = [(KILL_AT, _kill_one(engine.workers))]
        await strike_during(drive, decide_all(http, drive, waves), total, kill)
        await deliver_all(http, drive, cases)
        assert drive.refusals == [], drive.refusals
        histories = await completed_histories(engine.client, list(cases))
        runs = await _runs(engine.client, settings.task_queue, set(cases))
        assert len(engine.workers.running) == WORKERS - 1
    print(f"outage answers seen by the driver: {drive.outages}; through each API: {http.tallies}")
    assert len(cases) == CASES, "two submissions were given the same case"
    assert runs == Counter(set(cases))
    assert audit(histories, sessions, settings, cases, catalogue) == []
    assert _read_model(sessions) == {c: (Stage.COMPLETED, RatingLevel.SATISFIED) for c in cases}
    assert _identities(sessions, cases, catalogue, users) == []
    assert all(tally.answered > 0 for tally in http.tallies), http.tallies


def _kill_one(workers: Workers) -> Fault:
    """A fault: SIGKILL the oldest worker (the others carry on)."""

    async def kill() -> None:
        workers.kill_one()

    return kill


async def _runs(client: Client, task_queue: str, case_nos: set[str]) -> Counter[str]:
    """How many workflow runs each case number has on the run's queue, once the server's
    visibility lists every case as completed (bounded wait)."""
    found: Counter[str] = Counter()
    completed: set[str] = set()

    async def listed() -> bool:
        found.clear()
        completed.clear()
        async for run in client.list_workflows(f"TaskQueue = '{task_queue}'"):
            found[run.id] += 1
            if run.status is WorkflowExecutionStatus.COMPLETED:
                completed.add(run.id)
        return completed >= case_nos

    await eventually(listed, "every case listed as completed", SETTLE_TIMEOUT_S)
    return found


def _read_model(sessions: sessionmaker[Session]) -> dict[str, tuple[str, str | None]]:
    """Every case of the read model: its stage and rating."""
    with sessions() as session:
        rows = session.execute(select(CaseRow.case_no, CaseRow.stage, CaseRow.rating)).all()
    return {row.case_no: (row.stage, row.rating) for row in rows}


def _identities(
    sessions: sessionmaker[Session],
    cases: dict[str, str],
    catalogue: Catalogue,
    users: list[DemoUser],
) -> list[str]:
    """Each human action recorded once, in the name of the user whose token sent it (R22):
    the clerk's receipt, acceptance and delivery, each department's approval by its reviewer,
    the applicant's rating (the check code's). Empty when so."""
    clerk = next(u.name for u in users if u.role is Role.CLERK)
    reviewers = {u.department: u.name for u in users if u.role is Role.REVIEWER}
    window = (ApplicationReceived, ApplicationAccepted, ResultDelivered)
    kinds = {kind.kind() for kind in (*window, ReviewApproved, CaseRated)}
    problems = []
    with sessions() as session:
        for case_no, matter_code in cases.items():
            expected = Counter({(kind.kind(), clerk): 1 for kind in window})
            for review in catalogue.matter(matter_code).reviews:
                expected[(ReviewApproved.kind(), reviewers[review.department])] += 1
            expected[(CaseRated.kind(), f"applicant:{case_no}")] += 1
            rows = events_of(session, case_no)
            found = Counter((row.type, row.actor_id) for row in rows if row.type in kinds)
            if found != expected:
                problems.append(f"{case_no}: {dict(found)} ≠ {dict(expected)}")
    return problems
