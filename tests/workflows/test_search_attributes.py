"""The case's search attributes (approval.search_attributes): the workflow upserts them as the
case moves (time-skipping server: a silent department's deadline passes), and the Temporal
CLI's ``temporal workflow list --query`` filters cases by them on the dev server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from datetime import timedelta
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from approval.auditing.histories import case_replayer, replay_histories
from approval.config import Settings
from approval.contracts import CaseInput, CaseResult
from approval.domain.catalogue import Catalogue
from approval.domain.events import CaseEvent
from approval.domain.state import Stage
from approval.environments import packaged_binary
from approval.search_attributes import (
    CASE_STAGE,
    CENTRE,
    COMMITTED_COMPLETION_AT,
    DEPARTMENTS,
    MATTER_CODE,
    OVERDUE,
    RECEIVED_AT,
    RED_MARKED,
    CaseAttributes,
)
from approval.service import CaseService
from tests.domain_fixtures import approve
from tests.workflows.test_golden_histories import (
    EVENTS_ONLY_DIR,
    GOLDEN,
    _markers,
    golden_histories,
)
from tests.workflows.test_supervision import completed_case
from tests.workflows.test_workflow import GHXK, accepted
from workflows.case_workflow import UPSERT_SEARCH_ATTRIBUTES, CaseWorkflow


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class AlwaysUpserts(CaseWorkflow):
    """The search attributes without their ``workflow.patched`` guard: every case, old or
    new, upserts them after each step."""

    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        """As CaseWorkflow (the SDK wants the run method declared on the class itself)."""
        return await super().run(case)

    def _upsert_search_attributes(self, events: list[CaseEvent]) -> None:
        """Upsert what changed, whatever the history says."""
        now = CaseAttributes.of(self._case.state, self._input.centre, red_marked=False)
        workflow.upsert_search_attributes(now.updates(self._attributes))
        self._attributes = now


async def test_the_golden_cases_replay_with_the_patch_and_break_without_it() -> None:
    """Patch UPSERT_SEARCH_ATTRIBUTES: the golden cases, recorded before it, carry no marker
    of it and replay deterministically against the patched code; the same change without the
    guard fails the replay of every one of them."""
    histories = golden_histories() + golden_histories(EVENTS_ONLY_DIR)
    assert all(UPSERT_SEARCH_ATTRIBUTES not in m for _, h in histories for m in _markers(h))
    patched = await replay_histories(histories)
    assert {o.name: o.failure for o in patched if not o.deterministic} == {}
    unguarded = await replay_histories(histories, case_replayer(AlwaysUpserts))
    assert len(unguarded) == len(histories) == 2 * len(GOLDEN)
    assert [o.name for o in unguarded if o.deterministic] == []
    failures = [str(o.failure).lower() for o in unguarded]
    assert all("nondetermin" in failure for failure in failures), failures


VISIBLE_WITHIN_S = 60.0
"""Longest the dev server's visibility store may take to show an upsert, on a busy machine."""


async def attributes(client: Client, case_no: str) -> Any:
    """The case's search attributes as the server describes them."""
    return (await client.get_workflow_handle(case_no).describe()).typed_search_attributes


async def test_R19_the_case_upserts_its_stage_and_flags_as_it_moves(
    engine: CaseService, catalogue: Catalogue, time_skipping_env: WorkflowEnvironment
) -> None:
    """R19: an accepted GHXK case carries its stage, matter, four departments, centre, receipt
    time and committed completion, not overdue nor red; once CGJ's period passes in silence it
    is overdue and red-marked, and its stage is the one after the decision."""
    client = time_skipping_env.client
    case_no = await accepted(engine, catalogue)
    status = await engine.status(case_no)
    assert status.case_clock is not None and status.case_clock.due is not None
    found = await attributes(client, case_no)
    assert found[CASE_STAGE] == "in_review"
    assert found[MATTER_CODE] == GHXK
    assert sorted(found[DEPARTMENTS]) == ["CGJ", "RFB", "ZJJ", "ZRZY"]
    assert found[CENTRE] == catalogue.centre
    assert (found[OVERDUE], found[RED_MARKED]) == (False, False)
    assert found[RECEIVED_AT] == status.received_at
    assert found[COMMITTED_COMPLETION_AT] == status.case_clock.due

    for department in ("ZRZY", "ZJJ", "RFB"):
        await engine.act(case_no, approve(department))
    (cgj,) = [t for t in status.tasks if t.department == "CGJ"]
    assert cgj.clock is not None and cgj.clock.due is not None
    await time_skipping_env.sleep(cgj.clock.due - await time_skipping_env.get_current_time())
    await time_skipping_env.sleep(timedelta(hours=1))
    later = await engine.status(case_no)
    found = await attributes(client, case_no)
    assert later.stage is not Stage.IN_REVIEW
    assert found[CASE_STAGE] == later.stage.value
    assert (found[OVERDUE], found[RED_MARKED]) == (True, True)


def listed(address: str, query: str) -> set[str]:
    """The workflow ids ``temporal workflow list --query`` prints for ``query``."""
    command = [packaged_binary("temporal"), "workflow", "list", "--address", address]
    printed = subprocess.run(
        [*command, "--query", query, "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    rows = json.loads(printed.stdout or "[]")
    return {row["execution"]["workflowId"] for row in rows}


async def listed_eventually(address: str, query: str, expected: set[str]) -> set[str]:
    """What the query lists once it lists ``expected`` (visibility lags the upserts), or
    what it listed last when that takes longer than VISIBLE_WITHIN_S."""
    deadline = time.monotonic() + VISIBLE_WITHIN_S
    while (found := await asyncio.to_thread(listed, address, query)) != expected:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    return found


@pytest.mark.devserver
@pytest.mark.parametrize("store_backend", ["sqlite"])  # case numbers are the store's: one
async def test_the_temporal_cli_lists_cases_by_their_search_attributes(
    dev_engine: CaseService,
    dev_env: WorkflowEnvironment,
    catalogue: Catalogue,
    settings: Settings,
    store_backend: str,
) -> None:
    """``temporal workflow list --query`` on the dev server, filtering by the custom
    attributes: two GHXK cases in review (not overdue) are listed, a completed one is not; a
    keyword-list filter on a department and a date range on the receipt time find them too."""
    in_review = {await accepted(dev_engine, catalogue), await accepted(dev_engine, catalogue)}
    completed = await completed_case(dev_engine, catalogue)
    address = dev_env.client.service_client.config.target_host
    ours = f'TaskQueue="{settings.task_queue}"'

    query = f'{ours} AND CaseStage="in_review" AND MatterCode="{GHXK}" AND Overdue=false'
    assert await listed_eventually(address, query, in_review) == in_review
    query = f'{ours} AND CaseStage="completed" AND RedMarked=false'
    assert await listed_eventually(address, query, {completed}) == {completed}
    everyone = in_review | {completed}
    query = f'{ours} AND Departments="CGJ" AND ReceivedAt > "2020-01-01T00:00:00Z"'
    assert await listed_eventually(address, query, everyone) == everyone
    query = f'{ours} AND Departments="no-such-department"'
    assert await listed_eventually(address, query, set()) == set()
