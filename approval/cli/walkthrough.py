"""The README's walk-through as a program (``make demo``): the fenced ``bash`` blocks that follow
a ``<!-- walkthrough -->`` line, run in order by one bash as a reader types them in a second
terminal — the same text, its aliases and variables carried from block to block, each command
traced with its README line, the first failure stopping the run with that line named.

    python -m approval.cli.walkthrough            # against the running stack, else one of its own
    python -m approval.cli.walkthrough --print    # the script it runs

When nothing answers at APPROVAL_API_URL it starts ``starter.py up`` (as ``make run`` does; its
output in ``data_dir/up.log``), waits until it is ready, runs the walk-through and stops it.
Its exit status is the walk-through's: 0 when every command succeeded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from approval.config import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
STARTER = PROJECT_ROOT / "starter.py"
MARKER = "<!-- walkthrough -->"
"""The line just before each fenced block of the walk-through."""
FENCE = "```"
READY_TIMEOUT_S = 300.0
"""Longest ``up`` may take to be ready: far beyond what a busy machine needs (about 10 s)."""
STOP_TIMEOUT_S = 60.0
PASSED = "演练完成 walkthrough passed"
"""The last line of a walk-through in which every command succeeded."""
PREAMBLE = (
    "set -euo pipefail; shopt -s expand_aliases; PS4='+ README.md:${LINENO}: '; "
    "trap 'echo \"演练失败 walkthrough failed: README.md:${LINENO} (exit $?)\" >&2' ERR; set -x"
)
"""Line 1 of the script: stop at the first failure and name its README line; trace every
command with its line (the script's lines are the README's)."""


@dataclass(frozen=True)
class Block:
    """One fenced block of the walk-through."""

    first_line: int
    """The README line number of the block's first line (below its opening fence)."""
    lines: tuple[str, ...]


def walkthrough_blocks(text: str) -> list[Block]:
    """The walk-through's blocks of ``text``, in order; a marker not followed by a ```bash
    block, or a block never closed, is a ValueError naming its line."""
    lines = text.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        if index + 1 >= len(lines) or lines[index + 1].strip() != f"{FENCE}bash":
            raise ValueError(f"README line {index + 1}: {MARKER} must precede a {FENCE}bash block")
        body = index + 2
        end = next((i for i in range(body, len(lines)) if lines[i].strip() == FENCE), None)
        if end is None:
            raise ValueError(f"README line {index + 2}: the block is never closed")
        blocks.append(Block(first_line=body + 1, lines=tuple(lines[body:end])))
    return blocks


def walkthrough_script(text: str) -> str:
    """The bash script of ``text``'s walk-through: its line N is README line N when that line is
    in a block of the walk-through, else empty; line 1 (the README's title) sets bash up."""
    blocks = walkthrough_blocks(text)
    if not blocks:
        raise ValueError(f"the README has no walk-through: no {MARKER} block")
    script = [""] * len(text.splitlines())
    script[0] = PREAMBLE
    for block in blocks:
        start = block.first_line - 1
        script[start : start + len(block.lines)] = block.lines
    return "\n".join(script) + "\n"


def run_walkthrough(text: str, env: Mapping[str, str] | None = None) -> int:
    """Run ``text``'s walk-through in the project's directory with ``env`` (default: this
    process's); the exit status of bash: 0 when every command succeeded."""
    bash = shutil.which("bash") or "/bin/bash"
    with tempfile.TemporaryDirectory(prefix="walkthrough-") as directory:
        path = Path(directory) / "walkthrough.sh"
        path.write_text(walkthrough_script(text), encoding="utf-8")
        completed = subprocess.run(
            [bash, str(path)],
            cwd=PROJECT_ROOT,
            env=dict(os.environ if env is None else env),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    return completed.returncode


def api_answers(api_url: str) -> bool:
    """Something answers ``GET /healthz`` at ``api_url`` with 200."""
    try:
        with urllib.request.urlopen(f"{api_url}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def wait_ready(process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    """Block until ``up`` has printed its ready line into ``log``; RuntimeError with its output
    when it exits first or takes longer than ``timeout_s``."""
    from approval.cli.devstack import READY

    deadline = time.monotonic() + timeout_s
    while not any(line.startswith(READY) for line in _read(log).splitlines()):
        if process.poll() is not None:
            problem = f"退出 exited ({process.returncode})"
            raise RuntimeError(f"starter.py up {problem}:\n{_read(log)}")
        if time.monotonic() > deadline:
            problem = f"未就绪 not ready in {timeout_s:.0f} s"
            raise RuntimeError(f"starter.py up {problem}:\n{_read(log)}")
        time.sleep(0.1)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (``up`` stops what it started), then SIGKILL if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def stack(api_url: str, data_dir: Path) -> Iterator[None]:
    """The stack the walk-through acts on while the block runs: the one answering at
    ``api_url``, else ``starter.py up`` started now (its output in ``data_dir/up.log``, shown
    once it is ready) and stopped afterwards."""
    if api_answers(api_url):
        print(f"使用正在运行的服务 using the running stack at {api_url}", flush=True)
        yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "up.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(STARTER), "up"],
            cwd=PROJECT_ROOT,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(process, log, READY_TIMEOUT_S)
        print(_read(log), end="", flush=True)
        yield
    finally:
        stop(process)


def main(argv: list[str] | None = None) -> None:
    """Run the README's walk-through (or print its script) and exit with its status."""
    parser = argparse.ArgumentParser(description="README 演练 the README's walk-through")
    parser.add_argument("--readme", type=Path, default=README, help="default: README.md")
    parser.add_argument("--print", action="store_true", help="print the script, run nothing")
    options = parser.parse_args(argv)
    text = options.readme.read_text(encoding="utf-8")
    if options.print:
        print(walkthrough_script(text), end="")
        return
    from approval.cli.common import guarded
    from approval.config import get_settings

    settings = guarded(get_settings)
    with stack(settings.api_url, settings.data_dir):
        status = run_walkthrough(text)
    print(PASSED if status == 0 else f"演练失败 walkthrough failed (exit {status})", flush=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
