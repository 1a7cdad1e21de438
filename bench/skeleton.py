"""The bare-Temporal floor the engine is measured against: a workflow with no domain logic and
no store that does the same Temporal work per case as a real case — one workflow start, the
same Updates, and after each of them the same store-like activities (synchronous, on the
worker's thread pool, as the store's is) and department-like activities (asynchronous, as the
department systems' are), in the same order, each doing nothing. Each Update returns once its
step's store-like activity has completed, as the real ``act`` does.

The shape of a case (``CaseShape``) is read from the history of a real case, so the skeleton
keeps matching the engine as the engine changes: its activities, and also the patch markers
(``workflow.patched``, each with the search-attribute upsert the SDK adds) and the timers the
case waits on between Updates (started, then cancelled when the next Update comes), so that
both histories hold the same kinds and numbers of events. Used by ``bench.throughput``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Worker

from approval.config import get_settings
from approval.runtime import workflow_build_id, workflow_runner

STORE_ACTIVITY = "record_case_events"
DEPARTMENT_ACTIVITY = "send_to_department"
LOCAL_MARKER = "core_local_activity"
"""The marker a local activity's result is recorded as (the only local activity is the store's)."""
PATCH_MARKER = "core_patch"
LOCAL_STORE = "local store activity"
TIMEOUT = timedelta(seconds=60)
WAIT = timedelta(days=365)
"""The timeout of a timed wait: the next Update always comes first."""


@dataclass(frozen=True)
class Flush:
    """One store-like activity, then this many department-like activities at once."""

    departments: int


@dataclass(frozen=True)
class CaseShape:
    """The Temporal work of one case: ``steps[0]`` runs when the case starts, ``steps[i]``
    after its i-th Update; each step is a list of flushes."""

    steps: list[list[Flush]] = field(default_factory=list)
    local_store: bool = False
    """The store-like activities are local activities (as the engine's since the patch
    record-steps-as-local-activities)."""
    patches: tuple[int, ...] = ()
    """How many patch markers each step records (none where not given)."""
    timed_waits: tuple[int, ...] = ()
    """The steps after which the case waits for the next Update with a timer."""

    @property
    def updates(self) -> int:
        """Updates per case."""
        return len(self.steps) - 1

    @property
    def store_activities(self) -> int:
        """Store(-like) activities per case."""
        return sum(len(step) for step in self.steps)

    @property
    def department_activities(self) -> int:
        """Department(-like) activities per case."""
        return sum(f.departments for step in self.steps for f in step)

    def patches_of(self, step: int) -> int:
        """The patch markers step ``step`` records."""
        return self.patches[step] if step < len(self.patches) else 0

    def describe(self) -> str:
        """The counts, for the printout."""
        store = "local store activities" if self.local_store else "store activities"
        return (
            f"1 start, {self.updates} Updates, {self.store_activities} {store}, "
            f"{self.department_activities} department activities, {sum(self.patches)} patch "
            f"markers, {len(self.timed_waits)} timed waits per case"
        )


def _activity_of(event: HistoryEvent) -> str | None:
    """The activity an event schedules (a local one's result is a marker), if any."""
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        return event.activity_task_scheduled_event_attributes.activity_type.name
    marker = event.marker_recorded_event_attributes.marker_name
    if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED and marker == LOCAL_MARKER:
        return LOCAL_STORE
    return None


def shape_of(history: WorkflowHistory) -> CaseShape:
    """The shape of the case whose history this is (Updates are sent one after another)."""
    steps: list[list[Flush]] = [[]]
    patches = [0]
    timed_waits = []
    kinds = set()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            steps.append([])
            patches.append(0)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            timed_waits.append(len(steps) - 1)
        elif event.marker_recorded_event_attributes.marker_name == PATCH_MARKER:
            patches[-1] += 1
        activity = _activity_of(event)
        kinds.add(activity)
        if activity in (STORE_ACTIVITY, LOCAL_STORE):
            steps[-1].append(Flush(0))
        elif activity == DEPARTMENT_ACTIVITY:
            steps[-1].append(Flush(steps[-1].pop().departments + 1))
        elif activity is not None:
            raise ValueError(f"unexpected activity {activity!r} in the history")
    return CaseShape(
        steps,
        local_store=LOCAL_STORE in kinds,
        patches=tuple(patches),
        timed_waits=tuple(timed_waits),
    )


@activity.defn(name=STORE_ACTIVITY)
def record_nothing(step: int) -> None:
    """Store-like: synchronous, on the worker's thread pool, does nothing."""


@activity.defn(name=DEPARTMENT_ACTIVITY)
async def send_nothing(step: int) -> None:
    """Department-like: asynchronous, does nothing."""


@workflow.defn
class SkeletonWorkflow:
    """A case's Temporal work without the case."""

    @workflow.init
    def __init__(self, shape: CaseShape) -> None:
        self._received = 0
        self._recorded = 0
        self._patch(shape, 0)  # as the engine's case does when it is received

    @staticmethod
    def _patch(shape: CaseShape, step: int) -> None:
        for patch in range(shape.patches_of(step)):
            workflow.patched(f"skeleton-step-{step}-{patch}")

    @workflow.run
    async def run(self, shape: CaseShape) -> int:
        """Run step 0, then each further step once its Update has arrived."""
        for index, step in enumerate(shape.steps):
            timeout = WAIT if index - 1 in shape.timed_waits else None
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(
                    lambda: self._received >= index,  # noqa: B023
                    timeout=timeout,
                )
            if index:
                self._patch(shape, index)
            for flush in step:
                if shape.local_store:
                    await workflow.execute_local_activity(
                        record_nothing, index, start_to_close_timeout=TIMEOUT
                    )
                else:
                    await workflow.execute_activity(
                        record_nothing, index, start_to_close_timeout=TIMEOUT
                    )
                self._recorded = index
                await asyncio.gather(
                    *(
                        workflow.execute_activity(
                            send_nothing, index, start_to_close_timeout=TIMEOUT
                        )
                        for _ in range(flush.departments)
                    )
                )
            self._recorded = index
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._received

    @workflow.update
    async def act(self, command: int) -> int:
        """Wake the next step; return once its store-like activity has completed."""
        self._received += 1
        mine = self._received
        await workflow.wait_condition(lambda: self._recorded >= mine)
        return mine


def skeleton_worker(client: Client, task_queue: str, executor: ThreadPoolExecutor) -> Worker:
    """A worker for the skeleton with the engine's options (runtime.build_worker's)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[SkeletonWorkflow],
        activities=[record_nothing, send_nothing],
        activity_executor=executor,
        max_concurrent_activities=executor._max_workers,
        workflow_runner=workflow_runner(get_settings().workflow_sandbox),
        build_id=workflow_build_id(),
    )


async def skeleton_case(client: Client, task_queue: str, case_id: str, shape: CaseShape) -> None:
    """Start one skeleton case and send its Updates one after another, as the window does."""
    handle = await client.start_workflow(
        SkeletonWorkflow.run, shape, id=case_id, task_queue=task_queue
    )
    for number in range(1, shape.updates + 1):
        await handle.execute_update(SkeletonWorkflow.act, number)


def counts(shapes: Sequence[CaseShape]) -> str:
    """The shapes' counts, one line each."""
    return "; ".join(s.describe() for s in shapes)
