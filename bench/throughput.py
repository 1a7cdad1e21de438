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
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psutil
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bench.common import (
    AbsentDepartments,
    CpuMeter,
    Engine,
    catalogue,
    dev_engine,
    dev_server,
    full_lifecycle,
    leave,
    machine,
    process_cpu,
    worker_process,
)
from bench.common import load_now as load
from bench.skeleton import CaseShape, shape_of, skeleton_case, skeleton_worker


@dataclass(frozen=True)
class Run:
    """One timed run: its wall seconds and the CPU seconds of this process (worker and
    client) it took."""

    seconds: float
    cpu_seconds: float


async def timed(
    count: int,
    concurrency: int,
    one: Callable[[int], Awaitable[object]],
    *,
    report: bool = False,
    worker: psutil.Process | None = None,
) -> Run:
    """Run ``one(0 … count-1)`` with at most ``concurrency`` in flight; with ``report``,
    prints the CPU the run took in this process and in the dev server. The run's CPU is that
    of the ``worker`` process when given, else of this one."""
    gate = asyncio.Semaphore(concurrency)

    async def guarded(index: int) -> None:
        async with gate:
            await one(index)

    cpu = CpuMeter()
    cpu.start()
    worker_before = process_cpu(worker) if worker else 0.0
    started = time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(count)))
    seconds = time.perf_counter() - started
    if report:
        print(f"  {cpu.report(seconds)}")
    if worker is None:
        return Run(seconds, cpu.used()[0])
    used = process_cpu(worker) - worker_before
    if report:
        print(f"  CPU of the worker process alone: {used:.1f} s ({used / seconds:.2f} cores)")
    return Run(seconds, used)


EXTRA_WORK = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: "workflow tasks",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
    EventType.EVENT_TYPE_MARKER_RECORDED: "markers",
}


async def history_shape(client: Client, workflow_id: str) -> tuple[CaseShape, str, int]:
    """The shape of a finished case, a line on its history (events, workflow tasks, timers,
    markers, size) and the history's size in bytes."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    kinds = Counter(event.event_type for event in history.events)
    size = sum(event.ByteSize() for event in history.events)
    extra = ", ".join(f"{kinds[kind]} {name}" for kind, name in EXTRA_WORK.items())
    line = f"history {len(history.events)} events ({extra}), {size / 1024:.1f} KiB"
    return shape_of(history), line, size


def rate_line(name: str, cases: int, seconds: float) -> str:
    """``name: N cases in S s → R cases/s``, with the load average."""
    return f"{name}: {cases} cases in {seconds:.2f} s → {cases / seconds:.1f} cases/s ({load()})"


@dataclass(frozen=True)
class Measured:
    """What one side of the comparison measured: a case's history, the timed run."""

    shape: CaseShape
    history_bytes: int
    run: Run


async def engine_rate(
    engine: Engine, matter_code: str, args: argparse.Namespace, worker: psutil.Process | None
) -> Measured:
    """Warm up, read the shape of one real case, then time ``args.cases`` full lifecycles."""
    matter = engine.service.catalogue.matter(matter_code)
    first = await full_lifecycle(engine.service, matter)
    shape, line, size = await history_shape(engine.env.client, first)
    print(f"engine case ({matter_code}): {shape.describe()}; {line}")
    await timed(args.warmup, args.concurrency, lambda _: full_lifecycle(engine.service, matter))
    run = await timed(
        args.cases,
        args.concurrency,
        lambda _: full_lifecycle(engine.service, matter),
        report=True,
        worker=worker,
    )
    print(rate_line("engine", args.cases, run.seconds))
    return Measured(shape, size, run)


async def skeleton_rate(
    client: Client, shape: CaseShape, args: argparse.Namespace, env: WorkflowEnvironment
) -> Measured:
    """Time ``args.cases`` skeleton cases of ``shape`` on a worker of their own (in a process
    of its own with ``--worker-process``)."""
    queue = f"skeleton-{uuid.uuid4().hex[:8]}"
    async with _skeleton_worker(client, queue, env, args.worker_process) as worker:
        return await _skeleton_run(client, queue, shape, args, worker)


@contextlib.asynccontextmanager
async def _skeleton_worker(
    client: Client, queue: str, env: WorkflowEnvironment, apart: bool
) -> AsyncIterator[psutil.Process | None]:
    if apart:
        async with worker_process("skeleton", env, queue) as process:
            yield process
        return
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with skeleton_worker(client, queue, executor):
            yield None


async def _skeleton_run(
    client: Client,
    queue: str,
    shape: CaseShape,
    args: argparse.Namespace,
    worker: psutil.Process | None,
) -> Measured:
    run_id = uuid.uuid4().hex[:8]
    await skeleton_case(client, queue, f"sk-{run_id}-first", shape)
    copied, line, size = await history_shape(client, f"sk-{run_id}-first")
    print(f"skeleton case: {copied.describe()}; {line}")
    if copied != shape:
        print("WARNING: the skeleton's history does not match the engine's shape")

    async def one(index: int) -> None:
        await skeleton_case(client, queue, f"sk-{run_id}-{index}", shape)

    warm = [f"w{i}" for i in range(args.warmup)]
    await timed(
        len(warm),
        args.concurrency,
        lambda i: skeleton_case(client, queue, f"sk-{run_id}-{warm[i]}", shape),
    )
    run = await timed(args.cases, args.concurrency, one, report=True, worker=worker)
    print(rate_line("skeleton", args.cases, run.seconds))
    return Measured(copied, size, run)


async def measure(args: argparse.Namespace) -> None:
    """Both sides on one dev server, and the figures of the one against the other."""
    async with dev_server() as env:
        engine_side = await _engine_side(env, args)
        if args.skip_skeleton:
            return
        skeleton_side = await skeleton_rate(env.client, engine_side.shape, args, env)
    print(comparison(engine_side, skeleton_side, args.cases, args.worker_process))


async def _engine_side(env: WorkflowEnvironment, args: argparse.Namespace) -> Measured:
    """The engine's figures: its worker in this process, or in one of its own."""
    departments = AbsentDepartments() if args.departments == "absent" else None
    if not args.worker_process:
        async with dev_engine(env, departments) as engine:
            return await engine_rate(engine, args.matter, args, None)
    if departments is None:
        raise SystemExit("--worker-process runs the engine with absent departments only")
    async with dev_engine(env, worker=False) as engine:
        settings = engine.settings
        async with worker_process("engine", env, settings.task_queue, settings.store_url) as w:
            return await engine_rate(engine, args.matter, args, w)


def comparison(engine: Measured, skeleton: Measured, cases: int, apart: bool) -> str:
    """The three figures against their goals: history size, worker CPU per case, rate."""
    engine_cpu, skeleton_cpu = (m.run.cpu_seconds / cases for m in (engine, skeleton))
    whose = "worker process" if apart else "worker+client"
    return "\n".join(
        (
            f"history per case: engine {engine.history_bytes / 1024:.1f} KiB (goal ≤ 20), "
            f"skeleton {skeleton.history_bytes / 1024:.1f} KiB",
            f"{whose} CPU per case: engine {engine_cpu * 1000:.0f} ms, skeleton "
            f"{skeleton_cpu * 1000:.0f} ms, ratio {engine_cpu / skeleton_cpu:.2f} (goal ≤ 1.3)",
            f"ratio engine/skeleton: {skeleton.run.seconds / engine.run.seconds:.2f} (goal ≥ 0.8)",
        )
    )


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
    parser.add_argument(
        "--worker-process",
        action="store_true",
        help="each worker in a process of its own (bench.worker_process): its CPU alone",
    )
    parser.add_argument(
        "--departments",
        choices=("absent", "stub"),
        default="absent",
        help="absent: department systems that take each message and keep nothing, like the "
        "skeleton's; stub: the in-process stub, which also writes each message to its table",
    )
    args = parser.parse_args()
    matter = catalogue().matter(args.matter)
    print(machine())
    print(
        f"{args.cases} cases × {len(matter.reviews)} departments ({args.matter}), "
        f"{args.concurrency} in flight, {args.warmup} warm-up cases untimed; "
        f"departments: {args.departments}"
    )
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
    leave()
