"""Faults on real parts: a Temporal dev server that can be killed and started again on the same
file and port, worker.py processes that can be killed, a TCP cut between the workers and the
store, and a driver that sends every decision until the engine answers it (an outage is
answered as one, never as a refusal). After the faults, every case is audited: its audit log
against its committed Temporal history (crosscheck), its chain (verify), the read model against
a rebuild from the histories, the notices and department messages counted once each.

The driver sends its actions to an ``Engine``: the engine itself (CaseService), or the HTTP API
served by processes of its own (tests/faults/apis.py).

Used by tests/faults/ and by bench/recovery.py and bench/scale_out.py (which print how long
each fault took to heal).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.service import RPCError

from approval.auditing.integrity import Anchor, crosscheck, differences, rebuild, verify_case
from approval.config import Settings
from approval.contracts import DATA_CONVERTER
from approval.domain.catalogue import Catalogue
from approval.domain.errors import DomainError
from approval.domain.models import (
    Accept,
    Actor,
    Applicant,
    Application,
    CaseCommand,
    Decide,
    Deliver,
    Outcome,
    Rate,
    RatingLevel,
    Role,
    SubmittedMaterial,
)
from approval.environments import DEV_SERVER_ARGS, packaged_binary
from approval.runtime import open_store
from approval.service import CaseService, EngineUnavailableError, Submission
from approval.store.audit_log import events_of, notices_of
from approval.store.department_messages import department_messages_of
from tests.processes import WorkerProcess, process_env

T = TypeVar("T")
CLERK = Actor(role=Role.CLERK, id="clerk-faults")
MATTERS = ("JS-GHXK-001", "JS-SGXK-001")  # 4 and 5 reviewing departments
READY_TIMEOUT_S = 120.0
"""Longest a restarted server or worker may take to serve again on a busy two-core machine."""
SETTLE_TIMEOUT_S = 120.0
"""Longest the cases may take to finish once the faults are over."""
ANSWER_WITHIN_S = 5.0
"""How long the driver's engine waits for an answer before it calls it an outage."""
RETRY_PAUSE_S = 0.25
"""Pause before an action the engine could not answer is sent again (with the same id)."""
FAULT_TIMEOUT_S = 240.0
"""Longest wait for the answers after which a fault strikes, or for what a fault waits on."""
STOP_TIMEOUT_S = 30.0
"""Longest a process asked to stop (or killed) may take to go."""


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes], how: signal.Signals = signal.SIGTERM) -> None:
    """Send ``how`` (SIGKILL: at once; SIGTERM: asked to stop) and return once the process is
    gone, SIGKILLed if it is still there after STOP_TIMEOUT_S."""
    if process.poll() is None:
        process.send_signal(how)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


# ---- the Temporal server ---------------------------------------------------------------------


class DevServer:
    """``temporal server start-dev`` persisted in a SQLite file, on a port of its own, so that
    it can be killed and started again with every case it held."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """host:port of its frontend."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server (not waiting for it)."""
        log = (self.directory / "temporal.log").open("ab")
        command = [
            packaged_binary("temporal"),
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--http-port",
            str(free_port()),
            "--metrics-port",
            str(free_port()),
            "--db-filename",
            str(self.directory / "temporal.sqlite"),
            "--log-level",
            "error",
            *DEV_SERVER_ARGS,
        ]
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    async def wait_ready(self) -> None:
        """Until a client can reach the default namespace (bounded)."""
        await eventually(self._answers, "the Temporal server to serve", READY_TIMEOUT_S)

    async def _answers(self) -> bool:
        try:
            client = await Client.connect(self.address, data_converter=DATA_CONVERTER)
            await client.workflow_service.get_system_info(GetSystemInfoRequest())
        except (RuntimeError, RPCError):
            return False
        return True

    async def restart(self, how: signal.Signals) -> None:
        """Stop it with ``how`` and start it again on the same file and port."""
        self.kill(how)
        self.start()
        await self.wait_ready()

    def kill(self, how: signal.Signals = signal.SIGKILL) -> None:
        """Stop it at once (SIGKILL) or ask it to (SIGTERM); returns once it is gone."""
        if self._process is None:
            return
        stop_process(self._process, how)
        self._process = None


# ---- a cut between the workers and the store -------------------------------------------------


class StoreLink:
    """A TCP relay in front of the store's PostgreSQL: ``cut()`` drops every connection through
    it and refuses new ones until ``mend()``, as a network outage of the store would."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def mend(self) -> None:
        """Accept connections again (the first call opens the relay)."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._pipes):
            writer.transport.abort()
        self._pipes.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        self._pipes.update((writer, up_writer))
        with contextlib.suppress(asyncio.CancelledError):  # the relay closing at the end
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        self._pipes.difference_update((writer, up_writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.transport.abort()


# ---- workers ---------------------------------------------------------------------------------


class Workers:
    """worker.py processes on the fault run's server, queue and store; ``env`` is their
    environment (development mode, the server, queue, store and audit key), which the API
    processes take too (tests/faults/apis.py)."""

    def __init__(self, directory: Path, server: DevServer, settings: Settings, store_url: str):
        self._directory = directory
        env = process_env(
            address=server.address,
            namespace="default",
            task_queue=settings.task_queue,
            data_dir=directory,
        )
        env.update(
            APPROVAL_DATABASE_URL=store_url,
            APPROVAL_ENVIRONMENT="development",
            APPROVAL_AUDIT_KEY=settings.audit_key_bytes.decode(),
        )
        self.env = env
        self.running: list[WorkerProcess] = []
        self._started = 0

    async def start(self, count: int = 1) -> None:
        """Start ``count`` more workers and wait until each has connected."""
        new = []
        for _ in range(count):
            self._started += 1
            log = self._directory / f"worker-{self._started}.log"
            new.append(WorkerProcess(self.env, log))
        self.running += new
        await asyncio.gather(*(w.wait_started(READY_TIMEOUT_S) for w in new))

    def kill_one(self) -> None:
        """SIGKILL the oldest running worker."""
        self.running.pop(0).kill_hard()

    async def replace_one(self) -> None:
        """SIGKILL the oldest running worker and start a new one."""
        self.kill_one()
        await self.start()

    def stop_all(self) -> None:
        """Stop every worker still running."""
        for worker in self.running:
            worker.stop()
        self.running.clear()


# ---- driving cases ---------------------------------------------------------------------------


class Engine(Protocol):
    """What the driver sends the window's and the departments' actions to: CaseService, or
    the HTTP API (tests/faults/apis.py ApiDriver). An outage raises EngineUnavailableError, a
    refusal a DomainError."""

    async def submit(self, application: Application, clerk: Actor) -> Submission:
        """Receive the application; the same idempotency key gives the same case (R23)."""
        ...

    async def act(
        self, case_no: str, command: CaseCommand, request_id: str | None = None
    ) -> object:
        """One action on the case; the same request id sent again has one effect (R23)."""
        ...


@dataclass
class Drive:
    """What the driver saw: refusals (there must be none) and outage answers (allowed)."""

    refusals: list[str] = field(default_factory=list)
    outages: int = 0
    answered: int = 0
    done: bool = False

    async def until_answered(self, send: Callable[[], Awaitable[T]], what: str) -> T | None:
        """Send until the engine answers; an outage is retried (the same request id or key
        gives one effect, R23), a refusal is noted and ends the attempt."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while True:
            try:
                answer = await send()
                self.answered += 1
                return answer
            except EngineUnavailableError:
                self.outages += 1
            except DomainError as refusal:
                self.refusals.append(f"{what}: {refusal}")
                return None
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: no answer in {SETTLE_TIMEOUT_S} s")
            await asyncio.sleep(RETRY_PAUSE_S)

    async def act(
        self, service: Engine, case_no: str, command: CaseCommand, request_id: str
    ) -> None:
        """One action on a case, sent until answered."""
        await self.until_answered(
            lambda: service.act(case_no, command, request_id), f"{case_no} {command.kind}"
        )


def application(matter_code: str, catalogue: Catalogue, n: int) -> Application:
    """A complete application for ``matter_code`` (every demanded material)."""
    matter = catalogue.matter(matter_code)
    return Application(
        matter_code=matter_code,
        applicant=Applicant(name=f"滨州示例企业{n:03d}有限公司", id_number="91371600MA3C00000L"),
        materials=tuple(
            SubmittedMaterial(code=m.code, document_ref=f"docs/{m.code}.pdf", sha256="a" * 64)
            for m in matter.demanded_materials
        ),
        idempotency_key=f"faults-{uuid.uuid4().hex}",
    )


async def open_cases(
    service: Engine, catalogue: Catalogue, drive: Drive, count: int
) -> dict[str, str]:
    """``count`` accepted cases, alternating the matters: case number → matter code."""
    cases: dict[str, str] = {}
    for n in range(count):
        matter_code = MATTERS[n % len(MATTERS)]
        app = application(matter_code, catalogue, n)
        submitted = await drive.until_answered(partial(service.submit, app, CLERK), "submit")
        assert submitted is not None
        await drive.act(
            service, submitted.case_no, Accept(actor=CLERK), f"accept-{app.idempotency_key}"
        )
        cases[submitted.case_no] = matter_code
    return cases


def decisions(cases: dict[str, str], catalogue: Catalogue) -> list[list[tuple[str, Decide]]]:
    """Every department's approval of every case, in waves: first the departments that
    depend on none, then those whose declared dependencies (R7) the first wave satisfies."""
    waves: list[list[tuple[str, Decide]]] = [[], []]
    for case_no, matter_code in cases.items():
        for review in catalogue.matter(matter_code).reviews:
            department = review.department
            reviewer = Actor(role=Role.REVIEWER, id=f"rv-{department}", department=department)
            decide = Decide(actor=reviewer, department=department, outcome=Outcome.APPROVE)
            waves[1 if review.depends_on else 0].append((case_no, decide))
    return waves


async def decide_all(
    service: Engine,
    drive: Drive,
    waves: Sequence[Sequence[tuple[str, Decide]]],
    in_flight: int = 8,
) -> None:
    """Send every decision, wave after wave, ``in_flight`` at a time, each until answered
    (one request id each)."""
    gate = asyncio.Semaphore(in_flight)

    async def one(case_no: str, decide: Decide) -> None:
        async with gate:
            await drive.act(service, case_no, decide, f"{case_no}-{decide.department}")

    for wave in waves:
        await asyncio.gather(*(one(c, d) for c, d in wave))


async def deliver_all(service: Engine, drive: Drive, cases: dict[str, str]) -> None:
    """Hand over every decision (送达), then each applicant rates it 满意 (R20): the cases
    complete, and their workflows end once rated."""
    for case_no in cases:
        await drive.act(service, case_no, Deliver(actor=CLERK), f"{case_no}-deliver")
    for case_no in cases:
        rating = Rate(
            actor=Actor(role=Role.APPLICANT, id=f"applicant:{case_no}"), level=RatingLevel.SATISFIED
        )
        await drive.act(service, case_no, rating, f"{case_no}-rate")


Fault = Callable[[], Awaitable[None]]


async def strike_during(
    drive: Drive, sending: Awaitable[None], total: int, faults: Sequence[tuple[Fraction, Fault]]
) -> None:
    """Await ``sending``, which has the driver answer ``total`` more actions, while the
    faults strike one after another: each ``(share, fault)`` once that share of them has been
    answered (so each lands mid-way, with Updates, store writes and department sends in
    flight)."""
    before = drive.answered

    async def strike() -> None:
        for share, fault in faults:
            count = before + int(total * share)  # exact: a Fraction
            await eventually(partial(_answered, drive, count), f"{count} answers", FAULT_TIMEOUT_S)
            await fault()

    await asyncio.gather(sending, strike())


async def _answered(drive: Drive, count: int) -> bool:
    return drive.answered >= count


@dataclass
class Processes:
    """A run's Temporal dev server, its worker processes, and a client of the server."""

    server: DevServer
    workers: Workers
    client: Client


@contextlib.asynccontextmanager
async def engine_processes(
    directory: Path, settings: Settings, store_url: str, *, workers: int, show_logs: bool = True
) -> AsyncIterator[Processes]:
    """A dev server and ``workers`` worker processes on the store ``store_url``, all logging
    to ``directory``; stopped when the block ends, however it ends, and then every log of
    ``directory`` printed (stopped_on_exit)."""
    server = DevServer(directory)
    running = Workers(directory, server, settings, store_url)
    async with stopped_on_exit(server, running, show_logs):
        server.start()
        await server.wait_ready()
        await running.start(workers)
        client = await Client.connect(server.address, data_converter=DATA_CONVERTER)
        yield Processes(server, running, client)


@dataclass
class FaultRun:
    """A fault run's server, workers, engine and driver, and its cases in review."""

    server: DevServer
    workers: Workers
    client: Client
    service: CaseService
    drive: Drive
    cases: dict[str, str]


@contextlib.asynccontextmanager
async def fault_run(
    directory: Path,
    settings: Settings,
    catalogue: Catalogue,
    store_urls: tuple[str, str],
    *,
    workers: int,
    cases: int,
    show_logs: bool = True,
) -> AsyncIterator[FaultRun]:
    """A dev server and ``workers`` worker processes, an engine on them whose answers are
    bounded by ANSWER_WITHIN_S, and ``cases`` accepted cases. ``store_urls``: the store as
    the engine reaches it, and as the workers do."""
    async with engine_processes(
        directory, settings, store_urls[1], workers=workers, show_logs=show_logs
    ) as running:
        service = CaseService(
            running.client,
            settings,
            catalogue,
            open_store(store_urls[0]),
            answer_within_s=ANSWER_WITHIN_S,
        )
        drive = Drive()
        opened = await open_cases(service, catalogue, drive, cases)
        yield FaultRun(running.server, running.workers, running.client, service, drive, opened)


async def run_with_faults(
    run: FaultRun, waves: Sequence[Sequence[tuple[str, Decide]]], faults: Sequence[Fault]
) -> None:
    """Send every decision while the faults strike one after another, evenly spread: the
    n-th of k once n/(k+1) of the decisions have been answered (strike_during)."""
    total = sum(len(wave) for wave in waves)
    spread = [(Fraction(n, len(faults) + 1), fault) for n, fault in enumerate(faults, start=1)]
    await strike_during(run.drive, decide_all(run.service, run.drive, waves), total, spread)


# ---- auditing every case ---------------------------------------------------------------------


async def no_activity_pending(client: Client, case_nos: Sequence[str]) -> None:
    """Until no case has an activity pending (bounded by SETTLE_TIMEOUT_S): every activity a
    killed worker held has timed out and run again on another. Until then its case's later
    steps wait behind it (a department send: up to its 60 s start-to-close timeout), longer
    than an API answers within (approval.service.ANSWER_WITHIN_S): an action on the case is
    answered as an outage meanwhile."""
    waiting = set(case_nos)

    async def idle() -> bool:
        asked = sorted(waiting)
        found = await asyncio.gather(*(client.get_workflow_handle(c).describe() for c in asked))
        for case_no, description in zip(asked, found, strict=True):
            if not description.raw_description.pending_activities:
                waiting.discard(case_no)  # no action is sent meanwhile: it stays idle
        return not waiting

    await eventually(idle, "no activity pending", SETTLE_TIMEOUT_S)


async def completed_histories(
    client: Client, case_nos: Sequence[str]
) -> dict[str, WorkflowHistory]:
    """Each case's history once its workflow has completed (bounded wait)."""

    async def complete(case_no: str) -> WorkflowHistory:
        handle = client.get_workflow_handle(case_no)
        try:
            await asyncio.wait_for(handle.result(), SETTLE_TIMEOUT_S)
        except TimeoutError:
            raise AssertionError(await _stuck(client, case_no)) from None
        description = await handle.describe()
        assert description.status is WorkflowExecutionStatus.COMPLETED, (
            case_no,
            description.status,
        )
        return await handle.fetch_history()

    found = await asyncio.gather(*(complete(c) for c in case_nos))
    return dict(zip(case_nos, found, strict=True))


async def _stuck(client: Client, case_no: str) -> str:
    """Why a case did not complete: its pending activities and its last history events."""
    handle = client.get_workflow_handle(case_no)
    description = await handle.describe()
    pending = [
        f"{p.activity_type.name} attempt {p.attempt}: {p.last_failure.message}"
        for p in description.raw_description.pending_activities
    ]
    history = await handle.fetch_history()
    last = [EventType.Name(e.event_type) for e in history.events[-8:]]
    return f"{case_no} did not complete in {SETTLE_TIMEOUT_S} s: {pending}; last events {last}"


def audit(
    histories: dict[str, WorkflowHistory],
    sessions: sessionmaker[Session],
    settings: Settings,
    cases: dict[str, str],
    catalogue: Catalogue,
) -> list[str]:
    """Everything wrong with the record of the cases: crosscheck, chain, rebuild, and the
    notices and department messages, each counted once."""
    key = settings.audit_key_bytes
    problems: list[str] = []
    with sessions() as session:
        for case_no, history in histories.items():
            rows = events_of(session, case_no)
            problems += [f"{case_no} crosscheck: {d}" for d in crosscheck(history, rows)]
            findings = verify_case(key, case_no, rows, Anchor.of(history))
            problems += [f"{case_no} verify: {f}" for f in findings]
            problems += _counted_once(session, case_no, cases[case_no], catalogue)
    rebuilt = rebuild(histories.values(), key)
    problems += [f"rebuild: {d}" for d in differences(sessions, rebuilt, histories.values())]
    return problems


def _counted_once(
    session: Session, case_no: str, matter_code: str, catalogue: Catalogue
) -> list[str]:
    """The case's notices (voucher, decision) and department messages, each exactly once."""
    problems = []
    kinds = Counter(n.kind for n in notices_of(session, case_no))
    if any(count != 1 for count in kinds.values()):
        problems.append(f"{case_no} notices: {dict(kinds)}")
    departments = {r.department for r in catalogue.matter(matter_code).reviews}
    messages = Counter(
        (m.department, m.kind) for m in department_messages_of(session, case_no=case_no)
    )
    expected = {(d, kind): 1 for d in departments for kind in ("task", "decision")}
    if dict(messages) != expected:
        problems.append(f"{case_no} department messages: {dict(messages)} ≠ {expected}")
    return problems


@contextlib.asynccontextmanager
async def stopped_on_exit(
    server: DevServer, workers: Workers, show_logs: bool = True
) -> AsyncIterator[None]:
    """Workers and server stopped when the block ends, however it ends; the worker logs and
    the server's log tail printed (pytest shows them when a test fails)."""
    try:
        yield
    finally:
        workers.stop_all()
        server.kill(signal.SIGTERM)
        for log in sorted(server.directory.glob("*.log")) if show_logs else []:
            text = log.read_text(encoding="utf-8", errors="replace")
            print(f"---- {log.name} ----\n{text[-4000:]}")


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout_s: float) -> None:
    """Until ``check()`` is true; AssertionError naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s} s for {what}")
        await asyncio.sleep(0.1)
