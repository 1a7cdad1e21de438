"""The documented start of the API, ``uvicorn --factory approval.api.app:create_app``, run for
real: its settings are checked as every engine process checks them (approval.runtime), and a
start it refuses — a malformed setting, a Temporal nobody answers — is one line naming the
setting, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from approval.config import PROJECT_ROOT
from tests.processes import PROCESS_TIMEOUT_S, process_env

FACTORY = "approval.api.app:create_app"
START_TIMEOUT_S = PROCESS_TIMEOUT_S
"""A bound on a start that should fail at once, so that a wrong one cannot hang the suite (and
no busy machine reaches)."""
UVICORN_STARTUP_FAILED = 3
"""uvicorn's exit status when the app's lifespan refuses to start."""

pytestmark = pytest.mark.slow


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def uvicorn_factory(data_dir: Path, temporal_address: str) -> subprocess.CompletedProcess[str]:
    """``uvicorn --factory approval.api.app:create_app`` run to its end, in development mode
    with its store in ``data_dir`` and Temporal at ``temporal_address``."""
    env = process_env(
        address=temporal_address, namespace="default", task_queue="q", data_dir=data_dir
    )
    command = [sys.executable, "-m", "uvicorn", "--factory", FACTORY, "--port", "0"]
    return subprocess.run(
        command,
        env=env,
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )


def test_the_factory_refuses_a_malformed_setting_in_one_line(tmp_path: Path) -> None:
    """create_app without settings reads them as approval.runtime:api_app does: a malformed
    APPROVAL_TEMPORAL_ADDRESS stops uvicorn's factory before it serves, with exit status 2
    and one line naming the setting, nothing else on stderr."""
    started = uvicorn_factory(tmp_path, "temporal.example")
    assert started.returncode == 2, started
    lines = started.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in started.stderr, started.stderr
    assert lines[0].startswith("错误 error: APPROVAL_TEMPORAL_ADDRESS: "), lines


def test_a_temporal_nobody_answers_stops_the_start_in_one_line_naming_its_address(
    tmp_path: Path,
) -> None:
    """Well-formed settings, a reachable store, and nothing listening at the Temporal address:
    the lifespan refuses to start, and uvicorn exits with its start-up failure status, having
    printed one line naming APPROVAL_TEMPORAL_ADDRESS and the address — no traceback."""
    address = f"127.0.0.1:{closed_port()}"
    started = uvicorn_factory(tmp_path, address)
    assert started.returncode == UVICORN_STARTUP_FAILED, started
    assert "Traceback" not in started.stderr, started.stderr
    named = [line for line in started.stderr.splitlines() if "APPROVAL_TEMPORAL_ADDRESS" in line]
    assert len(named) == 1, started.stderr
    assert "错误 error: APPROVAL_TEMPORAL_ADDRESS: API 未启动：无法连接 Temporal" in named[0]
    assert address in named[0]
