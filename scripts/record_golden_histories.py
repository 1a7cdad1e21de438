"""Record the golden histories: representative cases run on Temporal's time-skipping test
server with the current workflow code, each case's history written as Temporal writes it
(``WorkflowHistory.to_json()``) to ``tests/golden/NAME.json``.

tests/workflows/test_golden_histories.py replays every one of them against the workflow code, so a
change that would break cases already running fails CI. The old histories are the point: a
change to the workflow must replay the ones recorded before it, guarded by
``workflow.patched`` where it changes what the workflow does. The committed set was recorded
before the ``tell-departments-the-decision`` patch and proves it; so existing files are never
overwritten unless ``--overwrite`` is given (record new ones into another folder with --out).

    uv run python -m scripts.record_golden_histories [--out DIR] [--overwrite] [--supervised]

``--supervised`` records the paths of supervision and ratings (R19, R20) into
``tests/golden/supervised``.
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
    reviewer,
    withdrawn,
)
from approval.config import PROJECT_ROOT, Settings, get_settings
from approval.domain.catalogue import load_catalogue
from approval.domain.models import (
    Accept,
    Actor,
    AnswerFollowUp,
    Complain,
    Deliver,
    Extend,
    Rate,
    RatingLevel,
    Role,
)
from approval.environments import running_worker, time_skipping_environment
from approval.runtime import open_store
from approval.service import CaseService

GOLDEN_DIR = PROJECT_ROOT / "tests" / "golden"
SUPERVISED_DIR = GOLDEN_DIR / "supervised"
APPLICANT = Actor(role=Role.APPLICANT, id="applicant-golden")
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


async def rated(run: Run) -> None:
    """Approved by every department, delivered, rated 满意: the workflow ends (R20)."""
    await approved(run)
    await run.service.act(run.case_no, Deliver(actor=CLERK))
    await run.service.act(run.case_no, Rate(actor=APPLICANT, level=RatingLevel.SATISFIED))


async def reminded_and_unrated(run: Run) -> None:
    """The last department stays silent: reminded at yellow, red-marked and deemed at its
    deadline (R19, R9); delivered; nobody rates, and the rating period ends (R20)."""
    await deemed(run)
    await run.service.act(run.case_no, Deliver(actor=CLERK))
    await run.let_days_pass(20)


async def bad_rating_answered_late(run: Run) -> None:
    """Delivered, rated 不满意 about the last department: its follow-up is reminded, marked
    red, then answered late (R20, R19)."""
    await approved(run)
    await run.service.act(run.case_no, Deliver(actor=CLERK))
    department = run.matter.reviews[-1].department
    rating = Rate(actor=APPLICANT, level=RatingLevel.DISSATISFIED, concerns=(department,))
    await run.service.act(run.case_no, rating)
    await run.let_days_pass(12)
    answer = AnswerFollowUp(
        actor=reviewer(department),
        follow_up_no=f"{run.case_no}-F01",
        explanation="审查人员外出，未及时办理",
        remedy="已落实 AB 岗",
    )
    await run.service.act(run.case_no, answer)


async def complaint_answered(run: Run) -> None:
    """A complaint about the window during the review, answered by a clerk; approved,
    delivered, rated 非常满意 (R20)."""
    await run.submit()
    await run.service.act(run.case_no, Accept(actor=CLERK))
    await run.service.act(run.case_no, Complain(actor=APPLICANT, text="窗口解释不清"))
    answer = AnswerFollowUp(
        actor=CLERK,
        follow_up_no=f"{run.case_no}-F01",
        explanation="首问负责人未一次性讲清",
        remedy="已组织窗口业务培训",
    )
    await run.service.act(run.case_no, answer)
    await run.approve_all()
    await run.service.act(run.case_no, Deliver(actor=CLERK))
    await run.service.act(run.case_no, Rate(actor=APPLICANT, level=RatingLevel.VERY_SATISFIED))


SUPERVISED: list[tuple[str, str, Scenario]] = [
    ("rated", SILENT_MATTER, rated),
    ("reminded_and_unrated", SILENT_MATTER, reminded_and_unrated),
    ("bad_rating_answered_late", SILENT_MATTER, bad_rating_answered_late),
    ("complaint_answered", SILENT_MATTER, complaint_answered),
]
"""The paths of supervision and ratings (R19, R20), recorded since SUPERVISE_AND_RATE into
``tests/golden/supervised`` (``--supervised``)."""


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


async def record(
    env: WorkflowEnvironment,
    settings: Settings,
    out: Path,
    scenarios: list[tuple[str, str, Scenario]] = GOLDEN,
) -> list[Path]:
    """Run every golden scenario with a worker of the current code; write each history."""
    catalogue = load_catalogue(settings.catalogue_path)
    sessions = open_store(settings.store_url)
    service = CaseService(env.client, settings, catalogue, sessions)
    written = []
    async with running_worker(env.client, sessions, task_queue=settings.task_queue):
        for name, matter_code, scenario in scenarios:
            run = Run(service=service, env=env, matter=catalogue.matter(matter_code))
            await scenario(run)
            path = out / f"{name}.json"
            path.write_text(await settled_history(env.client, run.case_no) + "\n")
            written.append(path)
    return written


async def main(out: Path, overwrite: bool, scenarios: list[tuple[str, str, Scenario]]) -> None:
    """Record into ``out`` with a throw-away store, on a fresh time-skipping server."""
    taken = [out / f"{n}.json" for n, _, _ in scenarios if (out / f"{n}.json").exists()]
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
            written = await record(env, settings, out, scenarios)
    for path in written:
        print(f"{path}  {path.stat().st_size:>8} bytes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Record the golden histories.")
    parser.add_argument("--out", type=Path, default=None, help="where to write them")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    parser.add_argument(
        "--supervised", action="store_true", help="the supervision and rating paths (R19, R20)"
    )
    args = parser.parse_args()
    chosen = SUPERVISED if args.supervised else GOLDEN
    out = args.out or (SUPERVISED_DIR if args.supervised else GOLDEN_DIR)
    asyncio.run(main(out.resolve(), args.overwrite, chosen))
    # Leave without interpreter finalisation, as run_typer does: the Temporal runtime's
    # native threads may still be running.
    sys.stdout.flush()
    os._exit(0)
