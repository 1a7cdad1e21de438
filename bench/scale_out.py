"""The production topology run for real on one machine, without containers: one Temporal dev
server, a PostgreSQL store (a schema of the run's own on --store-url, dropped afterwards),
--workers worker processes (worker.py) and --apis API processes (uvicorn --factory
approval.runtime:api_app), each on a port of its own. --cases cases are driven over HTTP
through the APIs in turn, as the demo users (tests/faults/apis.py ApiDriver: submit, accept,
every department's approval, deliver, the applicant's rating 满意), and one worker is SIGKILLed
once a third of the decisions are answered; the deliveries wait until no case has an activity
pending (harness.no_activity_pending). It prints the actions and the time of each phase, the
actions per second through each API, the decisions' times to answer, the outages seen and
retried, the time to heal after the kill (every action then in flight answered; no activity
pending), the total time, and whether every case completed once with a clean record
(tests/faults/harness.py audit: crosscheck, anchored verify, rebuild, notices and department
messages once each). tests/faults/test_scale_out.py is the same run as a test.

    APPROVAL_ENVIRONMENT=development .venv/bin/python bench/scale_out.py \\
        [--cases 100] [--workers 3] [--apis 2] [--store-url URL]

--store-url defaults to APPROVAL_TEST_POSTGRES_URL. It asserts nothing; the figures depend on
the machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as a file (python bench/scale_out.py), not as -m bench.scale_out
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import TypeVar

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from approval.config import PROJECT_ROOT, Settings
from approval.demo_users import ensure_demo_users
from approval.domain.catalogue import load_catalogue
from approval.domain.models import Actor, Application, CaseCommand
from approval.runtime import open_store
from approval.service import Submission
from approval.store.schema import CaseRow
from bench.common import load_now, machine, percentiles
from bench.recovery import IN_FLIGHT
from tests.faults.apis import ApiDriver, Tally, api_processes
from tests.faults.harness import (
    MATTERS,
    Drive,
    audit,
    completed_histories,
    decide_all,
    decisions,
    deliver_all,
    engine_processes,
    no_activity_pending,
    open_cases,
    strike_during,
)

KILL_AT = Fraction(1, 3)
"""The share of the decisions answered when one worker is SIGKILLed."""
T = TypeVar("T")


@dataclass
class Stopwatch:
    """The driver's engine, each request timed (when it was sent, when it was answered or
    found out of reach), and each action (its request id or idempotency key): when it was
    first sent, when it was answered."""

    engine: ApiDriver
    requests: list[tuple[float, float]] = field(default_factory=list)
    first_sent: dict[str, float] = field(default_factory=dict)
    answered: dict[str, float] = field(default_factory=dict)

    async def submit(self, application: Application, clerk: Actor) -> Submission:
        """As the engine's, timed."""
        call = self.engine.submit(application, clerk)
        return await self._timed(application.idempotency_key, call)

    async def act(
        self, case_no: str, command: CaseCommand, request_id: str | None = None
    ) -> object:
        """As the engine's, timed."""
        action = request_id or f"{case_no} {command.kind}"
        return await self._timed(action, self.engine.act(case_no, command, request_id))

    async def _timed(self, action: str, call: Awaitable[T]) -> T:
        sent = time.monotonic()
        self.first_sent.setdefault(action, sent)
        try:
            answer = await call
        finally:
            self.requests.append((sent, time.monotonic()))
        self.answered[action] = time.monotonic()
        return answer

    def healed_after(self, struck: float) -> float:
        """Seconds from ``struck`` until every action sent before it had been answered (its
        retries included)."""
        ends = (self.answered[a] for a, sent in self.first_sent.items() if sent <= struck)
        return max(ends, default=struck) - struck

    def latencies_ms(self, since: float, until: float) -> list[float]:
        """Each request's time to its answer (or its outage), of those sent between ``since``
        and ``until``."""
        return [1000 * (end - sent) for sent, end in self.requests if since <= sent <= until]


@dataclass
class Phase:
    """One phase of the run: its actions answered and its seconds."""

    name: str
    actions: int
    seconds: float


@dataclass
class Figures:
    """What the run measured."""

    cases: int
    completed: int
    phases: list[Phase] = field(default_factory=list)
    tallies: list[Tally] = field(default_factory=list)
    answered_s: float = 0.0
    """From the kill until every action in flight then was answered (retries included)."""
    healed_s: float = 0.0
    """From the kill until no case had an activity pending (those the killed worker held ran
    again on another)."""
    decision_latency: str = ""
    outages: int = 0
    refusals: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    read_model: int = 0
    total_s: float = 0.0


@contextmanager
def schema_of_its_own(postgres_url: str) -> Iterator[str]:
    """The URL of a new schema on that server (the connections' search_path), dropped with
    everything in it afterwards."""
    schema = f"scale_out_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


async def run(cases: int, workers_n: int, apis_n: int, store_url: str) -> Figures:
    """Open the cases, decide them with one worker killed a third of the way, wait until no
    activity is pending, deliver and rate them, wait for every workflow to end, audit every
    record."""
    settings = Settings(environment="development", task_queue=f"scale-out-{uuid.uuid4().hex[:8]}")
    catalogue = load_catalogue(settings.catalogue_path)
    figures = Figures(cases=cases, completed=0)
    drive = Drive()
    with tempfile.TemporaryDirectory() as scratch, schema_of_its_own(store_url) as url:
        directory = Path(scratch)
        sessions = open_store(url)  # the schema, before the processes race to make it
        users = ensure_demo_users(sessions, catalogue, datetime.now(UTC))
        async with (
            engine_processes(directory, settings, url, workers=workers_n, show_logs=False) as up,
            api_processes(directory, up.workers.env, apis_n) as urls,
            ApiDriver(urls, users, settings.audit_key_bytes) as http,
        ):
            engine = Stopwatch(http)
            started = phase_start = time.monotonic()

            def phase(name: str, since: int) -> None:
                nonlocal phase_start
                now = time.monotonic()
                figures.phases.append(Phase(name, drive.answered - since, now - phase_start))
                phase_start = now

            opened = await open_cases(engine, catalogue, drive, cases)
            phase("opened (submit, accept)", 0)
            waves = decisions(opened, catalogue)
            total = sum(len(wave) for wave in waves)
            struck = 0.0

            async def kill() -> None:
                nonlocal struck
                struck = time.monotonic()
                up.workers.kill_one()

            before, deciding = drive.answered, time.monotonic()
            sending = decide_all(engine, drive, waves, IN_FLIGHT)
            await strike_during(drive, sending, total, [(KILL_AT, kill)])
            phase("decided (one worker killed)", before)
            figures.answered_s = engine.healed_after(struck)
            latencies = engine.latencies_ms(deciding, time.monotonic())
            figures.decision_latency = percentiles(latencies)
            await no_activity_pending(up.client, list(opened))
            figures.healed_s = time.monotonic() - struck
            phase("no activity pending", drive.answered)
            before = drive.answered
            await deliver_all(engine, drive, opened)
            phase("delivered and rated", before)
            histories = await completed_histories(up.client, list(opened))
            phase("every workflow ended", drive.answered)
            figures.total_s = time.monotonic() - started
            figures.completed = len(histories)
            figures.tallies = http.tallies
        figures.outages, figures.refusals = drive.outages, drive.refusals
        figures.problems = audit(histories, sessions, settings, opened, catalogue)
        with sessions() as session:
            stored = set(session.scalars(select(CaseRow.case_no)))
        figures.read_model = len(stored)
        if stored != set(opened):
            figures.problems.append(f"read model: {len(stored)} cases, not the {len(opened)}")
        sessions.kw["bind"].dispose()
    return figures


def report(figures: Figures, workers_n: int) -> None:
    """The figures: each phase, each API, the kill, the verdict."""
    matters = " and ".join(MATTERS)
    print(
        f"{figures.cases} cases ({matters} in turn), {workers_n} worker processes, "
        f"{len(figures.tallies)} API processes, PostgreSQL store"
    )
    for p in figures.phases:
        rate = f"  {p.actions / p.seconds:6.1f} actions/s" if p.actions else ""
        print(f"  {p.name:<30} {p.actions:5d} actions in {p.seconds:6.1f} s{rate}")
    driving = sum(p.seconds for p in figures.phases if p.actions)
    for n, t in enumerate(figures.tallies, start=1):
        print(
            f"  API {n} ({t.url}): {t.answered} answered of {t.sent} sent, "
            f"{t.answered / driving:.1f} actions/s, {t.outages} outages, {t.refused} refusals"
        )
    print(f"  decisions' requests, time to answer or outage: {figures.decision_latency}")
    print(
        "  worker SIGKILL: every action in flight then answered (retries included) "
        f"{figures.answered_s:.1f} s after it; no activity pending {figures.healed_s:.1f} s "
        "after it"
    )
    print(
        f"outages seen and retried: {figures.outages}; refusals: {len(figures.refusals)}; "
        f"total {figures.total_s:.1f} s"
    )
    print(
        f"completed: {figures.completed}/{figures.cases}; read model: {figures.read_model} "
        f"cases; record problems (every case audited): {len(figures.problems)}"
    )
    for line in [*figures.refusals, *figures.problems][:20]:
        print(f"  ✗ {line}")


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--apis", type=int, default=2)
    parser.add_argument(
        "--store-url",
        default=os.environ.get("APPROVAL_TEST_POSTGRES_URL"),
        help="a PostgreSQL server (default: APPROVAL_TEST_POSTGRES_URL)",
    )
    args = parser.parse_args()
    if not args.store_url:
        parser.error("--store-url (or APPROVAL_TEST_POSTGRES_URL) must name a PostgreSQL server")
    if args.cases < 1 or args.workers < 2 or args.apis < 1:
        parser.error("--cases and --apis must be at least 1, --workers at least 2 (one is killed)")
    os.chdir(PROJECT_ROOT)
    print(machine())
    figures = asyncio.run(run(args.cases, args.workers, args.apis, args.store_url))
    report(figures, args.workers)
    print(load_now())
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
