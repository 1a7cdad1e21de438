"""How the engine holds up with many open cases: cases submitted and accepted until 1k, 5k and
10k of them wait on their departments' deadlines (silent stub departments, review periods of
days), on a Temporal dev server of this run whose database is a file, with the worker in a
process of its own (``worker.py``, as deployed) and the store a SQLite file beside it. After
each step it prints the worker's resident memory, the Temporal server's database size and
memory, the store's size, and the rate at which the step's cases were started. Asserts
nothing.

The worker keeps at most ``max_cached_workflows`` cases in memory (temporalio's default,
1000, which approval.runtime.build_worker does not change); the others wait as histories on
the server and are replayed when a deadline or an action wakes them: memory should stay flat
once the cache is full.

    uv run python -m bench.scale [--steps 1000,5000,10000] [--every 0] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import itertools
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import psutil
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from approval.config import PROJECT_ROOT, Settings
from approval.domain.catalogue import Matter
from approval.domain.models import Accept
from approval.environments import dev_server_environment
from approval.runtime import open_store
from approval.service import CaseService
from bench.common import CLERK, application, catalogue, leave, load_now, machine
from bench.fill import store_version

STEPS = (1_000, 5_000, 10_000)
MAX_CACHED_WORKFLOWS = inspect.signature(Worker).parameters["max_cached_workflows"].default
"""The worker's workflow cache (temporalio's default: build_worker leaves it)."""
MiB = 2**20
UPDATE_ATTEMPTS = 5


def file_size(path: Path) -> int:
    """Bytes of a SQLite database with its write-ahead log and shared memory files."""
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return sum(f.stat().st_size for f in files if f.exists())


@asynccontextmanager
async def dev_server_on_file(database: Path) -> AsyncIterator[WorkflowEnvironment]:
    """The project's Temporal dev server (as approval.environments starts it) with its
    database in ``database``, so that its size can be measured."""
    async with await dev_server_environment(str(database)) as env:
        yield env


@contextmanager
def worker_process(settings: Settings, log: Path) -> Iterator[psutil.Process]:
    """``worker.py`` serving ``settings``' task queue and store, in a process of its own."""
    environment = os.environ | {
        "APPROVAL_TEMPORAL_ADDRESS": settings.temporal_address,
        "APPROVAL_TASK_QUEUE": settings.task_queue,
        "APPROVAL_DATA_DIR": str(settings.data_dir),
        "APPROVAL_HOLIDAY_OVERRIDE_PATH": str(settings.holiday_override_path),
    }
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "worker.py")],
            env=environment,
            stdout=output,
            stderr=output,
            cwd=PROJECT_ROOT,
        )
    try:
        yield psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def server_process() -> psutil.Process | None:
    """The Temporal dev server this process started."""
    return next((p for p in psutil.Process().children() if p.name() == "temporal"), None)


async def waiting_case(service: CaseService, matter: Matter) -> None:
    """A case of ``matter`` submitted and accepted, so that its departments' clocks run. On a
    busy machine the accepting Update may outlast its RPC: it is sent again under the same
    request id, which the case applies once (R23)."""
    case_no = (await service.submit(application(matter), CLERK)).case_no
    request_id = f"bench-accept-{case_no}"
    for attempt in range(1, UPDATE_ATTEMPTS + 1):
        try:
            await service.act(case_no, Accept(actor=CLERK), request_id)
            return
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            if attempt == UPDATE_ATTEMPTS:
                raise


async def start_cases(
    service: CaseService, matters: Iterator[Matter], count: int, concurrency: int
) -> float:
    """Submit and accept ``count`` cases, ``concurrency`` at a time; the seconds it took."""
    gate = asyncio.Semaphore(concurrency)

    async def one(matter: Matter) -> None:
        async with gate:
            await waiting_case(service, matter)

    started = time.perf_counter()
    await asyncio.gather(*(one(next(matters)) for _ in range(count)))
    return time.perf_counter() - started


def report(
    open_cases: int, started: int, seconds: float, worker: psutil.Process, settings: Settings
) -> None:
    """One line of figures after a step."""
    server = server_process()
    server_rss = f"{server.memory_info().rss / MiB:.0f} MiB" if server else "?"
    temporal_db = file_size(settings.data_dir / "temporal.sqlite") / MiB
    store = file_size(settings.data_dir / "approval.sqlite3") / MiB
    rate = f"{started / seconds:.1f} cases/s" if started else "-"
    print(
        f"{open_cases:>6} open cases: worker RSS {worker.memory_info().rss / MiB:.0f} MiB; "
        f"Temporal DB {temporal_db:.1f} MiB "
        f"(server RSS {server_rss}); store {store:.1f} MiB; "
        f"started {started} at {rate}; {load_now()}",
        flush=True,
    )


def checkpoints(steps: list[int], every: int) -> list[int]:
    """The open-case counts to report at: each step, and every ``every`` cases between (0:
    steps only), so that a run cut short still shows the trend."""
    between = range(every, steps[-1], every) if every else range(0)
    return sorted(set(steps) | set(between))


async def run(steps: list[int], every: int, concurrency: int, scratch: Path) -> None:
    """Grow the open cases step by step, printing the figures after each."""
    async with dev_server_on_file(scratch / "temporal.sqlite") as env:
        settings = Settings(
            temporal_address=env.client.service_client.config.target_host,
            task_queue=f"bench-scale-{uuid.uuid4().hex[:8]}",
            data_dir=scratch,
            holiday_override_path=scratch / "no-override.yaml",
        )
        sessions = open_store(settings.store_url)
        print(
            f"store: {store_version(sessions.kw['bind'])} file; worker: worker.py "
            f"(max_cached_workflows {MAX_CACHED_WORKFLOWS}); concurrency {concurrency}"
        )
        demo = catalogue()
        service = CaseService(env.client, settings, demo, sessions)
        matters = itertools.cycle([m for m in demo.matters if m.reviews])
        with worker_process(settings, scratch / "worker.log") as worker:
            await waiting_case(service, next(matters))  # the worker is up and has served one
            report(1, 0, 0.0, worker, settings)
            open_cases = 1
            for target in checkpoints(steps, every):
                count = target - open_cases
                seconds = await start_cases(service, matters, count, concurrency)
                open_cases = target
                report(open_cases, count, seconds, worker, settings)
        sessions.kw["bind"].dispose()


def main() -> None:
    """Parse the options, run the steps and print the figures."""
    parser = argparse.ArgumentParser(description="Worker memory and database size as cases grow.")
    parser.add_argument(
        "--steps", default=",".join(map(str, STEPS)), help="open cases after each step"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="cases started at once")
    parser.add_argument(
        "--every", type=int, default=0, help="also report every N open cases (0: steps only)"
    )
    args = parser.parse_args()
    try:
        steps = [int(s) for s in args.steps.split(",")]
    except ValueError:
        parser.error(f"--steps: {args.steps!r} is not comma-separated whole numbers")
    if any(b <= a for a, b in itertools.pairwise([1, *steps])):
        parser.error(f"--steps: {args.steps!r} must grow, each above 1")
    if args.concurrency < 1:
        parser.error("--concurrency: must be at least 1")
    if args.every < 0:
        parser.error("--every: must be 0 or more")
    print(machine())
    with tempfile.TemporaryDirectory(prefix="approval-bench-") as scratch:
        asyncio.run(run(steps, args.every, args.concurrency, Path(scratch)))


if __name__ == "__main__":
    main()
    leave()
