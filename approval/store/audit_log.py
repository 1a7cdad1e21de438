"""The audit log: each case's events, hash-chained under the centre's key (R21), and the
notices issued, written so that a retry stores nothing twice (R23); and reading them back,
typed (approval.domain.events)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from approval.domain.audit import GENESIS, chain_hash, event_body
from approval.domain.documents import Document
from approval.domain.events import CaseEvent, NoticeIssued, as_events
from approval.store.database import FRESH, insert_ignoring_duplicates
from approval.store.schema import (
    CaseEventRow,
    NoticeRow,
)


def record_events(
    session: Session,
    *,
    key: bytes,
    case_no: str,
    events: Sequence[CaseEvent],
    documents: Sequence[Document],
    now: datetime,
    hash_before: str | None = None,
) -> str | None:
    """Record events, hash-chained under ``key`` (R21), and the documents of their notices,
    skipping any already stored (R23). A notice is dated by its NoticeIssued event in
    ``events``, else ``now``. The first event chains to ``hash_before`` when the caller knows
    it, else to the stored event before it. Returns the last event's hash when every event
    was new (it is then the stored chain's end), else None."""
    rows = _chained_rows(session, key, case_no, events, hash_before)
    inserted = insert_ignoring_duplicates(session, CaseEventRow, rows)
    issued = _issue_times(events)
    notice_rows = [_notice_row(case_no, d, issued.get(d.notice_no, now)) for d in documents]
    insert_ignoring_duplicates(session, NoticeRow, notice_rows)
    return rows[-1]["hash"] if rows and inserted == len(rows) else None


def typed(row: CaseEventRow) -> CaseEvent:
    """A stored event as its typed class (approval.domain.events)."""
    (event,) = as_events([row])
    return event


def next_seq(session: Session, case_no: str) -> int:
    """The sequence number the case's next event will have."""
    last = session.scalar(select(func.max(CaseEventRow.seq)).where(CaseEventRow.case_no == case_no))
    return (last or 0) + 1


HASH_AT = select(CaseEventRow.hash).where(
    CaseEventRow.case_no == bindparam("case_no"), CaseEventRow.seq == bindparam("seq")
)
"""The hash of one event (built once: a step's write runs it every time)."""


def _hash_before(session: Session, case_no: str, seq: int) -> str:
    """The hash of the event before ``seq`` (the genesis value before the first)."""
    if seq == 1:
        return GENESIS
    found = session.connection().scalar(HASH_AT, {"case_no": case_no, "seq": seq - 1})
    if found is None:
        raise LookupError(f"{case_no}: event {seq - 1} is not recorded yet; cannot chain {seq}")
    return found


def _chained_rows(
    session: Session,
    key: bytes,
    case_no: str,
    events: Sequence[CaseEvent],
    hash_before: str | None,
) -> list[dict[str, Any]]:
    """The audit-log rows of consecutive events, each linked to the one before (R21)."""
    if not events:
        return []
    prev = hash_before or _hash_before(session, case_no, events[0].seq)
    rows = []
    for case_event in events:
        row = _event_row(case_no, case_event)
        row["prev_hash"] = prev
        row["hash"] = prev = chain_hash(key, prev, event_body(case_no, case_event))
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


def events_of(
    session: Session,
    case_no: str,
    *,
    types: Sequence[str] | None = None,
    up_to_seq: int | None = None,
) -> list[CaseEventRow]:
    """The audit log of a case, in event order; only the events of ``types`` and up to
    ``up_to_seq``, where given."""
    stmt = select(CaseEventRow).where(CaseEventRow.case_no == case_no).order_by(CaseEventRow.seq)
    if types is not None:
        stmt = stmt.where(CaseEventRow.type.in_(list(types)))
    if up_to_seq is not None:
        stmt = stmt.where(CaseEventRow.seq <= up_to_seq)
    return list(session.scalars(stmt.execution_options(**FRESH)))


def notices_of(session: Session, case_no: str) -> list[NoticeRow]:
    """The notices issued on a case, by notice number."""
    stmt = select(NoticeRow).where(NoticeRow.case_no == case_no).order_by(NoticeRow.notice_no)
    return list(session.scalars(stmt.execution_options(**FRESH)))
