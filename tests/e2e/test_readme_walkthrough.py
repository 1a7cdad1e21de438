"""The README's walk-through runs as written (issue 13 item 8): ``make demo``'s program
(``python -m approval.cli.walkthrough``) starts the stack as ``make run`` does (``starter.py
up``: the Temporal dev server, the department systems, the worker and the API as processes, on
ports of the test's own and a data directory of its own), runs every ``<!-- walkthrough -->``
block of README.md in one bash, exactly as a reader types them, and stops the stack.

Every wait is bounded and waits for a real process, never for a time to pass: the program
waits for ``up``'s ready line, bash for each command. The processes share one bytecode cache of
the test's own (PYTHONPYCACHEPREFIX), as on a machine that keeps bytecode: without it every one
of the walk-through's seventy processes compiles its imports anew, two to three times slower.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from approval.cli.devstack import READY, free_port
from approval.cli.walkthrough import PASSED, README, walkthrough_blocks
from approval.config import PROJECT_ROOT
from approval.runtime import open_store
from approval.store.audit_log import events_of
from approval.store.queries import case_row

pytestmark = [pytest.mark.slow, pytest.mark.devserver]

WALKTHROUGH_TIMEOUT_S = 900.0
"""Bound of the whole walk-through, the stack's start and stop included: about a minute on two
idle cores, three on two busy ones without bytecode; far beyond, so that no run depends on how
fast a process starts, and still a bound that ends a hung one."""
TRACE = re.compile(r"^\++ README\.md:(\d+): (.*)$", re.MULTILINE)
"""A command bash traced, with its README line (the last of a command on several lines; a
function's, where it is called)."""
ASSIGNED_CASE = re.compile(r"^\+ README\.md:\d+: ([A-Z]+)=(\d{6}-\d{8}-\d{6})$", re.MULTILINE)
"""A case number captured into a variable of the walk-through (``CASE=$(clerk submit …)``)."""

EXPECTED = {
    "CASE": ("completed", {"OneTimeNoticeIssued", "SupplementReceived", "CertificateIssued",
                           "ResultDelivered", "CaseRated", "FollowUpAnswered"}),
    "FEE": ("completed", {"FeeCollected", "CertificateIssued", "ResultDelivered"}),
    "SUPP": ("awaiting_delivery", {"ConsolidatedNoticeIssued", "ClocksStopped", "ClocksResumed",
                                   "SupplementForwarded", "CaseApproved"}),
    "REJ": ("completed", {"ReviewRejected", "CaseRejected", "ResultDelivered"}),
    "WD": ("withdrawn", {"CaseWithdrawn", "ReviewTaskCancelled"}),
    "EXT": ("in_review", {"CaseExtended", "ComplaintLodged", "FollowUpOpened"}),
    "SPEC": ("in_review", {"ExcludedPeriodOpened", "ExcludedPeriodClosed"}),
    "MEET": ("awaiting_delivery", {"JointMeetingRecorded", "ReviewDeemedApprovedInAbsence",
                                   "CaseApproved"}),
    "NOW": ("completed", {"ResultDelivered"}),
}  # fmt: skip
"""Each path's case, by the README's variable: its stage once the walk-through has run, and
events its record must hold."""


def _environment(tmp_path: Path) -> tuple[dict[str, str], str]:
    """The environment of ``make demo`` for this test, and the API's URL: development mode, a
    data directory and ports of the test's own (every other APPROVAL_ setting of this process
    dropped, but the tests' workflow sandbox kept), and the test's bytecode cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPROVAL_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    api_url = f"http://127.0.0.1:{free_port(0)}"
    env.update(
        APPROVAL_ENVIRONMENT="development",
        APPROVAL_DATA_DIR=str(tmp_path / "data"),
        APPROVAL_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port(0)}",
        APPROVAL_API_URL=api_url,
        APPROVAL_PUBLIC_BASE_URL=api_url,
        APPROVAL_WORKFLOW_SANDBOX=os.environ.get("APPROVAL_WORKFLOW_SANDBOX", "true"),
        PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"),
    )
    return env, api_url


def _commands() -> list[range]:
    """The README lines of each command of the walk-through (a line, or a line and those that
    continue it), comments left out."""
    commands: list[range] = []
    for block in walkthrough_blocks(README.read_text(encoding="utf-8")):
        continued = False
        for offset, line in enumerate(block.lines):
            text = line.strip()
            number = block.first_line + offset
            if continued:
                commands[-1] = range(commands[-1].start, number + 1)
            elif text and not text.startswith("#"):
                commands.append(range(number, number + 1))
            continued = text.endswith("\\")
    return commands


def _run_demo(env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """``make demo``'s program run to its end (bounded), its output and how long it took."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "approval.cli.walkthrough"],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=WALKTHROUGH_TIMEOUT_S,
        check=False,
    )
    return result, time.monotonic() - started


def test_the_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    """The rules as the README's paths show them — R3 (one-time notice), R7 (parallel tasks and
    a dependency), R15 (the fee), R11 and R12 (a supplement during review, an excluded period),
    R14 (rejection), R18 (withdrawal), R13 (extension), R10 (absence consent), R20 (a rating and
    a complaint), R21 (the auditor's checks), R22 (each reviewer for its own department), R23
    (the keys): every command of every walk-through block succeeds
    (exit status 0, bash stopping at the first that does not), on a stack ``make demo`` starts
    and stops; every command line of the blocks ran; ``up``'s banner shows every address (the
    console, the progress page, the API's documentation, Temporal's UI, the metrics, the
    department systems, the store, the logs) and a first command that works as printed; and
    each path's case ends as the README says (completed with a fee, withdrawn, extended, …),
    its record holding the events of its path and no refused attempt."""
    env, api_url = _environment(tmp_path)
    result, took = _run_demo(env)
    output = result.stdout
    print(f"walk-through: {took:.0f} s\n{output}")
    assert result.returncode == 0, output[-6000:]
    assert output.rstrip().endswith(PASSED), output[-2000:]

    traced = {int(line) for line, _ in TRACE.findall(output)}
    untraced = [lines for lines in _commands() if not traced.intersection(lines)]
    assert not untraced, f"README lines of commands that never ran: {untraced}"

    banner = output[: output.index(READY)]
    data_dir = env["APPROVAL_DATA_DIR"]
    for address in (
        f"{api_url}/web/login",
        f"{api_url}/web/progress",
        f"{api_url}/docs",
        f"{api_url}/metrics",
        env["APPROVAL_TEMPORAL_ADDRESS"],
        "/metrics (worker)",
        "departments",
        f"{data_dir}/approval.sqlite3",
        f"{data_dir}/worker.log",
    ):
        assert address in banner, f"{address} not in the banner:\n{banner}"  # fmt: skip
    _assert_first_command_works(output, env)

    cases = dict(ASSIGNED_CASE.findall(output))
    assert set(cases) == set(EXPECTED), cases
    _assert_paths(cases, Path(data_dir))


def _assert_first_command_works(output: str, env: dict[str, str]) -> None:
    """The command the banner prints after its ready line runs as printed (through bash, from
    the project's directory, without uv) and shows the clerk's commands."""
    after_ready = output[output.index(READY) :].splitlines()
    printed = after_ready[1].strip()
    assert "uv " not in printed, printed
    shown = subprocess.run(
        ["bash", "-c", printed],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=WALKTHROUGH_TIMEOUT_S,
        check=False,
    )
    assert shown.returncode == 0, (printed, shown.stdout, shown.stderr)
    assert "submit" in shown.stdout and "deliver" in shown.stdout, shown.stdout


def _assert_paths(cases: dict[str, str], data_dir: Path) -> None:
    """Each case's stage in the store and the events of its path, none of them refused."""
    sessions = open_store(f"sqlite:///{data_dir / 'approval.sqlite3'}")
    try:
        with sessions() as session:
            for name, case_no in cases.items():
                stage, events = EXPECTED[name]
                row = case_row(session, case_no)
                assert row is not None, f"{name} {case_no}: not in the store"
                types = {event.type for event in events_of(session, case_no)}
                assert (name, row.stage) == (name, stage), types
                assert events <= types, f"{name} {case_no}: {sorted(events - types)} missing"
                assert "ActionRefused" not in types, f"{name} {case_no}: a refused attempt"
            rejected = case_row(session, cases["REJ"])
            assert rejected is not None and rejected.approved is False
    finally:
        sessions.kw["bind"].dispose()
