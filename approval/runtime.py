"""Wiring a worker: the workflows and activities it serves, over one client and one store."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.departments import DepartmentActivities
from activities.store import StoreActivities
from approval.departments.stub import StubDepartmentSystem
from approval.domain.errors import DomainError
from approval.domain.models import Decide
from approval.service import CaseWorkflowClient
from approval.store.repository import create_schema, make_engine, make_session_factory
from workflows.case_workflow import CaseWorkflow

log = structlog.get_logger(__name__)


def open_store(url: str) -> sessionmaker[Session]:
    """The store at ``url``, its schema created if new."""
    engine = make_engine(url)
    create_schema(engine)
    return make_session_factory(engine)


def build_worker(
    client: Client,
    *,
    task_queue: str,
    sessions: sessionmaker[Session],
    stub_behaviours: Mapping[str, str],
    executor: ThreadPoolExecutor,
    audit_key: bytes,
) -> Worker:
    """A worker serving the case workflow, the store and the (stub) department systems."""
    cases = CaseWorkflowClient(client)

    async def answer(case_no: str, decision: Decide, request_id: str) -> None:
        try:
            await cases.send(case_no, decision, request_id)
        except DomainError as refusal:
            log.info("stub.answer_refused", case_no=case_no, reason=str(refusal))

    store = StoreActivities(sessions, audit_key)
    departments = DepartmentActivities(StubDepartmentSystem(sessions, stub_behaviours, answer))
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CaseWorkflow],
        activities=[store.record_case_events, departments.send_to_department],
        activity_executor=executor,
        max_concurrent_activities=executor._max_workers,
    )
