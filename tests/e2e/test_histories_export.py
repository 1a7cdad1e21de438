"""The auditor's history commands on a case run by the real processes: ``export`` a case run on
the dev server by a worker.py process and starter.py (acting through the HTTP API served for
real), ``replay`` the exported history (from the file, the folder and the server), and a
corrupted history reported as not deterministic with exit status 1. starter.py's and
auditor.py's commands run in this process (tests.auditing.test_histories_cli's helpers); the
worker is a process of its own."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from approval.config import PROJECT_ROOT
from approval.store.audit_log import events_of
from approval.store.department_messages import department_messages_of
from approval.store.engine import open_store
from tests.auditing.test_histories_cli import run_auditor
from tests.processes import (
    CLERK_ACCOUNT,
    CliResult,
    as_process,
    invoke_cli,
    new_namespace,
    process_env,
    serving_api,
    workers,
)

pytestmark = pytest.mark.slow

SAMPLES = PROJECT_ROOT / "data" / "samples"
MATTER = "JS-GHXK-001"
DEPARTMENTS = ("ZRZY", "ZJJ", "RFB", "CGJ")
WAIT_S = 120.0
"""Bound of the wait for the worker process to decide the case (seconds are enough; a busy
machine is given far more)."""


async def run_cli(env: dict[str, str], *args: str) -> CliResult:
    """Run ``starter.py ARGS`` to completion with the settings of ``env`` (in this process, off
    the event loop: the worker's Updates answer meanwhile)."""
    return await asyncio.to_thread(invoke_cli, *args, env=as_process(env))


@pytest.fixture
async def env(dev_env: WorkflowEnvironment, tmp_path: Path) -> dict[str, str]:
    """The environment of this test's processes: a namespace of its own on the session's dev
    server (its store numbers cases from 000001, and a case number is a workflow id), its own
    task queue and data directory, and stub departments that approve at once."""
    namespace = await new_namespace(dev_env.client, "auditor")
    return process_env(
        address=dev_env.client.service_client.config.target_host,
        namespace=namespace,
        task_queue=f"auditor-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path / "data",
        stub_behaviours=dict.fromkeys(DEPARTMENTS, "approve"),
    )


async def _decided_and_told(data_dir: Path, case_no: str) -> None:
    """Wait (bounded) until the case is approved and every department was told so."""
    sessions = open_store(f"sqlite:///{data_dir / 'approval.sqlite3'}")
    deadline = time.monotonic() + WAIT_S
    while True:
        with sessions() as session:
            approved = any(e.type == "CaseApproved" for e in events_of(session, case_no))
            told = {
                m.department
                for m in department_messages_of(session, case_no=case_no)
                if m.kind == "decision"
            }
        if approved and told == set(DEPARTMENTS):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{case_no}: not decided and told in {WAIT_S} s ({told})")
        await asyncio.sleep(0.1)


SWAPPED = {"send_to_department": "record_case_events", "record_case_events": "send_to_department"}


def _corrupt(history: dict[str, Any]) -> dict[str, Any]:
    """The history with its first scheduled activity renamed (a store write made a department
    message, or the other way round): the activity the code schedules there no longer matches
    the history."""
    for event in history["events"]:
        scheduled = event.get("activityTaskScheduledEventAttributes")
        if scheduled:
            activity = scheduled["activityType"]
            activity["name"] = SWAPPED[activity["name"]]
            return history
    raise AssertionError("no activity in the history")


@pytest.mark.devserver
async def test_export_then_replay_a_case_run_by_the_real_processes(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A case submitted and accepted through starter.py (acting through the HTTP API with a
    clerk's token), approved by the stub departments of a worker.py process, is exported by
    ``auditor.py export`` (its Temporal history as Temporal writes it, its audit events with
    their chain hashes); ``replay`` of the exported file, of its folder and of the live case
    reports it deterministic (exit 0); a corrupted copy is reported NOT deterministic with the
    mismatch, and the run exits 1."""
    data_dir = Path(env["APPROVAL_DATA_DIR"])
    out = tmp_path / "export"
    with workers(env, tmp_path) as started, serving_api(env) as (url, tokens):
        await started.start().wait_started()
        clerk_env = env | {"APPROVAL_API_URL": url, "APPROVAL_TOKEN": tokens[CLERK_ACCOUNT[0]]}
        materials = [f"--material={p.stem}={p}" for p in sorted(SAMPLES.glob("*.txt"))]
        submitted = await run_cli(
            clerk_env,
            *("submit", MATTER, "--applicant", "滨州示例建设有限公司"),
            *("--id-number", "91371600MA3C00000L", "--key", f"audit-{uuid.uuid4().hex}"),
            *materials,
            "--json",
        )
        assert submitted.exited(0), submitted
        case_no = submitted.json()["case_no"]
        accepted = await run_cli(clerk_env, "accept", case_no, "--json")
        assert accepted.exited(0), accepted
        await _decided_and_told(data_dir, case_no)

        exported = await run_auditor(env, "export", case_no, "--out", str(out), "--json")
        assert exported.exited(0), exported
        live = await run_auditor(env, "replay", "--live", case_no)
    assert live.exited(0), live
    assert f"{case_no}: deterministic" in live.stdout

    report = exported.json()
    history_path, audit_path = Path(report["history"]), Path(report["audit"])
    assert (history_path, audit_path) == (
        out / f"{case_no}.history.json",
        out / f"{case_no}.audit.json",
    )
    history = json.loads(history_path.read_text())
    assert len(history["events"]) == report["history_events"] > 10
    audit = json.loads(audit_path.read_text())
    assert [row["seq"] for row in audit] == list(range(1, len(audit) + 1))
    assert {"prev_hash", "hash", "payload", "occurred_at", "actor_id"} <= set(audit[0])
    assert audit[0]["prev_hash"] == "0" * 64
    assert all(row["prev_hash"] == before["hash"] for before, row in itertools.pairwise(audit))
    assert "CaseApproved" in [row["type"] for row in audit]

    for target in (history_path, out):
        replayed = await run_auditor(env, "replay", str(target))
        assert replayed.exited(0), replayed
        assert replayed.stdout.splitlines() == [
            f"{history_path}: deterministic",
            "重放 replayed 1 个历史 histories: 全部确定 all deterministic",
        ], replayed

    corrupted = tmp_path / "corrupted" / f"{case_no}.history.json"
    corrupted.parent.mkdir()
    corrupted.write_text(json.dumps(_corrupt(history)))
    result = await run_auditor(env, "replay", str(history_path), str(corrupted), "--json")
    assert result.exited(1), result
    verdicts = {h["name"]: h for h in result.json()["histories"]}
    assert verdicts[str(history_path)]["deterministic"] is True
    assert verdicts[str(corrupted)]["deterministic"] is False
    assert "Nondeterminism" in verdicts[str(corrupted)]["failure"]
    text = await run_auditor(env, "replay", str(corrupted))
    assert text.exited(1), text
    first, summary = text.stdout.splitlines()
    assert first.startswith(f"{corrupted}: NOT deterministic: ")
    assert "send_to_department" in first or "record_case_events" in first, first
    assert summary == "重放 replayed 1 个历史 histories: 1 个不确定 NOT deterministic"
