"""Recording a case's events, notices and read model in the store, idempotently (R23)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from approval.contracts import RecordRequest
from approval.store.recording import record_step


class StoreActivities:
    """Activities that write to the store through one session factory."""

    def __init__(self, sessions: sessionmaker[Session], audit_key: bytes) -> None:
        self._sessions = sessions
        self._audit_key = audit_key

    @activity.defn
    def record_case_events(self, request: RecordRequest) -> None:
        """Write the step's events and the documents of its notices, and refresh the read
        model, in one transaction. A retry after a crash writes nothing twice."""
        with self._sessions.begin() as session:
            record_step(session, self._audit_key, request)
