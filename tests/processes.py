"""Helpers for the tests of the programs: their commands run in this process (typer's CliRunner:
starter.py's, auditor.py's, worker.py's start), with the settings of the environment given and
read anew; an ASGI app (the API, the stub department service) served for real by uvicorn in a
thread; and, for the few end-to-end tests (tests/e2e/, tests/faults/), the real programs as
child processes, every wait for one bounded far beyond what a busy machine needs."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
import typer
import uvicorn
from fastapi import FastAPI
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from typer.testing import CliRunner

from approval.api.app import create_app
from approval.cli import audit_histories, audit_integrity, audit_story
from approval.cli.app import app as starter_app
from approval.cli.auditor import app as auditor_typer
from approval.config import PROJECT_ROOT, Settings, get_settings
from approval.store.engine import open_store
from approval.store.users import create_users_with_tokens

STARTER = PROJECT_ROOT / "starter.py"
AUDITOR = PROJECT_ROOT / "auditor.py"
WORKER = PROJECT_ROOT / "worker.py"
PROCESS_TIMEOUT_S = 300.0
"""Longest a program run as a process may take to finish (or worker.py to start): far beyond
what the slowest machine needs (a start takes seconds, about 16 s on a busy one), so that no
test depends on how fast a process starts, and still a bound that ends a hung one."""
STOP_TIMEOUT_S = 10.0
SERVER_START_TIMEOUT_S = 60.0
"""Longest an app served in a thread may take to start (its lifespan may connect to Temporal
and migrate a store on a busy machine)."""


def process_env(
    *,
    address: str,
    namespace: str,
    task_queue: str,
    data_dir: Path,
    stub_behaviours: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a worker or CLI process: development mode, this test's server,
    namespace, queue and store, and no calendar override. Every APPROVAL_ variable of the
    caller's environment is dropped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPROVAL_")}
    env.update(
        APPROVAL_ENVIRONMENT="development",
        APPROVAL_TEMPORAL_ADDRESS=address,
        APPROVAL_TEMPORAL_NAMESPACE=namespace,
        APPROVAL_TASK_QUEUE=task_queue,
        APPROVAL_DATA_DIR=str(data_dir),
        APPROVAL_HOLIDAY_OVERRIDE_PATH=str(data_dir / "none.yaml"),
        PYTHONUNBUFFERED="1",
    )
    if stub_behaviours is not None:
        env["APPROVAL_STUB_BEHAVIOURS"] = json.dumps(stub_behaviours)
    return env


async def new_namespace(client: Client, prefix: str) -> str:
    """A namespace of the caller's own on ``client``'s server, named ``prefix-<random>``:
    every test's store numbers its cases from 000001, and a case number is its workflow's id,
    so in a shared namespace a second test's case would meet the first test's workflow."""
    namespace = f"{prefix}-{uuid.uuid4().hex[:12]}"
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=namespace, workflow_execution_retention_period=Duration(seconds=86_400)
        )
    )
    return namespace


# ---- the worker ------------------------------------------------------------------------------


def spawn(arguments: list[str], env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """``python ARGUMENTS`` of the project as a child process with ``env``, its stdout and
    stderr to ``log_path``."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, *arguments],
            env=dict(env),
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def run_python(
    script: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``script`` run to its end (bounded) by a fresh interpreter of the project, with
    ``env`` (default: this process's environment)."""
    return subprocess.run(
        [sys.executable, "-c", script],
        env=None if env is None else dict(env),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT_S,
        check=False,
    )


class WorkerProcess:
    """worker.py as a child process; its stdout and stderr go to ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._process = spawn([str(WORKER)], env, log_path)

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self._process.pid

    def running(self) -> bool:
        """True while the process has not exited."""
        return self._process.poll() is None

    def log(self) -> str:
        """Everything the worker printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_started(self, timeout_s: float = PROCESS_TIMEOUT_S) -> None:
        """Wait (bounded) until the worker has logged that it connected and is starting."""
        deadline = time.monotonic() + timeout_s
        while "worker.started" not in self.log():
            if not self.running():
                raise AssertionError(f"worker exited early:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"worker did not start in {timeout_s} s:\n{self.log()}")
            await asyncio.sleep(0.05)

    def kill_hard(self) -> None:
        """SIGKILL: no cleanup, no graceful shutdown; returns once the process is gone."""
        os.kill(self.pid, signal.SIGKILL)
        self._process.wait(timeout=STOP_TIMEOUT_S)

    def terminated(self) -> int:
        """SIGTERM, as an orchestrator stops it; its exit status once it has exited (bounded:
        AssertionError if it does not exit within PROCESS_TIMEOUT_S, after which it is
        killed)."""
        self._process.terminate()
        try:
            return self._process.wait(timeout=PROCESS_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            raise AssertionError(f"worker did not stop on SIGTERM:\n{self.log()}") from None

    def stop(self) -> None:
        """Terminate the process if it still runs (SIGTERM, then SIGKILL)."""
        if not self.running():
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=STOP_TIMEOUT_S)


class Workers:
    """Starts workers for one test; stops them all and prints their logs at the end (pytest
    shows that output only when the test fails)."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self._env = env
        self._log_dir = log_dir
        self.started: list[WorkerProcess] = []

    def start(self) -> WorkerProcess:
        """A new worker process, logging to ``worker-N.log`` in the test's directory."""
        worker = WorkerProcess(self._env, self._log_dir / f"worker-{len(self.started) + 1}.log")
        self.started.append(worker)
        return worker

    def stop_all(self) -> None:
        """Stop every worker and print its log."""
        for worker in self.started:
            worker.stop()
        for worker in self.started:
            print(f"---- {worker.log_path.name} (pid {worker.pid}) ----")
            print(worker.log())


@contextmanager
def workers(env: dict[str, str], log_dir: Path) -> Iterator[Workers]:
    """Workers that are always stopped when the block ends, however it ends."""
    started = Workers(env, log_dir)
    try:
        yield started
    finally:
        started.stop_all()


# ---- the command line ------------------------------------------------------------------------


@dataclass(frozen=True)
class CliResult:
    """One finished run of a program's command (starter.py's unless ``program`` says)."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    program: str = "starter.py"

    def message_lines(self) -> list[str]:
        """The stderr lines the program wrote."""
        return [line for line in self.stderr.splitlines() if line.strip()]

    def exited(self, code: int) -> bool:
        """Ended with exit status ``code``."""
        return self.returncode == code

    def json(self) -> Any:
        """The JSON document that is all of stdout."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as error:
            raise AssertionError(f"stdout is not one JSON document ({error}):\n{self}") from None

    def __str__(self) -> str:
        return (
            f"$ {self.program} {' '.join(self.args)}\n-> exit {self.returncode}\n"
            f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


def invoke(
    app: typer.Typer,
    program: str,
    args: Iterable[str],
    env: Mapping[str, str | None] | None = None,
) -> CliResult:
    """``program``'s command ``app ARGS`` run in this process (typer's CliRunner), on a thread
    of its own (a command may run an event loop of its own), with ``env`` set for the run (None
    unsets a variable), the settings read anew before and after, and what structlog logs meanwhile
    kept out of the command's output (logs_kept_apart). An unexpected exception's traceback is
    added to stderr."""
    arguments = tuple(args)

    def run() -> CliResult:
        get_settings.cache_clear()
        try:
            with logs_kept_apart():
                result = CliRunner().invoke(app, list(arguments), env=dict(env or {}))
        finally:
            get_settings.cache_clear()
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            trace = traceback.format_exception(result.exception)
            stderr += "".join(["Traceback (in process):\n", *trace])
        return CliResult(
            args=arguments,
            returncode=result.exit_code,
            stdout=result.stdout,
            stderr=stderr,
            program=program,
        )

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=program) as thread:
        return thread.submit(run).result()


def invoke_cli(*args: str, env: Mapping[str, str | None] | None = None) -> CliResult:
    """starter.py's commands run in this process (invoke), ``env`` set for the run (None unsets
    a variable): what the program does, without the start of a process."""
    return invoke(starter_app, "starter.py", args, env)


def as_process(env: Mapping[str, str]) -> dict[str, str | None]:
    """What to set for a run in this process so that it reads the settings a process started
    with the environment ``env`` reads: ``env``'s variables, and every other APPROVAL_ variable
    of this process unset."""
    dropped = {name: None for name in os.environ if name.startswith("APPROVAL_")}
    return {**dropped, **env}


@functools.cache
def auditor_app() -> typer.Typer:
    """auditor.py's app with its commands, added once as its main() adds them (main() itself
    also sets up logging for the process and ends the process)."""
    for module in (audit_histories, audit_story, audit_integrity):
        module.register(auditor_typer)
    return auditor_typer


def invoke_auditor(env: Mapping[str, str], *args: str) -> CliResult:
    """``auditor.py ARGS`` run in this process (invoke) with the settings a process started
    with the environment ``env`` would read (as_process)."""
    return invoke(auditor_app(), "auditor.py", args, as_process(env))


_worker_program = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@_worker_program.command()
def _run_worker() -> None:
    """worker.py's code run as the program runs it (``__name__ == "__main__"``)."""
    runpy.run_path(str(WORKER), run_name="__main__")


def invoke_worker(env: Mapping[str, str]) -> CliResult:
    """``worker.py`` run in this process (invoke) with the settings a process started with
    the environment ``env`` would read (as_process): for the starts it refuses, which end
    before it connects to anything."""
    return invoke(_worker_program, "worker.py", (), as_process(env))


async def run_cli(
    env: dict[str, str], *args: str, timeout_s: float = PROCESS_TIMEOUT_S
) -> CliResult:
    """Run ``starter.py ARGS`` as a process to completion (killed after ``timeout_s``)."""
    return await run_script(STARTER, env, *args, timeout_s=timeout_s)


async def run_script(
    script: Path, env: dict[str, str], *args: str, timeout_s: float = PROCESS_TIMEOUT_S
) -> CliResult:
    """Run the project's ``script ARGS`` as a process to completion (killed after
    ``timeout_s``)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        *args,
        env=env,
        cwd=PROJECT_ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        raise AssertionError(
            f"{script.name} {' '.join(args)} did not finish in {timeout_s} s"
        ) from None
    finally:
        if process.returncode is None:  # timed out, or the test was cancelled
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return CliResult(
        args=args,
        returncode=process.returncode,
        stdout=out.decode("utf-8", errors="replace"),
        stderr=err.decode("utf-8", errors="replace"),
        program=script.name,
    )


# ---- an app served for real ----------------------------------------------------------------


@contextmanager
def logs_kept_apart() -> Iterator[None]:
    """While the block runs, structlog prints to the stderr of its start: what an app served
    in a thread logs does not land in the output of a command run in this process meanwhile
    (the CLI runner swaps sys.stdout and sys.stderr)."""
    previous = structlog.get_config()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    try:
        yield
    finally:
        structlog.configure(**previous)


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn in a thread, on a free port of 127.0.0.1, once it has started
    (its lifespan included); yields its base URL. Its logs are kept apart (logs_kept_apart)."""
    with logs_kept_apart():
        yield from _served(app)


def _served(app: FastAPI) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, f"uvicorn did not start in {SERVER_START_TIMEOUT_S} s"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listener.close()


def settings_of(env: Mapping[str, str]) -> Settings:
    """The settings that a process with the environment ``env`` (process_env) reads."""
    return Settings(
        temporal_address=env["APPROVAL_TEMPORAL_ADDRESS"],
        temporal_namespace=env["APPROVAL_TEMPORAL_NAMESPACE"],
        task_queue=env["APPROVAL_TASK_QUEUE"],
        data_dir=Path(env["APPROVAL_DATA_DIR"]),
        holiday_override_path=Path(env["APPROVAL_HOLIDAY_OVERRIDE_PATH"]),
    )


CLERK_ACCOUNT = ("clerk-1", "clerk", None)


@contextmanager
def serving_api(
    env: Mapping[str, str], accounts: Iterable[tuple[str, str, str | None]] = (CLERK_ACCOUNT,)
) -> Iterator[tuple[str, dict[str, str]]]:
    """The HTTP API served for real (uvicorn, in a thread) for the processes of ``env``: its
    start-up connects to their Temporal namespace and opens their store, as `make run`'s
    does. ``accounts`` (name, role, department) are created in that store first. Yields the
    API's URL and each account's token; starter.py acts through them with
    ``env | {"APPROVAL_API_URL": url, "APPROVAL_TOKEN": tokens[name]}``."""
    settings = settings_of(env)
    sessions = open_store(settings.store_url)
    try:
        with sessions.begin() as session:
            tokens = create_users_with_tokens(session, accounts, datetime.now(UTC))
    finally:
        sessions.kw["bind"].dispose()
    with serving(create_app(settings=settings)) as url:
        yield url, tokens
