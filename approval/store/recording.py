"""One step of a case into the store: its events, the documents of its notices, the read
model. Used by the store activity and, from histories alone, by the auditor's rebuild."""

from __future__ import annotations

from sqlalchemy.orm import Session

from approval.contracts import RecordRequest
from approval.domain.documents import render_notice
from approval.domain.events import NoticeIssued
from approval.store.repository import record_case


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
