"""End-to-end throughput against the bare-Temporal floor. On a dev server started here, with
the worker in this process and a real SQLite store: N cases of a catalogue matter (default
JS-SGXK-001, five departments, no fee) through the full lifecycle — submit, accept, every
department approves (dependencies first), fee if any, deliver — at most ``--concurrency`` cases
in flight. Then, on the same server, N cases of the bare skeleton (bench.skeleton) doing the
same Temporal work per case, read from a real case's history. Prints both rates and the ratio
(goal ≥ 0.8); asserts nothing.

    uv run --frozen python -m bench.throughput [--cases 200] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.common import (
    CpuMeter,
    Engine,
    catalogue,
    dev_engine,
    dev_server,
    full_lifecycle,
    leave,
    machine,
)
from bench.common import load_now as load
from bench.skeleton import CaseShape, shape_of, skeleton_case, skeleton_worker


async def timed(
    count: int, concurrency: int, one: Callable[[int], Awaitable[object]], *, report: bool = False
) -> float:
    """Seconds to run ``one(0 … count-1)`` with at most ``concurrency`` in flight; with
    ``report``, prints the CPU the run took in this process and in the dev server."""
    gate = asyncio.Semaphore(concurrency)

    async def guarded(index: int) -> None:
        async with gate:
            await one(index)

    cpu = CpuMeter()
    cpu.start()
    started = time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(count)))
    seconds = time.perf_counter() - started
    if report:
        print(f"  {cpu.report(seconds)}")
    return seconds


EXTRA_WORK = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: "workflow tasks",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
    EventType.EVENT_TYPE_MARKER_RECORDED: "markers",
}


async def history_shape(client: Client, workflow_id: str) -> tuple[CaseShape, str]:
    """The shape of a finished case, and its history's size: events, workflow tasks, timers,
    markers and bytes."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    kinds = Counter(event.event_type for event in history.events)
    size = sum(event.ByteSize() for event in history.events)
    extra = ", ".join(f"{kinds[kind]} {name}" for kind, name in EXTRA_WORK.items())
    return shape_of(
        history
    ), f"history {len(history.events)} events ({extra}), {size / 1024:.0f} KiB"


def rate_line(name: str, cases: int, seconds: float) -> str:
    """``name: N cases in S s → R cases/s``, with the load average."""
    return f"{name}: {cases} cases in {seconds:.2f} s → {cases / seconds:.1f} cases/s ({load()})"


async def engine_rate(
    engine: Engine, matter_code: str, args: argparse.Namespace
) -> tuple[CaseShape, float]:
    """Warm up, read the shape of one real case, then time ``args.cases`` full lifecycles."""
    matter = engine.service.catalogue.matter(matter_code)
    first = await full_lifecycle(engine.service, matter)
    shape, events = await history_shape(engine.env.client, first)
    print(f"engine case ({matter_code}): {shape.describe()}; {events}")
    await timed(args.warmup, args.concurrency, lambda _: full_lifecycle(engine.service, matter))
    seconds = await timed(
        args.cases, args.concurrency, lambda _: full_lifecycle(engine.service, matter), report=True
    )
    print(rate_line("engine", args.cases, seconds))
    return shape, seconds


async def skeleton_rate(client: Client, shape: CaseShape, args: argparse.Namespace) -> float:
    """Time ``args.cases`` skeleton cases of ``shape`` on a worker of their own."""
    queue = f"skeleton-{uuid.uuid4().hex[:8]}"
    run = uuid.uuid4().hex[:8]
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with skeleton_worker(client, queue, executor):
            await skeleton_case(client, queue, f"sk-{run}-first", shape)
            copied, events = await history_shape(client, f"sk-{run}-first")
            print(f"skeleton case: {copied.describe()}; {events}")
            if copied != shape:
                print("WARNING: the skeleton's history does not match the engine's shape")

            async def one(index: int) -> None:
                await skeleton_case(client, queue, f"sk-{run}-{index}", shape)

            warm = [f"w{i}" for i in range(args.warmup)]
            await timed(
                len(warm),
                args.concurrency,
                lambda i: skeleton_case(client, queue, f"sk-{run}-{warm[i]}", shape),
            )
            seconds = await timed(args.cases, args.concurrency, one, report=True)
    print(rate_line("skeleton", args.cases, seconds))
    return seconds


async def measure(args: argparse.Namespace) -> None:
    """Both rates on one dev server, and their ratio."""
    async with dev_server() as env:
        async with dev_engine(env) as engine:
            shape, engine_seconds = await engine_rate(engine, args.matter, args)
        if args.skip_skeleton:
            return
        skeleton_seconds = await skeleton_rate(env.client, shape, args)
    ratio = skeleton_seconds / engine_seconds
    print(f"ratio engine/skeleton: {ratio:.2f} (goal ≥ 0.8)")


def main() -> None:
    """Parse the options, measure, print."""
    parser = argparse.ArgumentParser(description="Engine throughput against bare Temporal.")
    parser.add_argument("--cases", type=int, default=200, help="cases timed, each run")
    parser.add_argument("--concurrency", type=int, default=20, help="cases in flight at once")
    parser.add_argument("--matter", default="JS-SGXK-001", help="catalogue matter of the cases")
    parser.add_argument("--warmup", type=int, default=10, help="untimed cases before each run")
    parser.add_argument(
        "--skip-skeleton", action="store_true", help="engine only (e.g. under a profiler)"
    )
    args = parser.parse_args()
    matter = catalogue().matter(args.matter)
    print(machine())
    print(
        f"{args.cases} cases × {len(matter.reviews)} departments ({args.matter}), "
        f"{args.concurrency} in flight, {args.warmup} warm-up cases untimed"
    )
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
    leave()
