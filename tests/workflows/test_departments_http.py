"""Department systems pushed to over real HTTP: the stub department service runs under
uvicorn on a free port of this machine, a worker on the time-skipping Temporal server reaches
it through the httpx client, and the service's faults (503s, late answers) show the retries."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event as store_events
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from approval.config import Settings
from approval.contracts import DepartmentMessage, DepartmentMessageKind
from approval.departments import TransientDepartmentError, message_id
from approval.departments.http_client import (
    DepartmentEndpoints,
    DepartmentRefusedMessage,
    HttpDepartmentSystem,
)
from approval.departments.http_service import Faults, create_app
from approval.departments.wire import MESSAGE_ID_HEADER, messages_path
from approval.domain.catalogue import Catalogue
from approval.domain.models import Decide
from approval.environments import running_worker
from approval.service import CaseService
from approval.store.department_messages import department_messages_of
from tests.processes import invoke_worker, process_env, serving
from tests.workflows.test_workflow import GHXK, accepted
from workflows.case_workflow import DEPARTMENT_HEARTBEAT, DEPARTMENT_TIMEOUT


@pytest.fixture
def store_backend() -> str:
    """SQLite only: the store is not what is tested here."""
    return "sqlite"


DEPARTMENTS = ("CGJ", "RFB", "ZJJ", "ZRZY")
"""The departments of the GHXK matter."""
WAIT_S = 60.0


# ---- the service, for real --------------------------------------------------------------------


@asynccontextmanager
async def engine_over_http(
    env: WorkflowEnvironment,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    endpoints: DepartmentEndpoints,
) -> AsyncIterator[CaseService]:
    """The engine with a worker that pushes to the department systems at ``endpoints``."""
    async with running_worker(
        env.client, sessions, task_queue=settings.task_queue, departments=endpoints
    ):
        yield CaseService(env.client, settings, catalogue, sessions)


async def eventually(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """The first truthy result of ``check``, polled (bounded) while other processes work."""
    deadline = time.monotonic() + WAIT_S
    while not (result := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_S} s: {what}")
        await asyncio.sleep(0.05)
    return result


async def received(url: str, department: str) -> list[dict[str, Any]]:
    """What ``department`` received, asked of the service over HTTP."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{url}/departments/{department}/messages")
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found


async def tasks_received(url: str, case_no: str) -> dict[str, list[dict[str, Any]]]:
    """Each department's task messages of the case, once every department has one."""
    by_department = {
        department: [
            r
            for r in await received(url, department)
            if r["message"]["case_no"] == case_no and r["message"]["kind"] == "task"
        ]
        for department in DEPARTMENTS
    }
    return by_department if all(by_department.values()) else {}


async def delivery_attempts(client: Client, case_no: str, expected: int) -> list[int]:
    """The attempt numbers of the case's completed ``send_to_department`` activities, from
    the workflow's history, once ``expected`` of them completed."""

    async def completed() -> list[int]:
        scheduled: set[int] = set()
        started: dict[int, int] = {}
        done: list[int] = []
        async for event in client.get_workflow_handle(case_no).fetch_history_events():
            if event.HasField("activity_task_scheduled_event_attributes"):
                attributes = event.activity_task_scheduled_event_attributes
                if attributes.activity_type.name == "send_to_department":
                    scheduled.add(event.event_id)
            elif event.HasField("activity_task_started_event_attributes"):
                attributes_started = event.activity_task_started_event_attributes
                started[attributes_started.scheduled_event_id] = attributes_started.attempt
            elif event.HasField("activity_task_completed_event_attributes"):
                scheduled_id = event.activity_task_completed_event_attributes.scheduled_event_id
                if scheduled_id in scheduled:
                    done.append(started[scheduled_id])
        return done if len(done) >= expected else []

    attempts: list[int] = await eventually(completed, f"{expected} deliveries of {case_no}")
    return attempts


# ---- through Temporal -------------------------------------------------------------------------


async def test_R7_R23_every_department_receives_its_task_once_over_http_and_answers(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
) -> None:
    """R7, R23: once the case is accepted, each department's system receives its task over
    HTTP exactly once (in the service and in the store), and the decisions the departments
    answer with reach the case: it is approved and each department is told the decision."""
    app = create_app(dict.fromkeys(DEPARTMENTS, "approve"), sessions=sessions)
    with serving(app) as url:
        endpoints = DepartmentEndpoints(base_url=url)
        async with engine_over_http(
            time_skipping_env, settings, catalogue, sessions, endpoints
        ) as engine:
            case_no = await accepted(engine, catalogue, GHXK)
            tasks = await eventually(lambda: tasks_received(url, case_no), "every task")

            async def decided() -> bool:
                status = await engine.status(case_no)
                return status.decision is not None

            await eventually(decided, "the decision")
            status = await engine.status(case_no)

            async def told_twice() -> dict[str, list[str]]:
                kinds = {
                    d: [r["message"]["kind"] for r in await received(url, d)] for d in DEPARTMENTS
                }
                return kinds if all(len(k) >= 2 for k in kinds.values()) else {}

            told = await eventually(told_twice, "the decision told to every department")
    assert {d: [(r["attempts"], r["message_id"]) for r in tasks[d]] for d in DEPARTMENTS} == {
        d: [(1, f"{case_no}/{d}/task/1")] for d in DEPARTMENTS
    }
    assert status.decision is not None and status.decision.approved
    assert told == {d: ["task", "decision"] for d in DEPARTMENTS}
    with sessions() as session:
        stored = sorted(m.department for m in department_messages_of(session, case_no=case_no))
    assert stored == sorted(DEPARTMENTS * 2)


async def test_R23_a_department_failing_twice_with_503_still_receives_its_task_once(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
) -> None:
    """R23: a department system answering 503 to the first two attempts of every message
    gets each task on the third attempt, counted once; the activity's attempt count in the
    workflow's history shows the two retries."""
    with serving(create_app(faults=Faults(fail_first=2))) as url:
        endpoints = DepartmentEndpoints(base_url=url)
        async with engine_over_http(
            time_skipping_env, settings, catalogue, sessions, endpoints
        ) as engine:
            case_no = await accepted(engine, catalogue, GHXK)
            tasks = await eventually(lambda: tasks_received(url, case_no), "every task")
            attempts = await delivery_attempts(time_skipping_env.client, case_no, len(DEPARTMENTS))
    assert {d: [r["attempts"] for r in tasks[d]] for d in DEPARTMENTS} == {
        d: [3] for d in DEPARTMENTS
    }
    assert attempts == [3] * len(DEPARTMENTS)


async def test_R23_an_answer_later_than_the_read_timeout_is_retried_and_counted_once(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
) -> None:
    """R23: a department system that answers the first attempt of every message later than
    the worker's read timeout sees the message again; it counts it once, and the activity
    completes on its second attempt."""
    faults = Faults(slow_first=1, delay_s=3.0)
    with serving(create_app(faults=faults)) as url:
        endpoints = DepartmentEndpoints(base_url=url, read_timeout_s=0.5)
        async with engine_over_http(
            time_skipping_env, settings, catalogue, sessions, endpoints
        ) as engine:
            case_no = await accepted(engine, catalogue, GHXK)
            attempts = await delivery_attempts(time_skipping_env.client, case_no, len(DEPARTMENTS))
            tasks = await tasks_received(url, case_no)
    assert attempts == [2] * len(DEPARTMENTS)
    assert {d: [r["attempts"] for r in tasks[d]] for d in DEPARTMENTS} == {
        d: [2] for d in DEPARTMENTS
    }


async def test_a_send_waiting_for_a_slow_department_heartbeats(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
) -> None:
    """While a department's system is slow to answer, its send beats (DEPARTMENT_HEARTBEAT):
    the pending activity shows a heartbeat timeout shorter than its start-to-close limit and a
    last beat, so a send whose worker dies is handed on after that, not after the whole limit
    (tests/faults/test_scale_out.py showed a case waiting behind one). Once the department
    answers, the send completes on its first attempt."""
    faults = Faults(slow_first=1, delay_s=6.0)
    with serving(create_app(faults=faults)) as url:
        endpoints = DepartmentEndpoints(base_url=url, read_timeout_s=30.0)
        async with engine_over_http(
            time_skipping_env, settings, catalogue, sessions, endpoints
        ) as engine:
            case_no = await accepted(engine, catalogue, GHXK)
            handle = time_skipping_env.client.get_workflow_handle(case_no)

            async def beating() -> list[Any]:
                pending = (await handle.describe()).raw_description.pending_activities
                sends = [a for a in pending if a.activity_type.name == "send_to_department"]
                return [a for a in sends if a.HasField("last_heartbeat_time")]

            assert await eventually(beating, "a send's heartbeat")
            attempts = await delivery_attempts(time_skipping_env.client, case_no, len(DEPARTMENTS))
            limits = {
                (a.heartbeat_timeout.ToTimedelta(), a.start_to_close_timeout.ToTimedelta())
                async for e in handle.fetch_history_events()
                if (a := e.activity_task_scheduled_event_attributes).activity_type.name
                == "send_to_department"
            }
    assert limits == {(DEPARTMENT_HEARTBEAT, DEPARTMENT_TIMEOUT)}
    assert DEPARTMENT_HEARTBEAT < DEPARTMENT_TIMEOUT
    assert attempts == [1] * len(DEPARTMENTS)


async def test_a_refused_message_is_retried_until_the_configuration_is_fixed(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
) -> None:
    """A 4xx (here a wrong URL for ZJJ: 404) is a bug on our side, but the message is not
    lost: the activity keeps being retried, and once a worker with the right URL runs, ZJJ
    receives its task, once."""
    with serving(create_app()) as url:
        wrong = DepartmentEndpoints(base_url=url, overrides={"ZJJ": f"{url}/wrong"})
        async with engine_over_http(
            time_skipping_env, settings, catalogue, sessions, wrong
        ) as engine:
            case_no = await accepted(engine, catalogue, GHXK)

            async def retried() -> bool:
                description = await time_skipping_env.client.get_workflow_handle(case_no).describe()
                return any(
                    a.attempt >= 2 and "404" in a.last_failure.message
                    for a in description.raw_description.pending_activities
                )

            await eventually(retried, "ZJJ's delivery retried after the 404")
            assert await received(url, "ZJJ") == []
        fixed = DepartmentEndpoints(base_url=url)
        async with engine_over_http(time_skipping_env, settings, catalogue, sessions, fixed):
            tasks = await eventually(lambda: tasks_received(url, case_no), "every task")
    assert [r["message_id"] for r in tasks["ZJJ"]] == [f"{case_no}/ZJJ/task/1"]


# ---- the client alone -------------------------------------------------------------------------


def task_for(department: str) -> DepartmentMessage:
    """A task message for ``department`` on a made-up case."""
    return DepartmentMessage(
        case_no="371600-20260302-000009",
        department=department,
        kind=DepartmentMessageKind.TASK,
        round=1,
        matter_code=GHXK,
        matter_name="建设工程规划许可",
    )


async def never_answer(case_no: str, decision: Decide, request_id: str) -> None:
    """Stands for the case; the departments here are silent, so it is never called."""
    raise AssertionError(f"no decision expected, got {decision} for {case_no}")


async def test_an_unreachable_department_system_is_a_transient_failure() -> None:
    """Nothing listening at the department's URL (connection refused) raises the transient
    error that Temporal retries."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    system = HttpDepartmentSystem(
        DepartmentEndpoints(base_url=f"http://127.0.0.1:{port}"), never_answer
    )
    try:
        with pytest.raises(TransientDepartmentError, match="cannot reach"):
            await system.deliver(task_for("ZJJ"), attempt=1)
    finally:
        await system.aclose()


async def test_a_department_refusing_a_message_raises_and_is_not_counted() -> None:
    """A 4xx answer (a wrong URL: 404) raises the refusal error, not a silent success, and
    the department has received nothing."""
    with serving(create_app()) as url:
        wrong = DepartmentEndpoints(base_url=url, overrides={"ZJJ": f"{url}/wrong"})
        system = HttpDepartmentSystem(wrong, never_answer)
        try:
            with pytest.raises(DepartmentRefusedMessage, match="answered 404"):
                await system.deliver(task_for("ZJJ"), attempt=1)
        finally:
            await system.aclose()
        assert await received(url, "ZJJ") == []


# ---- the service alone ------------------------------------------------------------------------


async def test_R23_a_message_whose_store_write_failed_is_recorded_once_on_the_retry(
    sessions: sessionmaker[Session],
) -> None:
    """R23: the stub service counts a message as received only once the store has it. The
    store's write failing on the first delivery (its commit refused) answers 503, so the
    engine tries again; the retry records the message then, exactly once, and a third
    delivery is answered as a duplicate."""
    failures = iter([OperationalError("COMMIT", None, Exception("disk I/O error"))])

    def fail_the_first_commit(_session: Session) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure

    store_events.listen(sessions, "before_commit", fail_the_first_commit)
    message = task_for("ZJJ")
    transport = httpx.ASGITransport(app=create_app(sessions=sessions))
    async with httpx.AsyncClient(transport=transport, base_url="http://departments") as http:
        answers = [
            await http.post(
                messages_path("ZJJ"),
                json=message.model_dump(mode="json"),
                headers={MESSAGE_ID_HEADER: message_id(message)},
            )
            for _attempt in range(3)
        ]
        listed = (await http.get(messages_path("ZJJ"))).json()
    assert [a.status_code for a in answers] == [503, 200, 200]
    assert [a.json()["duplicate"] for a in answers[1:]] == [False, True]
    assert [r["message_id"] for r in listed] == [message_id(message)]
    with sessions() as session:
        stored = department_messages_of(session, case_no=message.case_no)
    assert [(m.department, m.kind, m.round) for m in stored] == [("ZJJ", "task", 1)]


# ---- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"APPROVAL_DEPARTMENTS_URL": "127.0.0.1:8100"}, "APPROVAL_DEPARTMENTS_URL"),
        (
            {
                "APPROVAL_DEPARTMENTS_URL": "http://127.0.0.1:8100",
                "APPROVAL_DEPARTMENT_URLS": '{"ZJJ": "http://zjj.example:port"}',
            },
            "APPROVAL_DEPARTMENT_URLS[ZJJ]",
        ),
    ],
)
def test_a_malformed_department_url_stops_the_worker_naming_the_setting(
    settings: Settings, variables: dict[str, str], named: str
) -> None:
    """worker.py started with a malformed department URL exits at once with status 2 and one
    line that names the setting and shows the value, no traceback, before serving anything."""
    env = process_env(
        address="127.0.0.1:1",
        namespace="default",
        task_queue=settings.task_queue,
        data_dir=settings.data_dir,
    )
    result = invoke_worker(env | variables)
    assert result.exited(2), str(result)
    (line,) = result.message_lines()
    assert line.startswith(f"错误 error: {named}: ") and "must be an http(s) URL" in line, line
    assert "worker.started" not in result.stdout + result.stderr
