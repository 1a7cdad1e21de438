"""How long the engine takes to heal from each fault, with cases in review: the worker SIGKILLed
(a new one started), the Temporal server SIGKILLed and started again on its file, the server
stopped with SIGTERM and started again, and (with --postgres-url) the store cut off from the
workers for --cut-s seconds. For each fault it prints the seconds from the fault until the first
decision is answered again and until every decision sent meanwhile is answered, and at the end
whether every case completed with a clean record (crosscheck, anchored verify, rebuild, notices
and department messages once each — tests/faults/harness.py's audit).

    uv run --frozen python -m bench.recovery [--cases 50] [--workers 1] [--postgres-url URL]

It asserts nothing; the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from approval.config import PROJECT_ROOT, Settings
from approval.domain.catalogue import load_catalogue
from approval.runtime import open_store
from tests.faults.harness import (
    Drive,
    StoreLink,
    audit,
    completed_histories,
    decide_all,
    decisions,
    deliver_all,
    fault_run,
)

IN_FLIGHT = 8
"""Decisions sent at once (decide_all's default)."""


@dataclass
class Healed:
    """One fault and how long the engine took to answer again."""

    fault: str
    first_answer_s: float
    backlog_s: float


async def timed(name: str, drive: Drive, fault: Callable[[], Awaitable[None]]) -> Healed:
    """Strike ``fault``; the seconds until the next answer, and until as many answers as
    there were decisions in flight when it struck (the backlog) have come."""
    answered, started = drive.answered, time.monotonic()
    await fault()
    while drive.answered == answered and not drive.done:
        await asyncio.sleep(0.05)
    first = time.monotonic() - started
    while drive.answered < answered + IN_FLIGHT and not drive.done:
        await asyncio.sleep(0.05)
    return Healed(name, first, time.monotonic() - started)


async def run(
    cases: int,
    workers_n: int,
    postgres_url: str | None,
    cut_s: float,
    store_commands: tuple[str, str] | None,
) -> None:
    """Open the cases, strike each fault a quarter of the way further into the decisions."""
    settings = Settings(environment="development", task_queue=f"recovery-{uuid.uuid4().hex[:8]}")
    catalogue = load_catalogue(settings.catalogue_path)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        link = None
        store_url = f"sqlite:///{directory / 'store.sqlite3'}"
        worker_url = store_url
        if postgres_url:
            store_url = worker_url = own_schema(postgres_url)
            url = make_url(store_url)
            link = StoreLink(url.host or "127.0.0.1", url.port or 5432)
            await link.mend()
            worker_url = url.set(host="127.0.0.1", port=link.port).render_as_string(
                hide_password=False
            )
        open_store(store_url)  # the schema, before the workers race to make it
        urls = (store_url, worker_url)
        async with fault_run(
            directory, settings, catalogue, urls, workers=workers_n, cases=cases, show_logs=False
        ) as stack:
            drive, opened = stack.drive, stack.cases

            async def cut_store() -> None:
                assert link is not None
                await link.cut()
                await asyncio.sleep(cut_s)  # the length of the outage being measured
                await link.mend()

            async def stop_store() -> None:
                assert store_commands is not None
                await shell(store_commands[0])
                await asyncio.sleep(cut_s)  # the length of the outage being measured
                await shell(store_commands[1])

            faults: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                ("worker SIGKILL", stack.workers.replace_one),
                ("Temporal SIGKILL + restart", lambda: stack.server.restart(signal.SIGKILL)),
                ("Temporal SIGTERM + restart", lambda: stack.server.restart(signal.SIGTERM)),
            ]
            if store_commands is not None:
                faults.append((f"store stopped {cut_s:.0f} s", stop_store))
            elif link is not None:
                faults.append((f"store cut {cut_s:.0f} s", cut_store))
            waves = decisions(opened, catalogue)
            total = sum(len(w) for w in waves)
            healed: list[Healed] = []

            async def strike() -> None:
                for n, (name, strike_it) in enumerate(faults, start=1):
                    while drive.answered < 2 * cases + total * n // (len(faults) + 1):
                        await asyncio.sleep(0.05)
                    healed.append(await timed(name, drive, strike_it))

            started = time.monotonic()

            async def decide() -> None:
                await decide_all(stack.service, drive, waves, IN_FLIGHT)
                drive.done = True

            await asyncio.gather(decide(), strike())
            await deliver_all(stack.service, drive, opened)
            histories = await completed_histories(stack.client, list(opened))
            elapsed = time.monotonic() - started
            problems = audit(histories, open_store(store_url), settings, opened, catalogue)
        if link is not None:
            await link.cut()
    report(healed, cases, workers_n, elapsed, drive, problems)


async def shell(command: str) -> None:
    """Run an operator's command (e.g. stopping the database server); fail if it fails."""
    process = await asyncio.create_subprocess_shell(command)
    if await process.wait() != 0:
        raise SystemExit(f"{command!r} failed")


def own_schema(postgres_url: str) -> str:
    """The URL of a new schema of the run's own on that server (search_path)."""
    schema = f"recovery_{uuid.uuid4().hex[:12]}"
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def report(
    healed: list[Healed],
    cases: int,
    workers_n: int,
    elapsed: float,
    drive: Drive,
    problems: list[str],
) -> None:
    """The figures, one line per fault, then the verdict on the record."""
    print(f"{cases} cases, {workers_n} worker(s), load average {os.getloadavg()[0]:.2f}")
    for h in healed:
        print(
            f"  {h.fault:<28} first answer after {h.first_answer_s:6.1f} s, "
            f"backlog answered after {h.backlog_s:6.1f} s"
        )
    print(
        f"all decided, delivered and completed in {elapsed:.1f} s; "
        f"{drive.outages} outage answers, {len(drive.refusals)} refusals"
    )
    print(f"completed: {cases}/{cases}; record problems (every case audited): {len(problems)}")
    for problem in problems[:20]:
        print(f"  ✗ {problem}")


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres-url", default=os.environ.get("APPROVAL_TEST_POSTGRES_URL"))
    parser.add_argument("--cut-s", type=float, default=20.0)
    parser.add_argument(
        "--stop-store", help="command that stops the store's server (instead of a network cut)"
    )
    parser.add_argument("--start-store", help="command that starts it again")
    args = parser.parse_args()
    if bool(args.stop_store) != bool(args.start_store):
        parser.error("--stop-store and --start-store go together")
    if args.cases < 1 or args.workers < 1:
        parser.error("--cases and --workers must be at least 1")
    os.chdir(PROJECT_ROOT)
    commands = (args.stop_store, args.start_store) if args.stop_store else None
    asyncio.run(run(args.cases, args.workers, args.postgres_url, args.cut_s, commands))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
