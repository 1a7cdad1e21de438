"""Watch weeks of a service centre in seconds: demo cases on the time-skipping test server,
each driven down one path, and what happened to each (approved, rejected, deemed, notice and
supplement, consolidated supplement, escalated, withdrawn, deemed acceptance)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from rich.table import Table
from temporalio.testing import WorkflowEnvironment

from approval.cli import render
from approval.cli.common import cli_settings
from approval.config import DEVELOPMENT, Settings
from approval.domain.catalogue import Catalogue, Matter, load_catalogue
from approval.domain.labels import STAGE_LABELS, TASK_LABELS
from approval.domain.models import (
    Accept,
    Actor,
    Applicant,
    Application,
    Decide,
    IssueNotice,
    NoticeItem,
    Outcome,
    Role,
    SubmittedMaterial,
    Supplement,
    Withdraw,
)
from approval.domain.status import CaseStatus
from approval.environments import running_worker, time_skipping_environment
from approval.logs import configure_logging
from approval.service import CaseService
from approval.store.engine import open_store

CLERK = Actor(role=Role.CLERK, id="clerk-sim")
SILENT_MATTER = "CG-HGSZ-001"
NO_SILENT_CONSENT_MATTER = "AJ-WHPJY-001"


def material(code: str) -> SubmittedMaterial:
    """A demo material reference (content hash of its name)."""
    digest = hashlib.sha256(code.encode()).hexdigest()
    return SubmittedMaterial(code=code, document_ref=f"doc:{digest}", sha256=digest)


def reviewer(department: str) -> Actor:
    """A demo reviewer of ``department``."""
    return Actor(role=Role.REVIEWER, id=f"reviewer-{department}", department=department)


@dataclass
class Run:
    """One simulated case: the engine, its environment and the case's matter."""

    service: CaseService
    env: WorkflowEnvironment
    matter: Matter
    case_no: str = ""

    async def submit(self, *, leave_out: int = 0) -> None:
        """Submit with every demanded material but the first ``leave_out``."""
        demanded = [m.code for m in self.matter.demanded_materials][leave_out:]
        application = Application(
            matter_code=self.matter.code,
            applicant=Applicant(name="滨州示例建设有限公司", id_number="91371600MA3C00000L"),
            materials=tuple(material(c) for c in demanded),
            idempotency_key=f"sim-{uuid.uuid4().hex}",
        )
        self.case_no = (await self.service.submit(application, CLERK)).case_no

    async def decide(self, department: str, outcome: Outcome, **extra: object) -> None:
        """A department's opinion."""
        decision = Decide(
            actor=reviewer(department), department=department, outcome=outcome, **extra
        )
        await self.service.act(self.case_no, decision)

    async def approve_all(self, *, except_: tuple[str, ...] = ()) -> None:
        """Every pending department approves, dependants as they are dispatched."""
        for _ in self.matter.reviews:
            status = await self.service.status(self.case_no)
            pending = [
                t.department
                for t in status.tasks
                if t.state == "pending" and t.department not in except_
            ]
            if not pending:
                return
            for department in pending:
                await self.decide(department, Outcome.APPROVE)

    async def let_days_pass(self, days: int) -> None:
        """Skip time on the test server."""
        await self.env.sleep(timedelta(days=days))


async def approved(run: Run) -> None:
    await run.submit()
    await run.service.act(run.case_no, Accept(actor=CLERK))
    await run.approve_all()


async def rejected(run: Run) -> None:
    await run.submit()
    await run.service.act(run.case_no, Accept(actor=CLERK))
    await run.decide(
        run.matter.reviews[-1].department, Outcome.REJECT, reasons="设置位置影响交通安全"
    )
    await run.approve_all()


async def deemed(run: Run) -> None:
    await run.submit()
    await run.service.act(run.case_no, Accept(actor=CLERK))
    await run.approve_all(except_=(run.matter.reviews[-1].department,))
    await run.let_days_pass(30)


async def notice_and_supplement(run: Run) -> None:
    await run.submit(leave_out=1)
    await run.service.act(run.case_no, IssueNotice(actor=CLERK))
    missing = run.matter.demanded_materials[0].code
    await run.service.act(run.case_no, Supplement(actor=CLERK, materials=(material(missing),)))
    await run.service.act(run.case_no, Accept(actor=CLERK))
    await run.approve_all()


async def consolidated_supplement(run: Run) -> None:
    await run.submit()
    await run.service.act(run.case_no, Accept(actor=CLERK))
    code = run.matter.demanded_materials[0].code
    item = NoticeItem(code=code, reason="图纸比例不符合要求")
    await run.decide(run.matter.reviews[0].department, Outcome.REQUEST_SUPPLEMENT, items=(item,))
    await run.approve_all()
    await run.let_days_pass(3)
    await run.service.act(run.case_no, Supplement(actor=CLERK, materials=(material(code),)))
    await run.approve_all()


async def escalated(run: Run) -> None:
    await run.submit()
    await run.service.act(run.case_no, Accept(actor=CLERK))
    await run.let_days_pass(40)


async def withdrawn(run: Run) -> None:
    await run.submit()
    await run.service.act(run.case_no, Accept(actor=CLERK))
    await run.service.act(run.case_no, Withdraw(actor=CLERK, reason="申请人项目调整"))


async def deemed_acceptance(run: Run) -> None:
    await run.submit()
    await run.let_days_pass(40)


Scenario = Callable[[Run], Awaitable[None]]
SCENARIOS: list[tuple[str, str, Scenario]] = [
    ("撤回 withdrawn", SILENT_MATTER, withdrawn),
    ("全部同意 approved", SILENT_MATTER, approved),
    ("一个部门不同意 rejected", SILENT_MATTER, rejected),
    ("超时默认 deemed", SILENT_MATTER, deemed),
    ("一次性告知并补正 notice + supplement", SILENT_MATTER, notice_and_supplement),
    ("审查中补正 consolidated supplement", SILENT_MATTER, consolidated_supplement),
    ("不适用超时默认 escalated", NO_SILENT_CONSENT_MATTER, escalated),
    ("逾期视为受理 deemed acceptance", SILENT_MATTER, deemed_acceptance),
]


async def simulate_all(catalogue: Catalogue, settings: Settings) -> list[tuple[str, CaseStatus]]:
    """Run every scenario on a fresh time-skipping server; return each case's final status."""
    sessions = open_store(settings.store_url)
    results = []
    async with await time_skipping_environment() as env:
        service = CaseService(env.client, settings, catalogue, sessions)
        async with running_worker(env.client, sessions, task_queue=settings.task_queue):
            for title, matter_code, scenario in SCENARIOS:
                run = Run(service=service, env=env, matter=catalogue.matter(matter_code))
                await scenario(run)
                results.append((title, await service.status(run.case_no)))
    return results


def summary_table(results: list[tuple[str, CaseStatus]]) -> Table:
    """One row per simulated case."""
    table = Table("场景 scenario", "办件编号", "状态", "各部门")
    for title, status in results:
        tasks = "；".join(
            f"{t.department}:{TASK_LABELS[t.state]}{'(超期)' if t.overdue else ''}"
            for t in status.tasks
        )
        stage = STAGE_LABELS[status.stage] + ("（逾期视为受理）" if status.deemed_accepted else "")
        table.add_row(title, status.case_no, stage, tasks)
    return table


def show_simulation(as_json: bool) -> None:
    """Run the demo cases on the time-skipping test server and show what happened to each.
    Its store is a scratch directory, deleted afterwards: the development audit key will do."""
    base = cli_settings()
    configure_logging(json=base.log_json, level=logging.WARNING)
    with tempfile.TemporaryDirectory() as scratch:
        settings = base.model_copy(
            update={
                "data_dir": Path(scratch),
                "database_url": "",
                "task_queue": "simulation",
                "environment": DEVELOPMENT,
            }
        )
        results = asyncio.run(simulate_all(load_catalogue(base.catalogue_path), settings))
    if as_json:
        render.emit_json([{"scenario": t, "status": s.model_dump(mode="json")} for t, s in results])
        return
    render.console.print(summary_table(results))
