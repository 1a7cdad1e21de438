"""One step of a case into the store: its events, the documents of its notices, the read
model. Used by the store activity and, from histories alone, by the auditor's rebuild."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from approval.contracts import RecordRequest
from approval.domain.documents import Document, render_notice
from approval.domain.events import CaseEvent, NoticeIssued
from approval.domain.status import CaseStatus
from approval.store.audit_log import record_events
from approval.store.read_model import project_step, write_status


def record_step(session: Session, key: bytes, request: RecordRequest) -> None:
    """Write the step's events (chained under ``key``) and rendered notices, and refresh the
    read model; what is already stored is skipped (R23)."""
    documents = [
        render_notice(event.notice, request.centre)
        for event in request.events
        if isinstance(event, NoticeIssued)
    ]
    record_case(
        session,
        key=key,
        case_no=request.case_no,
        events=request.events,
        status=request.status,
        last_seq=request.last_seq,
        documents=documents,
    )


def record_case(
    session: Session,
    *,
    key: bytes,
    case_no: str,
    events: Sequence[CaseEvent],
    last_seq: int,
    documents: Sequence[Document],
    status: CaseStatus | None = None,
) -> None:
    """Record a case's new events and notices, and refresh its read model (R23).

    Events and notices already stored are skipped, so a retry writes nothing twice. The read
    model is the events' projection (approval.store.read_model); a step recorded before steps
    carried their events alone carries its ``status``, and the rows are the status's. Rows
    only move forward (``last_seq``). A notice's ``issued_at`` is the time of the NoticeIssued
    event for it in ``events``, or the step's time when the batch has no such event.
    """
    now = status.as_of if status else max(e.at for e in events)
    record_events(session, key=key, case_no=case_no, events=events, documents=documents, now=now)
    if status is not None:
        write_status(session, status, last_seq)
    else:
        project_step(session, case_no, events)
