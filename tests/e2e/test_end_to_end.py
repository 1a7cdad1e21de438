"""End to end on the Temporal dev server: the command line (starter.py) acting through the real
HTTP API with its users' tokens (its commands run in this process, and once as the program),
a SQLite store shared by all; and real worker processes (worker.py), one killed mid-review.

Every wait here is bounded and waits for a real process or a real state, never for a time to
pass; the case periods are working days long, so no deadline falls due while a test runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from approval.config import Settings
from approval.contracts import DATA_CONVERTER
from approval.domain.catalogue import Catalogue
from approval.domain.models import (
    Accept,
    Actor,
    Applicant,
    Application,
    Decide,
    Outcome,
    Role,
    SubmittedMaterial,
)
from approval.domain.status import CaseStatus
from approval.environments import running_worker
from approval.runtime import open_store
from approval.service import CaseService, CaseWorkflowClient
from approval.store.audit_log import events_of, notices_of
from approval.store.department_messages import department_messages_of
from approval.store.queries import case_row
from approval.store.schema import CaseEventRow
from tests.processes import (
    PROCESS_TIMEOUT_S,
    CliResult,
    Workers,
    invoke_cli,
    new_namespace,
    process_env,
    run_cli,
    serving_api,
    workers,
)

MATTER = "JS-GHXK-001"
DEPARTMENTS = ("ZRZY", "ZJJ", "RFB", "CGJ")
DEMANDED = ("SQB", "XMPZ", "SJFA", "RFSJ")
APPLICANT = "滨州市黄河建设有限公司"
ID_NUMBER = "91371600MA3C4Q8R2E"
CLERK = Actor(role=Role.CLERK, id="clerk-e2e")
WAIT_S = 120.0
"""Bound of every wait for the worker or the store to catch up (seconds are enough; a busy
machine is given far more)."""
UPDATES_TIMEOUT_S = PROCESS_TIMEOUT_S
"""Bound of the decisions sent across a worker crash (an activity or workflow task that the
dead worker held is handed on only when its timeout passes)."""

pytestmark = pytest.mark.slow

Cli = Callable[..., Awaitable[CliResult]]


@pytest.fixture
async def client(dev_env: WorkflowEnvironment) -> Client:
    """A client of a namespace of the test's own on the session's dev server. Every test's
    store numbers its cases from 000001, and a case number is its workflow's id: in a shared
    namespace a second test's case would meet the first test's workflow."""
    namespace = await new_namespace(dev_env.client, "e2e")
    return await Client.connect(
        _address(dev_env.client),
        namespace=namespace,
        data_converter=DATA_CONVERTER,
    )


def _address(client: Client) -> str:
    return client.service_client.config.target_host


def _env(client: Client, task_queue: str, data_dir: Path, **behaviours: str) -> dict[str, str]:
    return process_env(
        address=_address(client),
        namespace=client.namespace,
        task_queue=task_queue,
        data_dir=data_dir,
        stub_behaviours=behaviours or None,
    )


def _queue(name: str) -> str:
    return f"e2e-{name}-{uuid.uuid4().hex[:8]}"


def _store(data_dir: Path) -> sessionmaker[Session]:
    return open_store(f"sqlite:///{data_dir / 'approval.sqlite3'}")


async def _eventually(
    check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = WAIT_S
) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        await asyncio.sleep(0.05)


async def _recorded(
    sessions: sessionmaker[Session], case_no: str, event_type: str, count: int = 1
) -> list[CaseEventRow]:
    """The case's events in the store, once the worker has recorded ``count`` of
    ``event_type``."""
    events: list[CaseEventRow] = []

    async def present() -> bool:
        nonlocal events
        with sessions() as session:
            events = events_of(session, case_no)
        return sum(e.type == event_type for e in events) >= count

    await _eventually(present, f"{case_no}: {event_type} in the store")
    return events


async def _told_the_decision(sessions: sessionmaker[Session], case_no: str) -> None:
    """Wait until every department has the decision message (the flaky one on its retry)."""

    async def told() -> bool:
        with sessions() as session:
            messages = department_messages_of(session, case_no=case_no)
        return sum(m.kind == "decision" for m in messages) == len(DEPARTMENTS)

    await _eventually(told, f"{case_no}: every department told the decision")


def _essentials(status: dict[str, Any]) -> dict[str, Any]:
    """A status without what changes by itself as time passes (as_of, days remaining)."""
    moving = {"remaining_wd", "light"}

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in moving}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return {k: strip(v) for k, v in status.items() if k != "as_of"}


def _assert_gapless(events: list[CaseEventRow], case_no: str) -> None:
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), f"{case_no}: event numbers {seqs}"


def _issued_notice_nos(events: Iterable[CaseEventRow]) -> list[str]:
    return [str(e.payload["notice"]["notice_no"]) for e in events if e.type == "NoticeIssued"]


# ---- 1. one case through the command line, against the real API ------------------------------

PEOPLE = {
    "clerk-e2e": ("clerk", None),
    "supervisor-e2e": ("supervisor", None),
    "rv-SCJG": ("reviewer", "SCJG"),  # a department with no task on a JS-GHXK-001 case
    **{f"rv-{d}": ("reviewer", d) for d in DEPARTMENTS},
}
"""Who acts, by name: role and department (R22)."""


def _material_files(directory: Path) -> dict[str, Path]:
    directory.mkdir()
    files = {}
    for code in DEMANDED:
        path = directory / f"{code.lower()}.pdf"
        path.write_bytes(f"%PDF-1.4 {code} 滨州 e2e\n".encode())
        files[code] = path
    return files


def _submission(files: dict[str, Path], key: str, *codes: str) -> tuple[str, ...]:
    return (
        *("submit", MATTER, "--applicant", APPLICANT, "--id-number", ID_NUMBER, "--key", key),
        *(f"--material={code}={files[code]}" for code in codes),
    )


async def _step(cli: Cli, who: str, *args: str) -> dict[str, Any]:
    """Run a command that must succeed, as ``who``; its --json status."""
    result = await cli(who, *args, "--json")
    assert result.exited(0), result
    assert "Traceback" not in result.stderr, result
    status: dict[str, Any] = result.json()
    return status


def _assert_refused(result: CliResult, *names: str) -> None:
    """Exit status 2, one line on stderr naming the problem, no stack trace, nothing on
    stdout."""
    assert result.exited(2), result
    assert "Traceback" not in result.stderr, result
    lines = result.message_lines()
    assert len(lines) == 1, result
    assert lines[0].startswith("错误 error: "), result
    for name in names:
        assert name in lines[0], f"{name!r} not named in: {lines[0]}"
    assert result.stdout == "", result


@pytest.mark.devserver
async def test_R22_R23_four_department_case_through_the_cli_and_the_api(
    client: Client, tmp_path: Path
) -> None:
    """R22, R23: a JS-GHXK-001 case goes from receipt to completion driven only by starter.py's
    commands, each acting through the real HTTP API with its user's token, against a worker:
    submitted without RFSJ (the same --key again gives the same case), the one-time notice
    lists RFSJ, the supplement brings it, the clerk accepts, each department's reviewer
    approves in its own name (a decision retried with its --request-id has one effect), the
    certificate is issued at once (no fee) and delivered; every `--json` output is one JSON
    document. The API decides who may act (R22): a reviewer of a department without a task on
    the case and a clerk extending the period are refused, and those attempts kept in the
    record; so are bad input and actions the rules forbid (unknown matter, malformed case
    number, a rejection without reasons, a decided task, withdrawal after the decision, any
    action on the completed case): exit status 2 and one line naming the problem, the case as
    it was. The store holds the events numbered 1..n without gaps and exactly the four written
    notices. starter.py also runs as a program (its token from APPROVAL_TOKEN)."""
    queue = _queue("cli")
    env = _env(client, queue, tmp_path)
    files = _material_files(tmp_path / "materials")
    sessions = _store(tmp_path)
    cases = CaseWorkflowClient(client)
    accounts = [(name, role, department) for name, (role, department) in PEOPLE.items()]
    with serving_api(env, accounts) as (url, tokens):
        cli_env = {"APPROVAL_API_URL": url, "APPROVAL_DATA_DIR": str(tmp_path / "cli")}

        async def cli(who: str, *args: str) -> CliResult:
            return await asyncio.to_thread(invoke_cli, "--token", tokens[who], *args, env=cli_env)

        step = partial(_step, cli)
        async with running_worker(client, sessions, task_queue=queue):
            # ---- receipt without RFSJ (twice, one key), one-time notice, supplement, acceptance
            key = f"e2e-cli-{uuid.uuid4().hex}"
            first = await step("clerk-e2e", *_submission(files, key, "SQB", "XMPZ", "SJFA"))
            again = await step("clerk-e2e", *_submission(files, key, "SQB", "XMPZ", "SJFA"))
            case_no = first["case_no"]
            assert (first["created"], again["created"], again["case_no"]) == (True, False, case_no)
            assert first["status"]["stage"] == "received"
            assert first["status"]["missing_materials"] == ["RFSJ"]

            noticed = await step("clerk-e2e", "notice", case_no)
            assert noticed["stage"] == "awaiting_intake_supplement"
            assert noticed["open_notice_items"] == ["RFSJ"]
            supplement = ("supplement", case_no, "--material", f"RFSJ={files['RFSJ']}")
            supplemented = await step("clerk-e2e", *supplement)
            assert (supplemented["stage"], supplemented["missing_materials"]) == ("received", [])
            accepted = await step("clerk-e2e", "accept", case_no)
            assert accepted["stage"] == "in_review"
            assert {t["department"]: t["state"] for t in accepted["tasks"]} == dict.fromkeys(
                DEPARTMENTS, "pending"
            )

            # ---- who may act is the API's to decide (R22); bad input is refused there too
            outsider = await cli("rv-SCJG", "decide", case_no, "approve")
            extension = await cli("clerk-e2e", "extend", case_no, "--reason", "需组织专家论证")
            no_reasons = await cli("rv-RFB", "decide", case_no, "reject")
            _assert_refused(outsider, "department", "SCJG", "R22")
            _assert_refused(extension, "actor.role", "延长审批期限", "R22")
            _assert_refused(no_reasons, "reasons")

            # ---- each department's reviewer decides; a retry with its request id: one effect
            retry = ("decide", case_no, "approve", "--request-id", f"d-{uuid.uuid4().hex}")
            zrzy = await step("rv-ZRZY", *retry)
            assert await step("rv-ZRZY", *retry) == zrzy
            for department in DEPARTMENTS[1:]:
                await step(f"rv-{department}", "decide", case_no, "approve")
            status = await step("clerk-e2e", "status", case_no)
            assert status["stage"] == "awaiting_delivery"
            assert status["decision"]["approved"] is True
            assert status["certificate_no"] == f"{case_no}-N04"
            assert {t["department"]: (t["state"], t["decided_by"]) for t in status["tasks"]} == {
                d: ("approved", f"rv-{d}") for d in DEPARTMENTS
            }
            events_before = await _recorded(sessions, case_no, "CertificateIssued")

            # ---- refusals: bad input, and actions the rules do not allow any more
            unknown = await cli(
                "clerk-e2e", "submit", "JS-NOPE-999", "--applicant", APPLICANT,
                "--id-number", ID_NUMBER, "--key", f"e2e-cli-{uuid.uuid4().hex}", "--json",
            )  # fmt: skip
            malformed = await cli("clerk-e2e", "status", "371600-2026-1", "--json")
            decided = await cli("rv-ZRZY", "decide", case_no, "approve")
            withdrawal = await cli("clerk-e2e", "withdraw", case_no, "--json")
            _assert_refused(unknown, "matter_code", "JS-NOPE-999")
            _assert_refused(malformed, "case_no", "371600-2026-1")
            _assert_refused(decided, "department", "自然资源和规划局")
            _assert_refused(withdrawal, "stage", "撤回申请", "待送达")
            # No refusal can undo another's change: unchanged after all means unchanged after
            # each.
            after = (await cases.status(case_no)).model_dump(mode="json")
            assert _essentials(after) == _essentials(status)
            # The refused attempts on the case are kept in its record (R21, R22); bad input,
            # which never reached the case, is not; nothing else changed.
            refused = await _recorded(sessions, case_no, "ActionRefused", count=4)
            changes = [e.seq for e in refused if e.type != "ActionRefused"]
            assert changes == [e.seq for e in events_before if e.type != "ActionRefused"]
            assert sorted(e.payload["action"] for e in refused if e.type == "ActionRefused") == [
                "decide",
                "decide",
                "extend",
                "withdraw",
            ]

            # ---- delivery completes the case
            delivered = await step("clerk-e2e", "deliver", case_no)
            assert delivered["stage"] == "completed"
            assert delivered["closed_at"] is not None
            events = await _recorded(sessions, case_no, "CaseClosed")
            late = await cli("rv-ZRZY", "decide", case_no, "approve")
            program_env = env | {"APPROVAL_API_URL": url, "APPROVAL_TOKEN": tokens["clerk-e2e"]}
            final = await run_cli(program_env, "status", case_no, "--json")
    _assert_refused(late, "department", "自然资源和规划局")
    assert final.exited(0), final
    assert final.json()["stage"] == "completed"

    # ---- the store: the audit log and the written notices
    _assert_gapless(events, case_no)
    types = Counter(e.type for e in events)
    for once in (
        "ApplicationReceived",
        "OneTimeNoticeIssued",
        "SupplementReceived",
        "ApplicationAccepted",
        "CaseApproved",
        "CertificateIssued",
        "ResultDelivered",
        "CaseClosed",
    ):
        assert types[once] == 1, f"{once}: {types}"
    assert types["ReviewTaskDispatched"] == types["ReviewApproved"] == len(DEPARTMENTS)
    with sessions() as session:
        notices = notices_of(session, case_no)
    assert [n.kind for n in notices] == [
        "one_time_notice",
        "acceptance_voucher",
        "approval_decision",
        "certificate",
    ]
    assert [n.notice_no for n in notices] == _issued_notice_nos(events)
    one_time = notices[0].body
    assert "RFSJ" in one_time
    assert not any(code in one_time for code in ("SQB", "XMPZ", "SJFA"))


# ---- 2. a worker killed with SIGKILL in the middle of the review ------------------------


def _application(key: str) -> Application:
    materials = []
    for code in DEMANDED:
        digest = hashlib.sha256(f"{key}/{code}".encode()).hexdigest()
        materials.append(SubmittedMaterial(code=code, document_ref=f"doc:{digest}", sha256=digest))
    return Application(
        matter_code=MATTER,
        applicant=Applicant(name=APPLICANT, id_number=ID_NUMBER),
        materials=tuple(materials),
        idempotency_key=key,
    )


def _approval(department: str) -> Decide:
    reviewer = Actor(role=Role.REVIEWER, id=f"rv-{department}", department=department)
    return Decide(actor=reviewer, department=department, outcome=Outcome.APPROVE)


async def _pending_work(client: Client, case_no: str) -> tuple[bool, list[Any]]:
    """Whether a workflow task of the case is pending, and its pending activities."""
    raw = (await client.get_workflow_handle(case_no).describe()).raw_description
    return raw.HasField("pending_workflow_task"), list(raw.pending_activities)


async def _quiet(client: Client, case_nos: Iterable[str]) -> bool:
    """No case has a workflow task or an activity pending."""
    for case_no in case_nos:
        task, activities = await _pending_work(client, case_no)
        if task or activities:
            return False
    return True


async def _awaiting_retry(client: Client, case_nos: Iterable[str]) -> bool:
    """On every case the only pending work is one activity whose first attempt failed and
    whose next attempt is still at least 300 ms away (held by the server, not a worker)."""
    margin = datetime.now(UTC) + timedelta(milliseconds=300)
    for case_no in case_nos:
        task, activities = await _pending_work(client, case_no)
        if task or len(activities) != 1:
            return False
        activity = activities[0]
        if (
            activity.state != PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
            or activity.attempt < 2
            or activity.scheduled_time.ToDatetime(tzinfo=UTC) < margin
        ):
            return False
    return True


async def _kill_while_retry_pending(client: Client, running: Workers, case_nos: list[str]) -> str:
    """SIGKILL the running worker while the flaky department's message waits for its retry
    on ``case_nos``; if that moment is missed, once nothing is pending. Says which."""
    worker = running.started[-1]
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        if await _awaiting_retry(client, case_nos):
            worker.kill_hard()
            return "retry pending"
        await asyncio.sleep(0.01)
    await _eventually(partial(_quiet, client, case_nos), "no pending work before the kill")
    worker.kill_hard()
    return "quiet"


@pytest.mark.devserver
async def test_worker_killed_with_sigkill_cases_complete_without_duplicates(
    client: Client, tmp_path: Path, catalogue: Catalogue
) -> None:
    """Six JS-GHXK-001 cases survive a worker process killed with SIGKILL mid-review. Three
    cases have two approvals in; three are just accepted, their CGJ system (flaky: the first
    delivery fails) waiting for the retry of its task message. Decisions sent while no worker
    runs wait for one (they are not lost and not refused); a new worker process finishes the
    work, every case reaches awaiting_delivery, and the store holds each case's events
    numbered 1..n without gap, each notice once (one acceptance voucher, one approval
    decision), each department's task message once and each department's approval once."""
    queue = _queue("kill")
    env = _env(client, queue, tmp_path, CGJ="flaky")
    settings = Settings(
        temporal_address=_address(client),
        temporal_namespace=client.namespace,
        task_queue=queue,
        data_dir=tmp_path,
        holiday_override_path=tmp_path / "none.yaml",
    )
    sessions = _store(tmp_path)
    service = CaseService(client, settings, catalogue, sessions)

    async def approve(case_no: str, department: str) -> CaseStatus:
        return await service.act_and_read(case_no, _approval(department))

    async def accept(case_no: str) -> CaseStatus:
        return await service.act_and_read(case_no, Accept(actor=CLERK))

    with workers(env, tmp_path) as started:
        background: list[asyncio.Task[CaseStatus]] = []
        try:
            started.start()
            submissions = await asyncio.gather(
                *(
                    service.submit(_application(f"e2e-kill-{uuid.uuid4().hex}"), CLERK)
                    for _ in range(6)
                )
            )
            case_nos = [s.case_no for s in submissions]
            assert all(s.created for s in submissions)
            assert len(set(case_nos)) == 6
            early, late = case_nos[:3], case_nos[3:]

            # ---- before the crash: three cases accepted with two approvals, then three accepted
            for status in await asyncio.gather(*(accept(c) for c in early)):
                assert status.stage == "in_review"
            await asyncio.gather(*(approve(c, d) for c in early for d in ("ZRZY", "ZJJ")))
            await _eventually(partial(_quiet, client, early), "the first three cases settle")
            for status in await asyncio.gather(*(accept(c) for c in late)):
                assert status.stage == "in_review"
            how = await _kill_while_retry_pending(client, started, late)
            print(f"worker killed: {how}")

            # ---- while no worker runs: the decisions wait
            waiting = [asyncio.create_task(approve(c, "RFB")) for c in early] + [
                asyncio.create_task(approve(c, "ZRZY")) for c in late
            ]
            background += waiting
            restarted = started.start()
            await restarted.wait_started()
            early_answers = [t for t in waiting if t.done()]
            assert not early_answers, f"answered with no worker running: {early_answers}"

            # ---- the new worker takes over; the remaining departments approve
            rest = [asyncio.create_task(approve(c, "CGJ")) for c in early] + [
                asyncio.create_task(approve(c, d)) for c in late for d in ("ZJJ", "RFB", "CGJ")
            ]
            background += rest
            await asyncio.wait_for(asyncio.gather(*waiting, *rest), UPDATES_TIMEOUT_S)
            for case_no in case_nos:
                status = await service.status(case_no)
                assert status.stage == "awaiting_delivery", case_no
                assert status.decision is not None and status.decision.approved
                await _recorded(sessions, case_no, "CertificateIssued")
                await _told_the_decision(sessions, case_no)
            assert restarted.running(), restarted.log()
        finally:
            for task in background:
                task.cancel()

    # ---- the store: nothing twice, nothing missing
    with sessions() as session:
        for case_no in case_nos:
            events = events_of(session, case_no)
            _assert_gapless(events, case_no)
            issued = _issued_notice_nos(events)
            assert len(issued) == len(set(issued)), f"{case_no}: notices issued {issued}"
            notices = notices_of(session, case_no)
            assert [n.notice_no for n in notices] == issued
            kinds = Counter(n.kind for n in notices)
            assert kinds == {"acceptance_voucher": 1, "approval_decision": 1, "certificate": 1}
            approvals = Counter(
                e.payload["department"] for e in events if e.type == "ReviewApproved"
            )
            assert approvals == dict.fromkeys(DEPARTMENTS, 1), f"{case_no}: {approvals}"
            assert Counter(e.type for e in events)["CaseApproved"] == 1
            messages = Counter(
                (m.department, m.kind) for m in department_messages_of(session, case_no=case_no)
            )
            expected = {(d, k): 1 for d in DEPARTMENTS for k in ("task", "decision")}
            assert messages == expected, f"{case_no}: {messages}"
            row = case_row(session, case_no)
            assert row is not None
            assert row.stage == "awaiting_delivery"
            assert row.last_seq == events[-1].seq
