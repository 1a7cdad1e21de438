"""Decision latency: one department's decision, from the call to the Update's result (the case's
status once the decision is in the store), on a dev server started here with the worker in this
process and a real SQLite store. Two ways in:

- ``client``: CaseService.act through the Temporal client, in this process;
- ``http``: POST /cases/{no}/decision with httpx to the API served by uvicorn in a process of
  its own on a real port, as `make run` serves it (the latency a user's browser would see, less
  the network).

Each is measured unloaded and under load (``--load`` background cases going through their full
lifecycle meanwhile). Samples are taken one after another on accepted JS-GHXK-001 cases (four
departments, no dependencies). Prints p50/p95/p99/max, and the p50 and p99 of both ways in
as multiples of the floor of the same Temporal shape; asserts nothing.

    uv run --frozen python -m bench.latency [--samples 200] [--load 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
from temporalio.client import Client

from approval.config import PROJECT_ROOT
from approval.domain.catalogue import Matter
from approval.store.users import create_user, issue_token
from bench.common import (
    Engine,
    accepted_case,
    approval_by,
    dev_engine,
    dev_server,
    full_lifecycle,
    leave,
    load_now,
    machine,
    percentiles,
    review_order,
)
from bench.skeleton import CaseShape, Flush, SkeletonWorkflow, skeleton_worker

MATTER = "JS-GHXK-001"
Decide = Callable[[str, str], Awaitable[object]]
"""Sends ``department``'s approval of case ``case_no`` and returns once it is answered."""


async def decisions(engine: Engine, matter: Matter, samples: int) -> list[tuple[str, str]]:
    """(case, department) pairs enough for ``samples`` decisions, on newly accepted cases."""
    departments = review_order(matter)
    cases = -(-samples // len(departments))
    gate = asyncio.Semaphore(10)

    async def one() -> str:
        async with gate:
            return await accepted_case(engine.service, matter)

    numbers = await asyncio.gather(*(one() for _ in range(cases)))
    return [(case_no, d) for case_no in numbers for d in departments][:samples]


async def sample(decide: Decide, pairs: list[tuple[str, str]], warmup: int) -> list[float]:
    """Milliseconds of each decision, one after another; the first ``warmup`` are dropped."""
    times = []
    for case_no, department in pairs:
        started = time.perf_counter()
        await decide(case_no, department)
        times.append((time.perf_counter() - started) * 1000)
    return times[warmup:]


@contextlib.asynccontextmanager
async def background_load(engine: Engine, matter: Matter, in_flight: int) -> AsyncIterator[None]:
    """``in_flight`` cases at a time going through their whole lifecycle while the block runs."""
    stop = asyncio.Event()

    async def worker() -> None:
        while not stop.is_set():
            await full_lifecycle(engine.service, matter)

    tasks = [asyncio.create_task(worker()) for _ in range(in_flight)]
    await asyncio.sleep(2)  # let the load reach its steady state before sampling
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def api_process(engine: Engine, port: int) -> Iterator[None]:
    """uvicorn serving approval.api on ``port``, in a process of its own, on the engine's
    Temporal server, task queue and store."""
    target = engine.env.client.service_client.config.target_host
    settings = engine.settings
    env = {
        **os.environ,
        "APPROVAL_TEMPORAL_ADDRESS": target,
        "APPROVAL_TASK_QUEUE": settings.task_queue,
        "APPROVAL_DATA_DIR": str(settings.data_dir),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "approval.api.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    log = settings.data_dir / "api.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=output, stderr=output)
    try:
        yield
    finally:
        if process.poll() is not None:
            print(f"the API process ended ({process.returncode}):\n{log.read_text()[-2000:]}")
        process.terminate()
        process.wait(timeout=10)


async def wait_until_up(client: httpx.AsyncClient) -> None:
    """Poll the API until it answers (at most 60 s)."""
    for _ in range(600):
        with contextlib.suppress(httpx.TransportError):
            await client.get("/openapi.json")
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the API did not start within 60 s")


def reviewer_tokens(engine: Engine, matter: Matter) -> dict[str, str]:
    """A bearer token for a new reviewer of each of the matter's departments."""
    tokens = {}
    now = datetime.now(UTC)
    with engine.sessions.begin() as session:
        for department in review_order(matter):
            suffix = os.urandom(3).hex()
            user = create_user(
                session, name=f"bench-{department}-{suffix}", role="reviewer", department=department
            )
            tokens[department] = issue_token(session, user.id, now)
    return tokens


def http_decide(client: httpx.AsyncClient, tokens: dict[str, str]) -> Decide:
    """An approval through POST /cases/{no}/decision in the department reviewer's name."""

    async def decide(case_no: str, department: str) -> object:
        response = await client.post(
            f"/cases/{case_no}/decision",
            json={"outcome": "approve"},
            headers={"Authorization": f"Bearer {tokens[department]}"},
        )
        if response.status_code != 200:
            raise RuntimeError(f"{case_no} {department}: {response.status_code} {response.text}")
        return response.json()

    return decide


async def both_loads(
    name: str, engine: Engine, matter: Matter, decide: Decide, args: argparse.Namespace
) -> list[float]:
    """Sample ``decide`` unloaded, then under load; print both; return the unloaded times."""
    count = args.samples + args.warmup
    pairs = await decisions(engine, matter, count)
    unloaded = await sample(decide, pairs, args.warmup)
    print(f"{name}, unloaded: {percentiles(unloaded)}; {load_now()}")
    pairs = await decisions(engine, matter, count)
    async with background_load(engine, matter, args.load):
        times = await sample(decide, pairs, args.warmup)
        print(f"{name}, {args.load} cases in flight: {percentiles(times)}; {load_now()}")
    return unloaded


async def skeleton_floor(client: Client, args: argparse.Namespace, *, local: bool) -> list[float]:
    """The bare-Temporal floor of a decision on the same server: one Update of a skeleton
    case whose step is one store-like activity doing nothing (bench.skeleton), timed the same
    way, unloaded. ``local``: the step's activity is a local one, the shape before the record
    was written from the committed history; otherwise a regular one, the engine's shape."""
    total = args.samples + args.warmup
    shape = CaseShape([[Flush(0)] for _ in range(total + 1)], local_store=local)
    queue = f"floor-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with skeleton_worker(client, queue, executor):
            handle = await client.start_workflow(
                SkeletonWorkflow.run, shape, id=queue, task_queue=queue
            )
            times = []
            for number in range(1, total + 1):
                started = time.perf_counter()
                await handle.execute_update(SkeletonWorkflow.act, number)
                times.append((time.perf_counter() - started) * 1000)
    kind = "local activity, the shape before issue 9" if local else "regular activity"
    print(f"skeleton Update (floor, {kind}), unloaded: {percentiles(times[args.warmup :])}")
    return times[args.warmup :]


def ratios(name: str, times: list[float], floor: list[float]) -> str:
    """``name``'s p50 and p99 as multiples of the floor's."""
    mine, theirs = _p(times), _p(floor)
    return (
        f"{name} / floor: p50 {mine[0] / theirs[0]:.2f}× (goal ≤ {GOALS[name]:.1f}×), "
        f"p99 {mine[1] / theirs[1]:.2f}× (goal ≤ 2.0×)"
    )


def _p(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return cuts[49], cuts[98]


GOALS = {"client": 1.3, "http": 1.6}


async def measure(args: argparse.Namespace) -> None:
    """Both ways in, each unloaded and under load; the bare-Temporal floor of the same shape
    (and of the earlier local-activity shape), and the ratios to it."""
    async with dev_server() as env, dev_engine(env) as engine:
        floor = await skeleton_floor(env.client, args, local=False)
        await skeleton_floor(env.client, args, local=True)
        matter = engine.service.catalogue.matter(MATTER)
        service = engine.service

        async def client_decide(case_no: str, department: str) -> object:
            return await service.act(case_no, approval_by(department))

        client = await both_loads("client (CaseService.act)", engine, matter, client_decide, args)
        port = free_port()
        tokens = reviewer_tokens(engine, matter)
        with api_process(engine, port):
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=30) as http_client:
                await wait_until_up(http_client)
                decide = http_decide(http_client, tokens)
                http = await both_loads("http (POST /decision)", engine, matter, decide, args)
        print(ratios("client", client, floor))
        print(ratios("http", http, floor))


def main() -> None:
    """Parse the options, measure, print."""
    parser = argparse.ArgumentParser(description="Latency of one department decision.")
    parser.add_argument("--samples", type=int, default=200, help="decisions timed per series")
    parser.add_argument("--warmup", type=int, default=10, help="untimed decisions first")
    parser.add_argument("--load", type=int, default=20, help="background cases in flight")
    args = parser.parse_args()
    print(machine())
    print(f"{args.samples} decisions per series ({MATTER}), {args.warmup} warm-up untimed")
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
    leave()
