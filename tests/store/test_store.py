"""The store (approval.store): idempotent audit log and read model on a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from approval.domain.documents import Document
from approval.domain.events import (
    ApplicationAccepted,
    ApplicationReceived,
    CaseEvent,
    NoticeIssued,
    ReceivedPeriods,
    ReviewRejected,
)
from approval.domain.models import CASE_NUMBER_PATTERN, ENGINE, Actor, Role
from approval.domain.notices import Notice, NoticeKind
from approval.domain.state import Decision, Stage, TaskState
from approval.domain.status import CaseStatus, ClockStatus, Light, TaskStatus
from approval.store.audit_log import events_of, notices_of
from approval.store.database import (
    create_schema,
    insert_ignoring_duplicates,
    make_engine,
    make_session_factory,
)
from approval.store.department_messages import department_messages_of, record_department_message
from approval.store.numbering import allocate_case_number
from approval.store.queries import case_row, task_rows
from approval.store.recording import record_case
from approval.store.schema import Base, CaseEventRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE_NO = "371600-20261128-000001"
RECEIVED = datetime(2026, 11, 28, 9, 30, tzinfo=SHANGHAI)
CLERK = Actor(role=Role.CLERK, id="clerk-01")
REVIEWER = Actor(role=Role.REVIEWER, id="rev-07", department="SCJGJ")
CASE_EVENTS = Base.metadata.tables["case_events"]


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """A fresh store with the schema, on each backend (conftest's ``store_url``): a SQLite
    file in a directory the engine has to create, or a PostgreSQL schema of the test's own."""
    engine = make_engine(store_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on the test database."""
    return make_session_factory(engine)


KEY = b"test-audit-key"


def clock(last_day: date, *, provisional: bool = False) -> ClockStatus:
    """A running clock ending on ``last_day``."""
    due = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), SHANGHAI)
    return ClockStatus(
        period_wd=20,
        due=due,
        last_day=last_day,
        provisional=provisional,
        remaining_wd=10,
        stopped=False,
        light=Light.GREEN,
    )


def task(department: str, state: TaskState, **fields: Any) -> TaskStatus:
    """One department's task status, pending with no decision unless ``fields`` say so."""
    values: dict[str, Any] = {
        "department": department,
        "name": f"{department} 审查",
        "state": state,
        "round": 1,
        "clock": None,
        "overdue": False,
        "escalated": False,
        "decided_by": None,
        "decided_at": None,
        "reasons": None,
        "requested_items": [],
        **fields,
    }
    return TaskStatus(**values)


def status(stage: Stage, as_of: datetime, tasks: list[TaskStatus], **fields: Any) -> CaseStatus:
    """The status of the test case at ``as_of``."""
    values: dict[str, Any] = {
        "case_no": CASE_NO,
        "matter_code": "FOOD-LIC",
        "matter_name": "食品经营许可",
        "catalogue_version": "2026.1",
        "applicant_name": "滨州市鲁北餐饮有限公司",
        "stage": stage,
        "as_of": as_of,
        "received_at": RECEIVED,
        "accepted_at": RECEIVED,
        "accepted_as_of": RECEIVED,
        "deemed_accepted": False,
        "missing_materials": [],
        "open_notice_items": [],
        "supplement_due": None,
        "intake_clock": None,
        "case_clock": clock(date(2026, 12, 28), provisional=True),
        "delivery_clock": None,
        "case_overdue": False,
        "extended": False,
        "tasks": tasks,
        "decision": None,
        "certificate_no": None,
        "closed_at": None,
        "provisional": True,
        **fields,
    }
    return CaseStatus(**values)


def in_review() -> CaseStatus:
    """The case accepted and under review by two departments (snapshot at seq 3)."""
    return status(
        Stage.IN_REVIEW,
        RECEIVED + timedelta(minutes=10),
        [
            task("SCJGJ", TaskState.PENDING, clock=clock(date(2026, 12, 10))),
            task("XFJY", TaskState.PENDING, clock=clock(date(2026, 12, 11))),
        ],
    )


def decided() -> CaseStatus:
    """The case approved by both departments (snapshot at seq 6)."""
    at = RECEIVED + timedelta(days=5)
    return status(
        Stage.AWAITING_DELIVERY,
        at,
        [
            task("SCJGJ", TaskState.APPROVED, decided_by="rev-07", decided_at=at),
            task("XFJY", TaskState.DEEMED_APPROVED, overdue=True),
        ],
        case_clock=None,
        provisional=False,
        decision=Decision(approved=True, decided_at=at, deemed_departments=("XFJY",)),
    )


def first_events() -> list[CaseEvent]:
    """Receipt, acceptance and the acceptance voucher: events 1 to 3."""
    accepted = RECEIVED + timedelta(minutes=10)
    notice = Notice(
        notice_no=f"{CASE_NO}-N01",
        kind=NoticeKind.ACCEPTANCE_VOUCHER,
        case_no=CASE_NO,
        matter_code="JS-SGXK-001",
        matter_name="建筑工程施工许可证核发",
        applicant_name="示例建设有限公司",
        issued_at=accepted,
    )
    periods = ReceivedPeriods(
        notice_wd=5,
        supplement_days=30,
        committed_wd=10,
        statutory_wd=20,
        extension_wd=15,
        delivery_wd=10,
        silent_consent=True,
        reviews={"XFJY": 5},
    )
    return [
        ApplicationReceived(
            seq=1,
            at=RECEIVED,
            actor=CLERK,
            matter_code="JS-SGXK-001",
            catalogue_version="2026.11-demo",
            periods=periods,
            materials=("M01",),
            missing=(),
        ),
        ApplicationAccepted(
            seq=2,
            at=accepted,
            actor=CLERK,
            as_of=accepted,
            due=date(2026, 3, 16),
            provisional=False,
        ),
        NoticeIssued(seq=3, at=accepted, actor=ENGINE, notice=notice),
    ]


def voucher() -> Document:
    """The acceptance voucher issued by event 3."""
    return Document(
        notice_no=f"{CASE_NO}-N01",
        kind=NoticeKind.ACCEPTANCE_VOUCHER,
        title="受理通知书",
        body="滨州市鲁北餐饮有限公司：\n你单位申请的食品经营许可，本中心已受理。",
    )


def test_recording_the_same_batch_twice_stores_each_event_and_notice_once(
    factory: sessionmaker[Session],
) -> None:
    """R23: a retried record_case writes no event and no notice twice."""
    for _ in range(2):
        with factory.begin() as session:
            record_case(
                session,
                key=KEY,
                case_no=CASE_NO,
                events=first_events(),
                status=in_review(),
                last_seq=3,
                documents=[voucher()],
            )
    with factory() as session:
        events = events_of(session, CASE_NO)
        notices = notices_of(session, CASE_NO)
        tasks = task_rows(session, CASE_NO)
    assert [(e.seq, e.type) for e in events] == [
        (1, "ApplicationReceived"),
        (2, "ApplicationAccepted"),
        (3, "NoticeIssued"),
    ]
    assert [n.notice_no for n in notices] == [f"{CASE_NO}-N01"]
    assert notices[0].issued_at == RECEIVED + timedelta(minutes=10)
    assert notices[0].body == voucher().body
    assert [(t.department, t.state) for t in tasks] == [("SCJGJ", "pending"), ("XFJY", "pending")]


def test_read_model_reflects_the_status(factory: sessionmaker[Session]) -> None:
    """The cases and review_tasks rows carry the stage, deadlines, decision and flags."""
    with factory.begin() as session:
        record_case(
            session,
            key=KEY,
            case_no=CASE_NO,
            events=first_events(),
            status=in_review(),
            last_seq=3,
            documents=[],
        )
    with factory() as session:
        case = case_row(session, CASE_NO)
        tasks = task_rows(session, CASE_NO)
    assert case is not None
    assert (case.stage, case.last_seq) == ("in_review", 3)
    assert (case.approved, case.decided_at) == (None, None)
    assert case.case_last_day == date(2026, 12, 28)
    assert case.provisional is True
    assert tasks[0].last_day == date(2026, 12, 10)
    assert tasks[0].due_at == datetime(2026, 12, 11, tzinfo=SHANGHAI)


def test_an_older_snapshot_does_not_overwrite_a_newer_one(factory: sessionmaker[Session]) -> None:
    """R23: a late retry of the seq-3 snapshot after the seq-6 one leaves the read model at 6."""
    with factory.begin() as session:
        record_case(
            session,
            key=KEY,
            case_no=CASE_NO,
            events=first_events(),
            status=decided(),
            last_seq=6,
            documents=[],
        )
    with factory.begin() as session:
        record_case(
            session,
            key=KEY,
            case_no=CASE_NO,
            events=first_events(),
            status=in_review(),
            last_seq=3,
            documents=[voucher()],
        )
        case = case_row(session, CASE_NO)
        tasks = task_rows(session, CASE_NO)
    assert case is not None
    assert (case.stage, case.last_seq, case.approved) == ("awaiting_delivery", 6, True)
    assert case.decided_at == RECEIVED + timedelta(days=5)
    assert case.case_last_day is None
    assert [(t.department, t.state, t.last_seq) for t in tasks] == [
        ("SCJGJ", "approved", 6),
        ("XFJY", "deemed_approved", 6),
    ]
    assert tasks[0].decided_by == "rev-07"
    assert tasks[1].overdue is True


def test_a_newer_snapshot_replaces_an_older_one(factory: sessionmaker[Session]) -> None:
    """The read model follows the case forward: seq 6 replaces seq 3."""
    for snapshot, seq in ((in_review(), 3), (decided(), 6)):
        with factory.begin() as session:
            record_case(
                session,
                key=KEY,
                case_no=CASE_NO,
                events=[],
                status=snapshot,
                last_seq=seq,
                documents=[],
            )
    with factory() as session:
        case = case_row(session, CASE_NO)
    assert case is not None
    assert (case.stage, case.last_seq, case.approved) == ("awaiting_delivery", 6, True)


def test_the_same_idempotency_key_gets_the_same_case_number(
    factory: sessionmaker[Session],
) -> None:
    """R23: a resubmission with the same key is not numbered again (created=False)."""
    now = datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI)
    numbered = []
    for _ in range(2):
        with factory.begin() as session:
            numbered.append(
                allocate_case_number(
                    session,
                    region_code="371600",
                    day=date(2026, 11, 28),
                    idempotency_key="window-01:0001",
                    matter_code="FOOD-LIC",
                    now=now,
                )
            )
    assert numbered == [("371600-20261128-000001", True), ("371600-20261128-000001", False)]


def test_different_keys_on_one_day_are_numbered_in_sequence(
    factory: sessionmaker[Session],
) -> None:
    """New keys get -000001, -000002 for the same region and day; another day starts again."""
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    day, next_day = date(2026, 11, 28), date(2026, 11, 29)
    calls = [("k-0001", day), ("k-0002", day), ("k-0003", next_day)]
    with factory.begin() as session:
        numbers = [
            allocate_case_number(
                session,
                region_code="371600",
                day=day,
                idempotency_key=key,
                matter_code="FOOD-LIC",
                now=now,
            )[0]
            for key, day in calls
        ]
    assert numbers == [
        "371600-20261128-000001",
        "371600-20261128-000002",
        "371600-20261129-000001",
    ]
    assert all(re.fullmatch(CASE_NUMBER_PATTERN, n) for n in numbers)


def test_a_region_code_must_be_six_digits(factory: sessionmaker[Session]) -> None:
    """A malformed region code would give a number outside the pattern: refused."""
    with factory.begin() as session, pytest.raises(ValueError, match="region_code"):
        allocate_case_number(
            session,
            region_code="3716",
            day=date(2026, 11, 28),
            idempotency_key="k-0001",
            matter_code="FOOD-LIC",
            now=datetime(2026, 11, 28, tzinfo=UTC),
        )


def test_department_messages_recorded_twice_are_stored_once(
    factory: sessionmaker[Session],
) -> None:
    """R23: a department receives each task, supplement or cancel message once per round."""
    at = RECEIVED + timedelta(minutes=11)
    calls = [("SCJGJ", "task", 1), ("SCJGJ", "task", 1), ("XFJY", "task", 1), ("SCJGJ", "task", 2)]
    with factory.begin() as session:
        fresh = [
            record_department_message(
                session,
                department=dept,
                case_no=CASE_NO,
                kind=kind,
                round=round_,
                received_at=at,
                payload={"matter": "食品经营许可"},
            )
            for dept, kind, round_ in calls
        ]
    with factory() as session:
        scjgj = department_messages_of(session, department="SCJGJ", case_no=CASE_NO)
        every = department_messages_of(session)
    assert fresh == [True, False, True, True]
    assert [(m.department, m.round) for m in scjgj] == [("SCJGJ", 1), ("SCJGJ", 2)]
    assert len(every) == 3


def test_an_unknown_message_kind_is_refused(factory: sessionmaker[Session]) -> None:
    """Departments receive tasks, supplements and cancellations only."""
    with factory.begin() as session, pytest.raises(ValueError):
        record_department_message(
            session,
            department="SCJGJ",
            case_no=CASE_NO,
            kind="gossip",
            round=1,
            received_at=RECEIVED,
            payload={},
        )


# SQLite only for now: PostgreSQL's driver hands a json column back parsed, so the raw check
# below would need `SELECT CAST(payload AS TEXT)` to run there.
@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_json_payloads_with_chinese_text_round_trip(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    """Chinese text in event and message payloads is read back unchanged and stored readable."""
    data = {"reasons": "疏散通道宽度不足；消防验收意见书缺失。", "items": [{"code": "M03"}]}
    event = ReviewRejected(
        seq=1, at=RECEIVED, actor=REVIEWER, department="SCJGJ", reasons=str(data["reasons"])
    )
    with factory.begin() as session:
        record_case(
            session,
            key=KEY,
            case_no=CASE_NO,
            events=[event],
            status=in_review(),
            last_seq=1,
            documents=[],
        )
        record_department_message(
            session,
            department="SCJGJ",
            case_no=CASE_NO,
            kind="supplement",
            round=1,
            received_at=RECEIVED,
            payload=data,
        )
    with factory() as session:
        [stored] = events_of(session, CASE_NO)
        [message] = department_messages_of(session, case_no=CASE_NO)
    assert stored.payload == {"department": "SCJGJ", "reasons": data["reasons"]}
    assert message.payload == data
    actor = (stored.actor_role, stored.actor_id, stored.actor_department)
    assert actor == ("reviewer", "rev-07", "SCJGJ")
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT payload FROM case_events")).scalar_one()
    assert "疏散通道" in raw


def test_timestamps_are_read_back_aware_in_utc(factory: sessionmaker[Session]) -> None:
    """SQLite keeps no offset: a Beijing time is stored in UTC and read back aware in UTC."""
    with factory.begin() as session:
        record_case(
            session,
            key=KEY,
            case_no=CASE_NO,
            events=first_events(),
            status=in_review(),
            last_seq=3,
            documents=[],
        )
    with factory() as session:
        [first, *_] = events_of(session, CASE_NO)
    assert first.occurred_at == RECEIVED
    assert first.occurred_at.tzinfo is UTC
    assert first.occurred_at.hour == 1


def test_naive_timestamps_are_refused(factory: sessionmaker[Session]) -> None:
    """A naive datetime has no defined instant and is never stored."""
    row = {
        "case_no": CASE_NO,
        "seq": 1,
        "type": "X",
        "occurred_at": datetime(2026, 11, 28, 9, 30),
        "actor_role": "system",
        "actor_id": "engine",
        "actor_department": None,
        "payload": {},
    }
    with factory.begin() as session, pytest.raises(StatementError, match="timezone-aware"):
        insert_ignoring_duplicates(session, CaseEventRow, [row])


def test_insert_ignoring_duplicates_counts_the_new_rows(factory: sessionmaker[Session]) -> None:
    """R23: the count says how many rows were new; the repeated ones are skipped."""

    def row(seq: int) -> dict[str, Any]:
        return {
            "case_no": CASE_NO,
            "seq": seq,
            "type": "X",
            "occurred_at": RECEIVED,
            "actor_role": "system",
            "actor_id": "engine",
            "actor_department": None,
            "payload": {},
            "prev_hash": "0" * 64,
            "hash": f"{seq:064d}",
        }

    with factory.begin() as session:
        first = insert_ignoring_duplicates(session, CaseEventRow, [row(1), row(2)])
        second = insert_ignoring_duplicates(session, CASE_EVENTS, [row(2), row(3)])
        none = insert_ignoring_duplicates(session, CaseEventRow, [])
    assert (first, second, none) == (2, 1, 0)


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_sqlite_connections_use_wal_and_foreign_keys(engine: Engine) -> None:
    """Every SQLite connection runs in WAL mode with foreign keys and a busy timeout."""
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 5000
