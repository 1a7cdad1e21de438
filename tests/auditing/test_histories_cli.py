"""The auditor's history commands as the auditor runs them (auditor.py's commands, run in this
process): ``replay`` of the golden folder offline, and bad input, which exits with status 2 and
one line. ``export`` and ``replay`` of a case run by a worker.py process:
tests/e2e/test_histories_export.py."""

from __future__ import annotations

import asyncio
import os

import pytest

from approval.config import PROJECT_ROOT
from tests.processes import CliResult, invoke_auditor


def offline_env() -> dict[str, str]:
    """The environment of an auditor run that reaches no server: this process's own, with
    every APPROVAL_ setting dropped."""
    return {k: v for k, v in os.environ.items() if not k.startswith("APPROVAL_")}


async def run_auditor(env: dict[str, str], *args: str) -> CliResult:
    """Run ``auditor.py ARGS`` to completion (in this process, off the event loop)."""
    return await asyncio.to_thread(invoke_auditor, env, *args)


async def test_replay_of_the_golden_folder_needs_no_server() -> None:
    """``replay`` of a folder of histories replays each one offline; all golden histories
    are deterministic, exit 0."""
    result = await run_auditor(
        offline_env(), "replay", str(PROJECT_ROOT / "tests" / "golden"), "--json"
    )
    assert result.exited(0), result
    report = result.json()
    assert report["replayed"] == 9 and report["not_deterministic"] == 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("replay",), "targets"),
        (("replay", "no/such/history.json"), "no such file"),
        (("replay", "README.md"), "not a Temporal history"),
        (("replay", "--live", "2026-1"), "case_no"),
        (("export", "2026-1", "--out", "x"), "case_no"),
        (("verify", "2026-1"), "case_no"),
        (("verify", "--store-only", "371600-20260302-000001", "2026-1"), "case_no"),
        (("crosscheck", "2026-1"), "case_no"),
    ],
)
async def test_bad_input_is_one_line_and_exit_2(
    args: tuple[str, ...], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing, unreadable or malformed argument (a malformed case number given to verify or
    crosscheck too, before any store or server is read): one line naming it, exit 2, no
    trace."""
    monkeypatch.chdir(PROJECT_ROOT)  # where the auditor's paths are relative to
    result = await run_auditor(offline_env(), *args)
    assert result.exited(2), result
    [line] = result.message_lines()
    assert line.startswith("错误 error: ") and named in line, result
    assert result.stdout == ""
