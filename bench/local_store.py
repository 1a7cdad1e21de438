"""An experiment, for the benchmarks only: the case workflow with its store write as a LOCAL
activity (run by the worker inside the workflow task, no round trip through the server's
activity queue), everything else unchanged. Registered under the name ``CaseWorkflow`` on a
task queue of the bench's own, so the service, the API and the store work on it as they are.
It measures what the proposed change to ``workflows/case_workflow.py`` would buy; it is not the
product's workflow (a history it writes does not replay on the product's code).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from sqlalchemy.orm import Session, sessionmaker

    from activities.departments import DepartmentActivities
    from activities.store import StoreActivities
    from approval.contracts import CaseInput, CaseResult, RecordRequest
    from approval.departments.stub import StubDepartmentSystem
    from approval.domain.models import CaseEvent, Decide
    from workflows.case_workflow import RETRY, STORE_TIMEOUT, CaseWorkflow


@workflow.defn(name="CaseWorkflow")
class LocalStoreCaseWorkflow(CaseWorkflow):
    """CaseWorkflow, its store write a local activity."""

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        super().__init__(case)

    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        """As CaseWorkflow.run."""
        return await super().run(case)

    async def _flush_step(self, events: list[CaseEvent]) -> None:
        request = RecordRequest(
            case_no=self._input.case_no,
            centre=self._input.centre,
            events=tuple(events),
            status=self._status(workflow.now()),
            last_seq=events[-1].seq,
        )
        await workflow.execute_local_activity_method(
            StoreActivities.record_case_events,
            request,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RETRY,
        )
        self._recorded_seq = request.last_seq
        await asyncio.gather(*(self._send(m) for m in self._messages(events)))


async def _no_answer(case_no: str, decision: Decide, request_id: str) -> None:
    """Silent stub departments never answer."""


@asynccontextmanager
async def local_store_worker(
    client: Client, sessions: sessionmaker[Session], *, task_queue: str, audit_key: bytes
) -> AsyncIterator[None]:
    """A worker of the variant with the engine's options (runtime.build_worker's) and silent
    stub departments, while the block runs."""
    store = StoreActivities(sessions, audit_key)
    departments = DepartmentActivities(StubDepartmentSystem(sessions, {}, _no_answer))
    with ThreadPoolExecutor(max_workers=8) as executor:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[LocalStoreCaseWorkflow],
            activities=[store.record_case_events, departments.send_to_department],
            activity_executor=executor,
            max_concurrent_activities=executor._max_workers,
        )
        async with worker:
            yield
