"""Record the golden histories: representative cases run on Temporal's time-skipping test
server with the current workflow code, each case's history written as Temporal writes it
(``WorkflowHistory.to_json()``) to ``tests/golden/NAME.json``.

tests/workflows/test_golden_histories.py replays every one of them against the workflow code, so a
change that would break cases already running fails CI. The old histories are the point: a
change to the workflow must replay the ones recorded before it, guarded by
``workflow.patched`` where it changes what the workflow does. The committed set was recorded
before the ``tell-departments-the-decision`` patch and proves it; so existing files are never
overwritten unless ``--overwrite`` is given (record new ones into another folder with --out).

    uv run python -m scripts.record_golden_histories [--out DIR] [--overwrite]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from approval.cli.simulate import (
    CLERK,
    NO_SILENT_CONSENT_MATTER,
    SILENT_MATTER,
    Run,
    Scenario,
    approved,
    consolidated_supplement,
    deemed,
    deemed_acceptance,
    escalated,
    notice_and_supplement,
    rejected,
    withdrawn,
)
from approval.config import PROJECT_ROOT, Settings, get_settings
from approval.domain.catalogue import load_catalogue
from approval.domain.models import Accept, Actor, Extend, Role
from approval.environments import running_worker, time_skipping_environment
from approval.runtime import open_store
from approval.service import CaseService

GOLDEN_DIR = PROJECT_ROOT / "tests" / "golden"
SETTLE_TIMEOUT_S = 30.0
"""Longest wait for a case to have nothing in flight before its history is taken."""
SUPERVISOR = Actor(role=Role.SUPERVISOR, id="supervisor-golden")
WORKFLOW_TASK_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    }
)


async def extended(run: Run) -> None:
    """Accepted, extended once by the supervisor (R13), then approved by every department."""
    await run.submit()
    await run.service.act(run.case_no, Accept(actor=CLERK))
    await run.service.act(run.case_no, Extend(actor=SUPERVISOR, reason="需组织专家论证"))
    await run.approve_all()


GOLDEN: list[tuple[str, str, Scenario]] = [
    ("approved", SILENT_MATTER, approved),
    ("rejected", SILENT_MATTER, rejected),
    ("deemed", SILENT_MATTER, deemed),
    ("consolidated_supplement", SILENT_MATTER, consolidated_supplement),
    ("extended", SILENT_MATTER, extended),
    ("withdrawn", SILENT_MATTER, withdrawn),
    ("deemed_acceptance", SILENT_MATTER, deemed_acceptance),
    ("notice_and_supplement", SILENT_MATTER, notice_and_supplement),
    ("escalated", NO_SILENT_CONSENT_MATTER, escalated),
]
"""File name, matter and scenario of every golden history."""


def _quiet(history: WorkflowHistory) -> bool:
    """The workflow ended, or its last workflow task completed and nothing came after it
    but that task's own commands."""
    types = [event.event_type for event in history.events]
    if EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED in types:
        return True
    tasks = [t for t in types if t in WORKFLOW_TASK_EVENTS]
    return bool(tasks) and tasks[-1] == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


async def settled_history(client: Client, case_no: str) -> str:
    """The case's history as JSON, once no activity is in flight and its last event is a
    completed workflow task (or the end of the workflow): a quiet point to replay up to."""
    handle = client.get_workflow_handle(case_no)
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        description = await handle.describe()
        history = await handle.fetch_history()
        if _quiet(history) and not description.raw_description.pending_activities:
            return history.to_json()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{case_no} did not settle in {SETTLE_TIMEOUT_S} s")
        await asyncio.sleep(0.1)


async def record(env: WorkflowEnvironment, settings: Settings, out: Path) -> list[Path]:
    """Run every golden scenario with a worker of the current code; write each history."""
    catalogue = load_catalogue(settings.catalogue_path)
    sessions = open_store(settings.store_url)
    service = CaseService(env.client, settings, catalogue, sessions)
    written = []
    async with running_worker(env.client, sessions, task_queue=settings.task_queue):
        for name, matter_code, scenario in GOLDEN:
            run = Run(service=service, env=env, matter=catalogue.matter(matter_code))
            await scenario(run)
            path = out / f"{name}.json"
            path.write_text(await settled_history(env.client, run.case_no) + "\n")
            written.append(path)
    return written


async def main(out: Path, overwrite: bool) -> None:
    """Record into ``out`` with a throw-away store, on a fresh time-skipping server."""
    taken = [out / f"{name}.json" for name, _, _ in GOLDEN if (out / f"{name}.json").exists()]
    if taken and not overwrite:
        names = ", ".join(p.name for p in taken)
        raise SystemExit(f"{out} already holds {names}: give --overwrite or another --out")
    out.mkdir(parents=True, exist_ok=True)
    base = get_settings()
    with tempfile.TemporaryDirectory() as scratch:
        settings = base.model_copy(
            update={"data_dir": Path(scratch), "database_url": "", "task_queue": "golden"}
        )
        async with await time_skipping_environment() as env:
            written = await record(env, settings, out)
    for path in written:
        print(f"{path}  {path.stat().st_size:>8} bytes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Record the golden histories.")
    parser.add_argument("--out", type=Path, default=GOLDEN_DIR, help="where to write them")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    args = parser.parse_args()
    asyncio.run(main(args.out.resolve(), args.overwrite))
    # Leave without interpreter finalisation, as run_typer does: the Temporal runtime's
    # native threads may still be running.
    sys.stdout.flush()
    os._exit(0)
