"""Golden histories: cases recorded by scripts/record_golden_histories.py (approved, rejected,
deemed, consolidated supplement, extended, withdrawn, deemed acceptance, notice and
supplement, escalated) must replay against the current workflow code. A change to the
workflow that would break a case already running fails here, in CI, before it reaches a
worker; a deliberately non-deterministic variant shows that the check bites.

The golden histories were recorded before the workflow told the departments the decision
(patch ``tell-departments-the-decision``): they show that change made safely — old cases
replay without it, new cases tell the departments, and the change without its
``workflow.patched`` guard breaks the old cases."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from activities.store import StoreActivities
from approval.auditing.histories import case_replayer, load_history, replay_histories
from approval.auditing.integrity import recorded_steps
from approval.config import PROJECT_ROOT
from approval.contracts import CaseInput, CaseResult, DepartmentMessage
from approval.domain.catalogue import Catalogue
from approval.domain.events import CaseEvent
from approval.domain.models import Accept, Actor, Applicant, Application, Role
from approval.routing import decision_messages, department_messages
from approval.service import CaseService
from approval.store.department_messages import department_messages_of
from approval.store.schema import DepartmentMessageRow
from tests.domain_fixtures import approve, material, reject
from workflows.case_workflow import (
    RECORD_STEPS_FROM_HISTORY,
    RECORD_STEPS_LOCALLY,
    STORE_TIMEOUT,
    TELL_DEPARTMENTS_THE_DECISION,
    CaseWorkflow,
)

GOLDEN_DIR = PROJECT_ROOT / "tests" / "golden"
GOLDEN = (
    "approved",
    "rejected",
    "deemed",
    "consolidated_supplement",
    "extended",
    "withdrawn",
    "deemed_acceptance",
    "notice_and_supplement",
    "escalated",
)
DECIDED = (
    "approved",
    "rejected",
    "deemed",
    "consolidated_supplement",
    "extended",
    "deemed_acceptance",
    "notice_and_supplement",
)
"""The golden cases that reached their decision (CaseApproved or CaseRejected)."""
UNDECIDED = ("withdrawn", "escalated")
MATTER = "CG-HGSZ-001"  # CGJ, ZRZY, JJ review; silent consent applies
CLERK = Actor(role=Role.CLERK, id="clerk-golden")


LOCAL_STEPS_DIR = GOLDEN_DIR / "local-steps"
EVENTS_ONLY_DIR = GOLDEN_DIR / "events-only"
"""Steps that carry their events only (typed, compressed), ActResult answers: issue 10."""
FOLDERS = [GOLDEN_DIR, LOCAL_STEPS_DIR, EVENTS_ONLY_DIR]
FOLDER_IDS = ["activity", "local", "events-only"]
"""The same paths recorded under ``record-steps-as-local-activities``: each step's store write
a local activity (a marker in the history)."""


def golden_histories(folder: Path = GOLDEN_DIR) -> list[tuple[str, WorkflowHistory]]:
    """Every golden history in ``folder``, by name."""
    return [(name, load_history(folder / f"{name}.json")) for name in GOLDEN]


# The variants below stand in for CaseWorkflow under its name. They run outside the sandbox:
# the sandbox would re-import this test module, pytest and all, for each replay.


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class SleepsBeforeTheFirstFlush(CaseWorkflow):
    """CaseWorkflow with a change that breaks running cases: a timer before the case's
    first events are recorded."""

    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        """Sleep a second, then run the case as the current code does."""
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(case)


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class AlwaysTellsTheDecision(CaseWorkflow):
    """The decision change without its ``workflow.patched`` guard: every case, old or new,
    tells the departments the decision."""

    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        """As CaseWorkflow (the SDK wants the run method declared on the class itself)."""
        return await super().run(case)

    def _messages(self, events: list[CaseEvent]) -> list[DepartmentMessage]:
        """The step's messages plus, unconditionally, the decision messages."""
        state = self._case.state
        return department_messages(state, events) + decision_messages(state, events)


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class AlwaysRecordsLocally(CaseWorkflow):
    """The local store write without its ``workflow.patched`` guard: every case, old or new,
    records its steps as local activities."""

    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        """As CaseWorkflow (the SDK wants the run method declared on the class itself)."""
        return await super().run(case)

    async def _flush_step(self, events: list[CaseEvent]) -> None:
        """Record the step as a local activity, whatever the history says."""
        request = self._step(events)
        await workflow.execute_local_activity_method(
            StoreActivities.record_case_events, request, start_to_close_timeout=STORE_TIMEOUT
        )
        self._recorded_seq = request.last_seq


@pytest.mark.parametrize("folder", FOLDERS, ids=FOLDER_IDS)
def test_the_golden_set_is_complete(folder: Path) -> None:
    """Every representative path has its golden history, and nothing else lies in the
    folder unreplayed."""
    assert sorted(p.stem for p in folder.glob("*.json")) == sorted(GOLDEN)
    for name in GOLDEN:
        assert (folder / f"{name}.json").stat().st_size < 200_000, name


@pytest.mark.parametrize("folder", FOLDERS, ids=FOLDER_IDS)
async def test_every_golden_history_replays_deterministically(folder: Path) -> None:
    """The current workflow code makes the same decisions as the recorded runs: those
    recorded before the local store write, under it, and since steps carry their events
    only."""
    outcomes = await replay_histories(golden_histories(folder))
    assert [o.name for o in outcomes] == list(GOLDEN)
    assert {o.name: o.failure for o in outcomes if not o.deterministic} == {}


async def test_a_timer_before_the_first_flush_is_caught_as_non_determinism() -> None:
    """A variant that starts a timer where the recorded runs scheduled the store activity
    fails the replay of every golden history, naming the mismatch."""
    outcomes = await replay_histories(golden_histories(), case_replayer(SleepsBeforeTheFirstFlush))
    assert [o.name for o in outcomes if o.deterministic] == []
    for outcome in outcomes:
        assert outcome.failure is not None
        assert "nondetermin" in outcome.failure.lower(), outcome.failure
        assert outcome.verdict.startswith("NOT deterministic: ")


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_history_files_load(name: str) -> None:
    """Each golden file is a Temporal history of a CaseWorkflow run (as to_json writes it)."""
    history = load_history(Path(GOLDEN_DIR / f"{name}.json"))
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.workflow_type.name == "CaseWorkflow"


def _markers(history: WorkflowHistory) -> list[str]:
    """The raw details of every marker in a history (a patch marker names its patch)."""
    return [
        str(event.marker_recorded_event_attributes.details)
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]


async def test_old_decided_cases_replay_without_telling_the_departments() -> None:
    """Patch, (a): the golden cases were decided before the change (no patch marker in their
    histories), and replay against the patched code deterministically: ``patched`` is false
    for them, so the code schedules no decision message they never sent."""
    histories = dict(golden_histories())
    decided = [(name, histories[name]) for name in DECIDED]
    assert all(_markers(history) == [] for _, history in decided)
    outcomes = await replay_histories(decided)
    assert {o.name: o.failure for o in outcomes if not o.deterministic} == {}


async def test_without_the_patched_guard_old_decided_cases_break() -> None:
    """Patch, (c): the same change without ``workflow.patched`` fails the replay of every
    golden case that reached its decision; the cases that never did still replay."""
    outcomes = await replay_histories(golden_histories(), case_replayer(AlwaysTellsTheDecision))
    failed = {o.name: o.failure for o in outcomes if not o.deterministic}
    assert sorted(failed) == sorted(DECIDED)
    assert all("nondetermin" in str(reason).lower() for reason in failed.values()), failed
    assert [o.name for o in outcomes if o.deterministic] == list(UNDECIDED)


async def _accepted_case(engine: CaseService, catalogue: Catalogue) -> str:
    """A complete case of MATTER, received and accepted under the current code."""
    matter = catalogue.matter(MATTER)
    application = Application(
        matter_code=MATTER,
        applicant=Applicant(name="滨州示例广告有限公司", id_number="91371600MA3C00000L"),
        materials=tuple(material(m.code) for m in matter.demanded_materials),
        idempotency_key=f"golden-{uuid.uuid4().hex}",
    )
    case_no = (await engine.submit(application, CLERK)).case_no
    await engine.act(case_no, Accept(actor=CLERK))
    return case_no


async def _decision_messages(
    sessions: sessionmaker[Session], case_no: str, expected: int
) -> list[DepartmentMessageRow]:
    """The case's ``decision`` messages once ``expected`` of them arrived (the departments are
    told after the store records the step; bounded wait for that)."""
    found: list[DepartmentMessageRow] = []
    for _ in range(200):
        with sessions() as session:
            found = [
                m for m in department_messages_of(session, case_no=case_no) if m.kind == "decision"
            ]
        if len(found) >= expected:
            break
        await asyncio.sleep(0.05)
    return found


async def test_a_new_case_tells_every_reviewing_department_the_decision(
    engine: CaseService,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Patch, (b): a case decided under the new code tells each department that reviewed it
    the decision (a ``decision`` message, with the rejecting department's reasons); its
    history carries the patch marker and replays deterministically."""
    case_no = await _accepted_case(engine, catalogue)
    await engine.act(case_no, reject("JJ", "设置位置影响交通安全"))
    await engine.act(case_no, approve("CGJ"))
    status = await engine.act_and_read(case_no, approve("ZRZY"))
    assert status.decision is not None and not status.decision.approved
    told = await _decision_messages(sessions, case_no, 3)
    assert sorted(m.department for m in told) == ["CGJ", "JJ", "ZRZY"]
    assert all(m.round == 1 and "设置位置影响交通安全" in str(m.payload["reason"]) for m in told)
    history = await time_skipping_env.client.get_workflow_handle(case_no).fetch_history()
    assert any(TELL_DEPARTMENTS_THE_DECISION in marker for marker in _markers(history))
    [outcome] = await replay_histories([(case_no, history)])
    assert outcome.deterministic, outcome.failure


async def test_without_the_patched_guard_the_local_store_write_breaks_every_old_case() -> None:
    """Patch ``record-steps-as-local-activities``: the golden cases scheduled their store
    writes as activities; recording them locally without the guard fails every replay, while
    the guarded code replays them all (test_every_golden_history_replays_deterministically)."""
    outcomes = await replay_histories(golden_histories(), case_replayer(AlwaysRecordsLocally))
    assert [o.name for o in outcomes if o.deterministic] == []
    assert all("nondetermin" in str(o.failure).lower() for o in outcomes)


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class AlwaysRecordsFromHistory(CaseWorkflow):
    """The return to the regular store activity without its ``workflow.patched`` guard:
    every case, old or new, schedules its store writes as activities."""

    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        """As CaseWorkflow (the SDK wants the run method declared on the class itself)."""
        return await super().run(case)

    def _records_locally(self) -> bool:
        """Never locally, whatever the history says."""
        return False


async def test_without_the_patched_guard_recording_from_history_breaks_local_cases() -> None:
    """Patch ``record-steps-from-the-committed-history`` (R21): the local-steps golden cases
    wrote their steps as local activities; scheduling the store activity instead, without the
    guard, fails every one of their replays, while the guarded code replays them all."""
    local = golden_histories(LOCAL_STEPS_DIR)
    assert all(any(RECORD_STEPS_LOCALLY in m for m in _markers(h)) for _, h in local)
    outcomes = await replay_histories(local, case_replayer(AlwaysRecordsFromHistory))
    assert [o.name for o in outcomes if o.deterministic] == []
    assert all("nondetermin" in str(o.failure).lower() for o in outcomes)


async def test_a_new_case_records_its_steps_from_the_committed_history_and_replays(
    engine: CaseService, catalogue: Catalogue, time_skipping_env: WorkflowEnvironment
) -> None:
    """A case started under the new code (R21) writes each step through the store activity,
    whose input is in the committed history (ActivityTaskScheduled): no local store write,
    the patch marker present, and the history replays."""
    matter = catalogue.matter(MATTER)
    case_no = await _accepted_case(engine, catalogue)
    history = await time_skipping_env.client.get_workflow_handle(case_no).fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled.count("record_case_events") == 2  # receipt, then acceptance
    assert scheduled.count("send_to_department") == len(matter.reviews)
    markers = _markers(history)
    assert any(RECORD_STEPS_FROM_HISTORY in marker for marker in markers)
    assert not any("record_step_locally" in marker for marker in markers)
    [outcome] = await replay_histories([(case_no, history)])
    assert outcome.deterministic, outcome.failure


SUPERVISED_DIR = GOLDEN_DIR / "supervised"
SUPERVISED = {
    "rated": {"CaseRated"},
    "reminded_and_unrated": {"ClockWarned", "RedMarkRecorded", "RatingPeriodEnded"},
    "bad_rating_answered_late": {
        "CaseRated",
        "FollowUpOpened",
        "ClockWarned",
        "RedMarkRecorded",
        "FollowUpAnswered",
    },
    "complaint_answered": {"ComplaintLodged", "FollowUpOpened", "FollowUpAnswered", "CaseRated"},
}
"""The paths of supervision and ratings (R19, R20), recorded since SUPERVISE_AND_RATE by
``scripts/record_golden_histories.py --supervised``, with the new events each must hold."""


async def test_R19_R20_the_supervised_golden_histories_replay_and_hold_their_events() -> None:
    """R19, R20: each supervised path's history replays with the current code, ended (the
    workflow waits for its rating and follow-ups, then completes), and its recorded steps hold
    the reminders, red marks, ratings, complaints and follow-ups of its path."""
    assert sorted(p.stem for p in SUPERVISED_DIR.glob("*.json")) == sorted(SUPERVISED)
    histories = [(name, load_history(SUPERVISED_DIR / f"{name}.json")) for name in SUPERVISED]
    outcomes = await replay_histories(histories)
    assert {o.name: o.failure for o in outcomes if not o.deterministic} == {}
    for name, history in histories:
        kinds = {event.type for step in recorded_steps(history) for event in step.events}
        assert SUPERVISED[name] <= kinds, name
        assert history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
