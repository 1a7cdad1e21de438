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

    @activity.defn
    def record_step_locally(self, request: RecordRequest) -> RecordRequest:
        """As ``record_case_events``, run as a local activity; returns the step it recorded,
        so that the history (which keeps a local activity's result, not its input) still
        shows every step the store was given, for the auditors' cross-check and rebuild."""
        self.record_case_events(request)
        return request
