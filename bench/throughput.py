"""End-to-end throughput against the bare-Temporal floor. On a dev server started here, with
the worker in this process and a real SQLite store: N cases of a catalogue matter (default
JS-SGXK-001, five departments, no fee) through the full lifecycle — submit, accept, every
department approves (dependencies first), fee if any, deliver — at most ``--concurrency`` cases
in flight. Then, on the same server, N cases of the bare skeleton (bench.skeleton) doing the
same Temporal work per case, read from a real case's history. Prints both rates and the ratio
(goal ≥ 0.8); asserts nothing. ``--rounds`` (default 3) runs both sides that many times,
alternating which goes first, and prints the medians of the ratios.

    uv run --frozen python -m bench.throughput [--cases 200] [--concurrency 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import statistics
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
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
class Side:
    """One side of the comparison, its worker serving: how to run one of its cases (returning
    the case's workflow id), and the worker's own process when it runs apart."""

    name: str
    one_case: Callable[[], Awaitable[str]]
    worker: psutil.Process | None


async def time_side(side: Side, args: argparse.Namespace) -> Run:
    """Warm up, then time ``args.cases`` cases of the side; prints its rate."""
    await timed(args.warmup, args.concurrency, lambda _: side.one_case())
    run = await timed(
        args.cases, args.concurrency, lambda _: side.one_case(), report=True, worker=side.worker
    )
    print(rate_line(side.name, args.cases, run.seconds))
    return run


@contextlib.asynccontextmanager
async def engine_side(env: WorkflowEnvironment, args: argparse.Namespace) -> AsyncIterator[Side]:
    """The engine, its worker serving in this process, or in one of its own."""
    departments = AbsentDepartments() if args.departments == "absent" else None
    if not args.worker_process:
        async with dev_engine(env, departments) as engine:
            yield _engine_cases(engine, args.matter, None)
        return
    if departments is None:
        raise SystemExit("--worker-process runs the engine with absent departments only")
    async with dev_engine(env, worker=False) as engine:
        settings = engine.settings
        async with worker_process("engine", env, settings.task_queue, settings.store_url) as w:
            yield _engine_cases(engine, args.matter, w)


def _engine_cases(engine: Engine, matter_code: str, worker: psutil.Process | None) -> Side:
    matter = engine.service.catalogue.matter(matter_code)
    return Side("engine", lambda: full_lifecycle(engine.service, matter), worker)


@contextlib.asynccontextmanager
async def skeleton_side(
    env: WorkflowEnvironment, shape: CaseShape, apart: bool
) -> AsyncIterator[Side]:
    """Skeleton cases of ``shape`` on a worker of their own (in a process of its own when
    ``apart``)."""
    queue = f"skeleton-{uuid.uuid4().hex[:8]}"
    numbers = itertools.count(1)

    async def one_case() -> str:
        case_id = f"{queue}-{next(numbers)}"
        await skeleton_case(env.client, queue, case_id, shape)
        return case_id

    if apart:
        async with worker_process("skeleton", env, queue) as process:
            yield Side("skeleton", one_case, process)
        return
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with skeleton_worker(env.client, queue, executor):
            yield Side("skeleton", one_case, None)


async def first_case(side: Side, env: WorkflowEnvironment, label: str) -> tuple[CaseShape, int]:
    """Run one case of the side and print its shape and history; its shape and history size."""
    shape, line, size = await history_shape(env.client, await side.one_case())
    print(f"{label}: {shape.describe()}; {line}")
    return shape, size


async def measure(args: argparse.Namespace) -> None:
    """Both sides on one dev server, ``args.rounds`` times, each round's figures of the one
    against the other, and with more than one round their medians. The machine may be shared:
    rounds alternate which side runs first, so that a drift in its load weighs on both."""
    async with dev_server() as env, engine_side(env, args) as engine:
        shape, engine_bytes = await first_case(engine, env, f"engine case ({args.matter})")
        if args.skip_skeleton:
            await time_side(engine, args)
            return
        async with skeleton_side(env, shape, args.worker_process) as skeleton:
            copied, skeleton_bytes = await first_case(skeleton, env, "skeleton case")
            if copied != shape:
                print("WARNING: the skeleton's history does not match the engine's shape:")
                print(f"  engine   {shape}\n  skeleton {copied}")
            print(
                f"history per case: engine {engine_bytes / 1024:.1f} KiB (goal ≤ 20), "
                f"skeleton {skeleton_bytes / 1024:.1f} KiB"
            )
            rounds = [
                await one_round(number, engine, skeleton, args) for number in range(args.rounds)
            ]
    if len(rounds) > 1:
        print(medians(rounds, args.together))


async def one_round(number: int, engine: Side, skeleton: Side, args: argparse.Namespace) -> Pair:
    """Time both sides, the engine first in even rounds (counted from 0), the skeleton first
    in odd ones; prints the round's ratios."""
    if args.rounds > 1:
        print(f"round {number + 1} of {args.rounds}")
    if args.together:
        pair = await asyncio.gather(time_side(engine, args), time_side(skeleton, args))
    else:
        order = (engine, skeleton) if number % 2 == 0 else (skeleton, engine)
        runs = {side.name: await time_side(side, args) for side in order}
        pair = (runs["engine"], runs["skeleton"])
    print(comparison(pair, args.cases, args.worker_process, args.together))
    return pair


Pair = tuple[Run, Run]
"""The engine's and the skeleton's runs of one round."""


def comparison(pair: Pair, cases: int, apart: bool, together: bool) -> str:
    """A round's figures against their goals: worker CPU per case and, when the sides ran
    one after the other, the rate (timed together, both share the server's pace)."""
    engine, skeleton = pair
    engine_cpu, skeleton_cpu = engine.cpu_seconds / cases, skeleton.cpu_seconds / cases
    whose = "worker process" if apart else "worker+client"
    cpu = (
        f"{whose} CPU per case: engine {engine_cpu * 1000:.0f} ms, skeleton "
        f"{skeleton_cpu * 1000:.0f} ms, ratio {engine_cpu / skeleton_cpu:.2f} (goal ≤ 1.3)"
    )
    if together:
        return cpu
    return f"{cpu}\nratio engine/skeleton: {skeleton.seconds / engine.seconds:.2f} (goal ≥ 0.8)"


def medians(rounds: Sequence[Pair], together: bool) -> str:
    """The rounds' CPU ratios and, when the sides ran one after the other, their rate ratios:
    the median and the range of each."""
    cpu = [engine.cpu_seconds / skeleton.cpu_seconds for engine, skeleton in rounds]
    line = (
        f"median of {len(rounds)} rounds: CPU per case ratio {statistics.median(cpu):.2f} "
        f"({min(cpu):.2f}–{max(cpu):.2f}; goal ≤ 1.3)"
    )
    if together:
        return line
    rate = [skeleton.seconds / engine.seconds for engine, skeleton in rounds]
    return (
        f"{line}, rate ratio {statistics.median(rate):.2f} "
        f"({min(rate):.2f}–{max(rate):.2f}; goal ≥ 0.8)"
    )


def main() -> None:
    """Parse the options, measure, print."""
    parser = argparse.ArgumentParser(description="Engine throughput against bare Temporal.")
    parser.add_argument("--cases", type=int, default=200, help="cases timed, each run")
    parser.add_argument("--concurrency", type=int, default=20, help="cases in flight at once")
    parser.add_argument("--matter", default="JS-SGXK-001", help="catalogue matter of the cases")
    parser.add_argument("--warmup", type=int, default=10, help="untimed cases before each run")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="engine and skeleton runs, alternating which goes first; medians of the ratios",
    )
    parser.add_argument(
        "--together",
        action="store_true",
        help="time both sides at once, each with its own in-flight cases, so that the machine's "
        "load (and the dev server's) is the same for both",
    )
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
