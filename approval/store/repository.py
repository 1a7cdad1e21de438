"""Writing and reading the store: the audit log and the read model, written idempotently.

A retried activity may record the same events, notices, case numbers or department messages
again; every write here is an INSERT … ON CONFLICT DO NOTHING or a guarded upsert, so nothing
is ever stored twice and an older snapshot never overwrites a newer one (R23).

Sessions belong to the caller: no function here commits (but for the one-time upgrade of a
legacy token hash, in a transaction of its own). Use them as::

    with factory.begin() as session:
        record_case(session, ...)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, Engine, Table, create_engine, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from approval.config import get_settings
from approval.domain.audit import GENESIS, canonical_body, chain_hash
from approval.domain.documents import Document
from approval.domain.events import CaseEvent, NoticeIssued, as_events
from approval.domain.status import CaseStatus, TaskStatus
from approval.store.migrations import migrate
from approval.store.schema import (
    ApiTokenRow,
    Base,
    CaseEventRow,
    CaseRow,
    DepartmentMessageRow,
    MessageKind,
    NoticeRow,
    ReviewTaskRow,
    SubmissionRow,
    UserRow,
)

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
)
"""WAL with ``synchronous=NORMAL``: a commit survives a crash of the process; a power loss
may undo the last commits, which ``auditor.py rebuild`` restores from the Temporal histories
(the store is the record's projection; the case itself lives in Temporal). It makes a step's
write 2-4 times faster (bench/PROFILE.md)."""
SQLITE_OPEN_ATTEMPTS = 100
"""Tries (50 ms apart) to open a new SQLite file while another process switches it to WAL."""
ROWS_PER_STATEMENT = 500
"""Rows per multi-row INSERT: well under the bound-parameter limits of SQLite and PostgreSQL."""
NUMBERING_ATTEMPTS = 3
"""Tries to number a submission when a concurrent transaction takes the number first."""
REGION_CODE = re.compile(r"\d{6}")
MAX_DAILY_SEQ = 999_999

DialectInsert = sqlite.Insert | postgresql.Insert

log = structlog.get_logger(__name__)


# ---- engine and sessions ---------------------------------------------------------------------


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite or PostgreSQL). Every statement's row count is kept, so
    that an INSERT reports how many rows it added on every driver (psycopg's is gone once the
    cursor closes). For SQLite: the file's directory is created, and every connection runs in
    WAL mode with a 5 s busy timeout and foreign keys on, usable from any thread."""
    parsed = make_url(url)
    options: dict[str, Any] = {
        "json_serializer": _json_dumps,
        "execution_options": {"preserve_rowcount": True},
    }
    if parsed.get_backend_name() != "sqlite":
        # A connection of the pool is tested before use: after the database server restarts,
        # the first request finds a fresh connection instead of failing on a dead one.
        return create_engine(parsed, pool_pre_ping=True, **options)
    _create_parent_dir(parsed.database)
    engine = create_engine(parsed, connect_args={"check_same_thread": False}, **options)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    if parsed.database and parsed.database != ":memory:":
        # Processes opening a new file at once race to switch it to WAL, and SQLite answers the
        # loser "database is locked" without waiting: connect once now, retrying, so that the
        # file is in WAL mode (which stays) before anything else runs on it.
        for attempt in range(1, SQLITE_OPEN_ATTEMPTS + 1):
            try:
                engine.connect().close()
                break
            except OperationalError as error:
                if "locked" not in str(error) or attempt == SQLITE_OPEN_ATTEMPTS:
                    raise
                time.sleep(0.05)
    return engine


def create_schema(engine: Engine) -> None:
    """Bring the store's schema to the newest migration (approval.store.migrations): a new
    database gets every table, an older one its missing revisions, and one made before
    migrations existed is stamped at the baseline and upgraded."""
    migrate(engine)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine``; rows stay readable after the caller's transaction ends."""
    return sessionmaker(engine, expire_on_commit=False)


def _json_dumps(value: Any) -> str:
    """JSON that keeps Chinese text readable in the database."""
    return json.dumps(value, ensure_ascii=False)


def _create_parent_dir(database: str | None) -> None:
    """Create the directory of a SQLite database file (not for in-memory or URI databases)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _set_sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    """Run the SQLite pragmas on a new DBAPI connection."""
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


# ---- idempotent inserts ----------------------------------------------------------------------


def insert_ignoring_duplicates(
    session: Session, table: Table | type[Base], rows: list[dict[str, Any]]
) -> int:
    """INSERT ``rows`` into ``table``, skipping any row that collides with a primary key or a
    unique constraint (ON CONFLICT DO NOTHING). Returns how many rows were inserted.

    Every row must have the same keys. Works on SQLite and PostgreSQL.
    """
    stmt = _dialect_insert(session, _table_of(table)).on_conflict_do_nothing()
    # The rows go as parameters of one statement (executemany), not into it as a multi-row
    # VALUES: SQLAlchemy compiles a multi-row VALUES anew at every call, a parametrised
    # statement once (its cache), which profiling the store activity showed to matter.
    return sum(_rowcount(session.execute(stmt, chunk)) for chunk in _chunks(rows))


def _upsert_if_newer(
    session: Session, table: Table | type[Base], rows: list[dict[str, Any]], keys: Sequence[str]
) -> None:
    """INSERT ``rows``; on a key conflict overwrite the stored row only when the new row's
    ``last_seq`` is at least the stored one, so a late retry cannot roll the read model back."""
    target = _table_of(table)
    stmt = _dialect_insert(session, target)
    excluded = stmt.excluded
    updates = {c.name: excluded[c.name] for c in target.columns if c.name not in keys}
    upsert = stmt.on_conflict_do_update(
        index_elements=list(keys), set_=updates, where=target.c.last_seq <= excluded.last_seq
    )
    for chunk in _chunks(rows):
        session.execute(upsert, chunk)  # parameters, not VALUES: compiled once (see above)


def _dialect_insert(session: Session, table: Table) -> DialectInsert:
    """The INSERT construct of the session's dialect, which knows ON CONFLICT."""
    name = session.get_bind().dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"{name}: the store supports SQLite and PostgreSQL only")


def _table_of(table: Table | type[Base]) -> Table:
    """The Table of an ORM class (or the Table itself)."""
    if isinstance(table, Table):
        return table
    mapped = table.__table__
    if not isinstance(mapped, Table):
        raise TypeError(f"{table.__name__} is not mapped to a table")
    return mapped


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """``rows`` in slices of at most ROWS_PER_STATEMENT."""
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        yield rows[start : start + ROWS_PER_STATEMENT]


def _rowcount(result: Any) -> int:
    """Rows affected by a DML statement."""
    return cast(CursorResult[Any], result).rowcount


# ---- case numbers ----------------------------------------------------------------------------


def allocate_case_number(
    session: Session,
    *,
    region_code: str,
    day: date,
    idempotency_key: str,
    matter_code: str,
    now: datetime,
) -> tuple[str, bool]:
    """The case number of the submission with ``idempotency_key``: ``(case_no, created)``.

    A key seen before gets its existing number and ``created=False`` (R23). A new key gets
    ``{region_code}-{day:%Y%m%d}-{seq:06d}``, seq being 1 + the submissions already numbered
    for that region and day. Raises ValueError for a region code that is not six digits or
    when the day's numbers are exhausted.
    """
    if not REGION_CODE.fullmatch(region_code):
        raise ValueError(f"region_code: {region_code!r} is not six digits")
    existing = _case_no_for_key(session, idempotency_key)
    if existing is not None:
        return existing, False
    prefix = f"{region_code}-{day:%Y%m%d}-"
    for _ in range(NUMBERING_ATTEMPTS):
        case_no = _next_case_no(session, prefix)
        row = {
            "idempotency_key": idempotency_key,
            "case_no": case_no,
            "matter_code": matter_code,
            "created_at": now,
        }
        if insert_ignoring_duplicates(session, SubmissionRow, [row]):
            return case_no, True
        existing = _case_no_for_key(session, idempotency_key)
        if existing is not None:  # a concurrent retry of the same submission won
            return existing, False
    raise RuntimeError(f"{prefix}: could not number the submission {idempotency_key!r}")


def _case_no_for_key(session: Session, idempotency_key: str) -> str | None:
    """The case number already given to ``idempotency_key``, if any."""
    stmt = select(SubmissionRow.case_no).where(SubmissionRow.idempotency_key == idempotency_key)
    return session.scalars(stmt).one_or_none()


def _next_case_no(session: Session, prefix: str) -> str:
    """The next free case number under ``prefix`` (region and day)."""
    stmt = (
        select(func.count())
        .select_from(SubmissionRow)
        .where(SubmissionRow.case_no.startswith(prefix, autoescape=True))
    )
    seq = session.scalars(stmt).one() + 1
    if seq > MAX_DAILY_SEQ:
        raise ValueError(f"{prefix}: no case numbers left for this region and day")
    return f"{prefix}{seq:06d}"


# ---- recording a case ------------------------------------------------------------------------


def record_case(
    session: Session,
    *,
    key: bytes,
    case_no: str,
    events: Sequence[CaseEvent],
    status: CaseStatus,
    last_seq: int,
    documents: Sequence[Document],
) -> None:
    """Record a case's new events and notices, and its status in the read model (R23).

    Events and notices already stored are skipped, so a retry writes nothing twice. The
    ``cases`` and ``review_tasks`` rows are replaced only when ``last_seq`` is at least the
    stored one. A notice's ``issued_at`` is the time of the NoticeIssued event for it in
    ``events``, or ``status.as_of`` when the batch has no such event.
    """
    record_events(
        session, key=key, case_no=case_no, events=events, documents=documents, now=status.as_of
    )
    _upsert_if_newer(session, CaseRow, [_case_row(status, last_seq)], keys=("case_no",))
    tasks = [_task_row(case_no, t, last_seq) for t in status.tasks]
    _upsert_if_newer(session, ReviewTaskRow, tasks, keys=("case_no", "department"))


def record_events(
    session: Session,
    *,
    key: bytes,
    case_no: str,
    events: Sequence[CaseEvent],
    documents: Sequence[Document],
    now: datetime,
) -> None:
    """Record events, hash-chained under ``key`` (R21), and the documents of their notices,
    skipping any already stored (R23). A notice is dated by its NoticeIssued event in
    ``events``, else ``now``."""
    insert_ignoring_duplicates(session, CaseEventRow, _chained_rows(session, key, case_no, events))
    issued = _issue_times(events)
    notice_rows = [_notice_row(case_no, d, issued.get(d.notice_no, now)) for d in documents]
    insert_ignoring_duplicates(session, NoticeRow, notice_rows)


def typed(row: CaseEventRow) -> CaseEvent:
    """A stored event as its typed class (approval.domain.events)."""
    (event,) = as_events([row])
    return event


def next_seq(session: Session, case_no: str) -> int:
    """The sequence number the case's next event will have."""
    last = session.scalar(select(func.max(CaseEventRow.seq)).where(CaseEventRow.case_no == case_no))
    return (last or 0) + 1


def _hash_before(session: Session, case_no: str, seq: int) -> str:
    """The hash of the event before ``seq`` (the genesis value before the first)."""
    if seq == 1:
        return GENESIS
    query = select(CaseEventRow.hash).where(
        CaseEventRow.case_no == case_no, CaseEventRow.seq == seq - 1
    )
    found = session.scalar(query)
    if found is None:
        raise LookupError(f"{case_no}: event {seq - 1} is not recorded yet; cannot chain {seq}")
    return found


def _chained_rows(
    session: Session, key: bytes, case_no: str, events: Sequence[CaseEvent]
) -> list[dict[str, Any]]:
    """The audit-log rows of consecutive events, each linked to the one before (R21)."""
    if not events:
        return []
    prev = _hash_before(session, case_no, events[0].seq)
    rows = []
    for case_event in events:
        row = _event_row(case_no, case_event)
        row["prev_hash"] = prev
        body = canonical_body(
            case_no=case_no,
            seq=case_event.seq,
            type_=case_event.type,
            at=case_event.at,
            actor_role=row["actor_role"],
            actor_id=row["actor_id"],
            actor_department=row["actor_department"],
            payload=row["payload"],
        )
        row["hash"] = prev = chain_hash(key, prev, body)
        rows.append(row)
    return rows


def _event_row(case_no: str, case_event: CaseEvent) -> dict[str, Any]:
    """The audit-log row of one event; the payload is the event's data as JSON."""
    return {
        "case_no": case_no,
        "seq": case_event.seq,
        "type": case_event.type,
        "occurred_at": case_event.at,
        "actor_role": case_event.actor.role.value,
        "actor_id": case_event.actor.id,
        "actor_department": case_event.actor.department,
        "payload": case_event.payload(),
    }


def _issue_times(events: Sequence[CaseEvent]) -> dict[str, datetime]:
    """When each notice in ``events`` was issued, by notice number."""
    return {e.notice.notice_no: e.at for e in events if isinstance(e, NoticeIssued)}


def _notice_row(case_no: str, document: Document, issued_at: datetime) -> dict[str, Any]:
    """The stored form of one rendered notice."""
    return {
        "notice_no": document.notice_no,
        "case_no": case_no,
        "kind": document.kind.value,
        "title": document.title,
        "body": document.body,
        "issued_at": issued_at,
    }


def _case_row(status: CaseStatus, last_seq: int) -> dict[str, Any]:
    """The read-model row of a case."""
    decision, clock = status.decision, status.case_clock
    return {
        "case_no": status.case_no,
        "matter_code": status.matter_code,
        "matter_name": status.matter_name,
        "applicant_name": status.applicant_name,
        "catalogue_version": status.catalogue_version,
        "stage": status.stage.value,
        "received_at": status.received_at,
        "accepted_at": status.accepted_at,
        "decided_at": decision.decided_at if decision else None,
        "approved": decision.approved if decision else None,
        "case_last_day": clock.last_day if clock else None,
        "provisional": status.provisional,
        "overdue": status.case_overdue,
        "last_seq": last_seq,
        "updated_at": status.as_of,
    }


def _task_row(case_no: str, task: TaskStatus, last_seq: int) -> dict[str, Any]:
    """The read-model row of a review task; the deadline is that of its running clock."""
    clock = task.clock
    return {
        "case_no": case_no,
        "department": task.department,
        "name": task.name,
        "state": task.state.value,
        "round": task.round,
        "due_at": clock.due if clock else None,
        "last_day": clock.last_day if clock else None,
        "provisional": bool(clock and clock.provisional),
        "period_wd": clock.period_wd if clock else None,
        "overdue": task.overdue,
        "escalated": task.escalated,
        "decided_by": task.decided_by,
        "decided_at": task.decided_at,
        "last_seq": last_seq,
    }


# ---- department messages ---------------------------------------------------------------------


def record_department_message(
    session: Session,
    *,
    department: str,
    case_no: str,
    kind: str,
    round: int,
    received_at: datetime,
    payload: dict[str, Any],
) -> bool:
    """Record what a department's system received; True when it was new, False for a
    repeat of the same department, case, kind (task, supplement, cancel) and round (R23)."""
    row = {
        "department": department,
        "case_no": case_no,
        "kind": MessageKind(kind).value,
        "round": round,
        "received_at": received_at,
        "payload": payload,
    }
    return insert_ignoring_duplicates(session, DepartmentMessageRow, [row]) == 1


# ---- readers ---------------------------------------------------------------------------------


# The writers above go through Core, past the session's identity map: every reader asks for
# `populate_existing` so that rows loaded earlier in the same session are refreshed.
FRESH = {"populate_existing": True}


def events_of(session: Session, case_no: str) -> list[CaseEventRow]:
    """The audit log of a case, in event order."""
    stmt = select(CaseEventRow).where(CaseEventRow.case_no == case_no).order_by(CaseEventRow.seq)
    return list(session.scalars(stmt.execution_options(**FRESH)))


def notices_of(session: Session, case_no: str) -> list[NoticeRow]:
    """The notices issued on a case, by notice number."""
    stmt = select(NoticeRow).where(NoticeRow.case_no == case_no).order_by(NoticeRow.notice_no)
    return list(session.scalars(stmt.execution_options(**FRESH)))


def case_row(session: Session, case_no: str) -> CaseRow | None:
    """The read-model row of a case, or None if it was never recorded."""
    stmt = select(CaseRow).where(CaseRow.case_no == case_no)
    return session.scalars(stmt.execution_options(**FRESH)).one_or_none()


def task_rows(session: Session, case_no: str) -> list[ReviewTaskRow]:
    """The review tasks of a case, by department code."""
    stmt = (
        select(ReviewTaskRow)
        .where(ReviewTaskRow.case_no == case_no)
        .order_by(ReviewTaskRow.department)
    )
    return list(session.scalars(stmt.execution_options(**FRESH)))


def department_messages_of(
    session: Session, *, department: str | None = None, case_no: str | None = None
) -> list[DepartmentMessageRow]:
    """The messages departments received, oldest first, optionally for one department
    and/or one case."""
    stmt = select(DepartmentMessageRow).order_by(DepartmentMessageRow.id)
    if department is not None:
        stmt = stmt.where(DepartmentMessageRow.department == department)
    if case_no is not None:
        stmt = stmt.where(DepartmentMessageRow.case_no == case_no)
    return list(session.scalars(stmt.execution_options(**FRESH)))


def case_known(session: Session, case_no: str) -> bool:
    """Whether ``case_no`` was ever handed out (accepted or not)."""
    stmt = select(SubmissionRow.case_no).where(SubmissionRow.case_no == case_no)
    return session.scalars(stmt).one_or_none() is not None


def has_task(session: Session, case_no: str, department: str) -> bool:
    """Whether ``department`` has a review task on the case (any state)."""
    stmt = select(ReviewTaskRow.case_no).where(
        ReviewTaskRow.case_no == case_no, ReviewTaskRow.department == department
    )
    return session.scalars(stmt.execution_options(**FRESH)).first() is not None


def department_inbox(
    session: Session, department: str, states: Sequence[str], *, limit: int, offset: int
) -> tuple[int, list[tuple[ReviewTaskRow, CaseRow]]]:
    """A department's review tasks in ``states`` with their cases, earliest deadline first:
    ``(total, page)``. The page's case numbers are chosen from the inbox index alone, then
    joined to their rows (bench/README.md, Inbox query)."""
    where = (ReviewTaskRow.department == department, ReviewTaskRow.state.in_(list(states)))
    total = session.scalar(select(func.count()).select_from(ReviewTaskRow).where(*where)) or 0
    deadline_order = (ReviewTaskRow.due_at.is_(None), ReviewTaskRow.due_at, ReviewTaskRow.case_no)
    page = (
        select(ReviewTaskRow.case_no)
        .where(*where)
        .order_by(*deadline_order)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    stmt = (
        select(ReviewTaskRow, CaseRow)
        .join(page, page.c.case_no == ReviewTaskRow.case_no)
        .join(CaseRow, CaseRow.case_no == ReviewTaskRow.case_no)
        .where(ReviewTaskRow.department == department)
        .order_by(*deadline_order)
    )
    rows = session.execute(stmt.execution_options(**FRESH)).all()
    return total, [(task, case) for task, case in rows]


# ---- users and tokens (R22) ------------------------------------------------------------------

TOKEN_BYTES = 32


def hash_token(token: str, key: bytes | None = None) -> str:
    """The stored form of a bearer token: HMAC-SHA256 under the server's token key (``key``,
    by default this process's: Settings.token_key_bytes), hex. A copy of the store alone does
    not let anyone test a guessed token, nor a row written into it make one."""
    secret = get_settings().token_key_bytes if key is None else key
    return hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()


def legacy_token_hash(token: str) -> str:
    """The form tokens were stored in before they were keyed: the bare SHA-256, hex. Such a
    row still authenticates, once, and is then re-stored keyed (user_by_token)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session, *, name: str, role: str, department: str | None, active: bool = True
) -> UserRow:
    """Add a user; ValueError when the name is taken."""
    if session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none() is not None:
        raise ValueError(f"name: user {name!r} exists already")
    user = UserRow(name=name, role=role, department=department, active=active)
    session.add(user)
    session.flush()
    return user


def user_by_name(session: Session, name: str) -> UserRow | None:
    """The user called ``name``, if any."""
    return session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()


def issue_token(session: Session, user_id: int, now: datetime, *, key: bytes | None = None) -> str:
    """A new bearer token for the user. Only its keyed hash is stored (hash_token): the token
    returned here is the only copy."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(ApiTokenRow(token_hash=hash_token(token, key), user_id=user_id, created_at=now))
    session.flush()
    return token


def create_users_with_tokens(
    session: Session, accounts: Iterable[tuple[str, str, str | None]], now: datetime
) -> dict[str, str]:
    """Create each ``(name, role, department)`` user with a new bearer token: name → token."""
    return {
        name: issue_token(
            session, create_user(session, name=name, role=role, department=department).id, now
        )
        for name, role, department in accounts
    }


def user_by_token(session: Session, token: str, *, key: bytes | None = None) -> UserRow | None:
    """The active user a bearer token belongs to, or None. A token stored in the legacy form
    (bare SHA-256) authenticates too, and its row is re-stored in the keyed form at once, so
    that no existing user is locked out by the change and the legacy form does not last."""
    keyed, legacy = hash_token(token, key), legacy_token_hash(token)
    stmt = (
        select(UserRow, ApiTokenRow.token_hash)
        .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
        .where(ApiTokenRow.token_hash.in_((keyed, legacy)), UserRow.active.is_(True))
    )
    found = session.execute(stmt).one_or_none()
    if found is None:
        return None
    user, stored = found
    if stored == legacy:
        _upgrade_token_hash(session, legacy, keyed)
    return user


def _upgrade_token_hash(session: Session, legacy: str, keyed: str) -> None:
    """Re-store a legacy token hash in the keyed form, in a short transaction of its own: the
    caller's session is often a reader that never commits. (The one writer here that commits.)
    A failure leaves the legacy row, upgraded at the next use."""
    try:
        with Session(session.get_bind()) as writer, writer.begin():
            writer.execute(
                update(ApiTokenRow).where(ApiTokenRow.token_hash == legacy).values(token_hash=keyed)
            )
    except SQLAlchemyError as error:
        log.warning("token.upgrade_failed", error=str(error))
    else:
        log.info("token.upgraded")
