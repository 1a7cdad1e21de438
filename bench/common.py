"""What the bench scripts share: the machine line they print, percentiles, the engine on a dev
server of their own (worker in this process, a real SQLite store in a throw-away directory),
and a case driven through its lifecycle as the window and the departments would."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import psutil
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from approval.config import PROJECT_ROOT, Settings
from approval.contracts import DepartmentMessage
from approval.departments import DepartmentSystem
from approval.domain.catalogue import Catalogue, Matter, load_catalogue
from approval.domain.models import (
    Accept,
    Actor,
    Applicant,
    Application,
    CollectFee,
    Decide,
    Deliver,
    Outcome,
    Role,
    SubmittedMaterial,
)
from approval.environments import dev_server_environment, running_worker
from approval.logs import configure_logging
from approval.runtime import open_store
from approval.service import CaseService

CLERK = Actor(role=Role.CLERK, id="bench-clerk")
APPLICANT = Applicant(name="滨州示例建设有限公司", id_number="91371600MA3C00000L")


def machine() -> str:
    """Cores, memory, Python and temporalio of this machine, and its load now. Quiets the
    logs to errors, so the figures are not lost among the calendar's warnings."""
    configure_logging(level=logging.ERROR)
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, {pages / 2**30:.1f} GiB RAM, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"temporalio {version('temporalio')}, {platform.system()} {platform.machine()}; "
        f"load average {load}"
    )


def load_now() -> str:
    """The 1/5/15-minute load averages, to print beside a figure."""
    return "load " + "/".join(f"{x:.2f}" for x in os.getloadavg())


def percentiles(samples_ms: Sequence[float]) -> str:
    """p50 / p95 / p99 / max of ``samples_ms`` (milliseconds), and how many."""
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return (
        f"p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, p99 {cuts[98]:.1f} ms, "
        f"max {max(samples_ms):.1f} ms (n={len(samples_ms)})"
    )


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) used so far by this process and by its children (the
    Temporal dev server)."""
    me = psutil.Process()
    children = me.children(recursive=True)

    def used(process: psutil.Process) -> float:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            return 0.0
        return float(times.user + times.system)

    return used(me), sum(used(child) for child in children)


@dataclass
class CpuMeter:
    """CPU used by this process and the dev server between ``start`` and ``report``."""

    started: tuple[float, float] = (0.0, 0.0)

    def start(self) -> None:
        """Take the first reading."""
        self.started = cpu_seconds()

    def used(self) -> tuple[float, float]:
        """CPU seconds of this process and of the dev server since ``start``."""
        mine, server = (
            now - before for now, before in zip(cpu_seconds(), self.started, strict=True)
        )
        return mine, server

    def report(self, wall_seconds: float) -> str:
        """CPU seconds of each since ``start``, as cores busy over ``wall_seconds``."""
        mine, server = self.used()
        return (
            f"CPU: worker+client process {mine:.1f} s ({mine / wall_seconds:.2f} cores), "
            f"dev server {server:.1f} s ({server / wall_seconds:.2f} cores)"
        )


def catalogue() -> Catalogue:
    """The demo catalogue."""
    return load_catalogue(PROJECT_ROOT / "data" / "catalogue.yaml")


def review_order(matter: Matter) -> list[str]:
    """The matter's departments in an order where each comes after those it depends on."""
    done: list[str] = []
    waiting = list(matter.reviews)
    while waiting:
        ready = [r for r in waiting if set(r.depends_on) <= set(done)]
        done += [r.department for r in ready]
        waiting = [r for r in waiting if r not in ready]
    return done


def application(matter: Matter) -> Application:
    """An application for ``matter`` with every demanded material, under a new key."""
    return Application(
        matter_code=matter.code,
        applicant=APPLICANT,
        materials=tuple(
            SubmittedMaterial(
                code=m.code,
                document_ref=f"docs/{m.code}.pdf",
                sha256=hashlib.sha256(m.code.encode()).hexdigest(),
            )
            for m in matter.demanded_materials
        ),
        idempotency_key=f"bench-{uuid.uuid4().hex}",
    )


def approval_by(department: str) -> Decide:
    """``department``'s reviewer approves."""
    reviewer = Actor(role=Role.REVIEWER, id=f"bench-{department.lower()}", department=department)
    return Decide(actor=reviewer, department=department, outcome=Outcome.APPROVE)


async def accepted_case(service: CaseService, matter: Matter) -> str:
    """A case of ``matter`` submitted and accepted at the window."""
    case_no = (await service.submit(application(matter), CLERK)).case_no
    await service.act(case_no, Accept(actor=CLERK))
    return case_no


async def conclude(service: CaseService, case_no: str, matter: Matter) -> None:
    """Collect the fee, if the matter has one, and deliver: the case ends (办结)."""
    if matter.fee_yuan:
        receipt = f"R-{case_no[-6:]}"
        await service.act(
            case_no, CollectFee(actor=CLERK, amount_yuan=matter.fee_yuan, receipt_no=receipt)
        )
    await service.act(case_no, Deliver(actor=CLERK))


async def full_lifecycle(service: CaseService, matter: Matter) -> str:
    """Submit → accept → every department approves (dependencies first) → fee → deliver."""
    case_no = await accepted_case(service, matter)
    for department in review_order(matter):
        await service.act(case_no, approval_by(department))
    await conclude(service, case_no, matter)
    return case_no


@dataclass(frozen=True)
class Engine:
    """The engine on a dev server of its own: the server, the service, its store, settings."""

    env: WorkflowEnvironment
    service: CaseService
    sessions: sessionmaker[Session]
    settings: Settings


class AbsentDepartments:
    """Department systems that take every message and keep nothing: what the skeleton's
    department activity stands for. The in-process stub writes each message into its own
    table, work of the departments', not of the engine's."""

    async def deliver(self, message: DepartmentMessage, *, attempt: int) -> None:
        """Take the message."""

    async def aclose(self) -> None:
        """Nothing to release."""


@asynccontextmanager
async def dev_engine(
    env: WorkflowEnvironment, departments: DepartmentSystem | None = None, *, worker: bool = True
) -> AsyncIterator[Engine]:
    """The engine on ``env`` with a worker in this process (the project's running_worker, silent
    stub departments unless ``departments`` is given; none with ``worker=False``, for a worker
    started elsewhere) and a new SQLite store in a throw-away directory, on a task queue of its
    own."""
    with tempfile.TemporaryDirectory(prefix="approval-bench-") as scratch:
        settings = Settings(task_queue=f"bench-{uuid.uuid4().hex[:8]}", data_dir=Path(scratch))
        sessions = open_store(settings.store_url)
        service = CaseService(env.client, settings, catalogue(), sessions)
        try:
            if not worker:
                yield Engine(env, service, sessions, settings)
                return
            async with running_worker(
                env.client,
                sessions,
                task_queue=settings.task_queue,
                audit_key=settings.audit_key_bytes,
                system=departments,
            ):
                yield Engine(env, service, sessions, settings)
        finally:
            sessions.kw["bind"].dispose()


@asynccontextmanager
async def worker_process(
    kind: str, env: WorkflowEnvironment, task_queue: str, store_url: str | None = None
) -> AsyncIterator[psutil.Process]:
    """bench.worker_process (``engine`` or ``skeleton``) serving ``task_queue`` in a process of
    its own while the block runs; yields the process, whose CPU is then the worker's alone."""
    address = env.client.service_client.config.target_host
    command = [sys.executable, "-m", "bench.worker_process", kind, address, task_queue]
    process = subprocess.Popen(
        [*command, *([store_url] if store_url else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=PROJECT_ROOT,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        ready = await asyncio.to_thread(process.stdout.readline)
        if ready.strip() != b"ready":
            raise RuntimeError(f"the {kind} worker process did not start ({process.poll()})")
        yield psutil.Process(process.pid)
    finally:
        process.stdin.close()
        process.wait(timeout=60)


def process_cpu(process: psutil.Process) -> float:
    """CPU seconds (user + system) the process has used so far."""
    times = process.cpu_times()
    return float(times.user + times.system)


@asynccontextmanager
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal CLI dev server of this run (in memory), from the project's packages."""
    async with await dev_server_environment() as env:
        yield env


def leave() -> None:
    """End the script without interpreter finalisation: the Temporal runtime's native threads
    may still be running (as bench.audit_rates and the command lines do)."""
    sys.stdout.flush()
    os._exit(0)
