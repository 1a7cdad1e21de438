"""Recording a case's events, notices and read model in the store, idempotently (R23)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.record_reads import RecordAt, RecordReads
from approval.contracts import RecordRequest
from approval.store.recording import CaseTail, record_step


class CaseTails:
    """The tails of the cases this worker recorded last (at most ``size``), shared by the
    store activity's threads. A tail is taken out for a step and put back only once the
    step's transaction committed: a step that fails, or runs on another worker meanwhile,
    leaves the next step to read the record from the store."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._tails: OrderedDict[str, CaseTail] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, case_no: str) -> CaseTail | None:
        """The case's tail, no longer kept."""
        with self._lock:
            return self._tails.pop(case_no, None)

    def keep(self, case_no: str, tail: CaseTail) -> None:
        """Keep the case's tail, forgetting the oldest beyond ``size``."""
        with self._lock:
            self._tails[case_no] = tail
            while len(self._tails) > self._size:
                self._tails.popitem(last=False)


class StoreActivities:
    """Activities that write to the store through one session factory."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        audit_key: bytes,
        record_reads: RecordReads | None = None,
    ) -> None:
        self._sessions = sessions
        self._audit_key = audit_key
        self._tails = CaseTails()
        self._record_reads = record_reads

    @activity.defn
    def record_case_events(self, request: RecordRequest) -> None:
        """Write the step's events and the documents of its notices, and refresh the read
        model, in one transaction. A retry after a crash writes nothing twice. The step
        chains and projects from the record as this worker left it when it wrote the step
        before, without reading it back; once committed, the record's matter and materials
        are published to this worker's department messages."""
        tail = self._tails.take(request.case_no)
        with self._sessions.begin() as session:
            tail = record_step(session, self._audit_key, request, tail)
        if tail is not None:
            self._tails.keep(request.case_no, tail)
            self._publish(request.case_no, tail)

    def _publish(self, case_no: str, tail: CaseTail) -> None:
        """Tell this worker's department messages what the record now holds."""
        if self._record_reads is None or tail.materials is None:
            return
        view, materials = tail.view, tail.materials
        record = RecordAt(
            tail.seq, view.matter_code, view.matter_name, materials.documents, materials.since
        )
        self._record_reads.publish(case_no, record)

    @activity.defn
    def record_step_locally(self, request: RecordRequest) -> RecordRequest:
        """As ``record_case_events``, run as a local activity; returns the step it recorded,
        so that the history (which keeps a local activity's result, not its input) still
        shows every step the store was given, for the auditors' cross-check and rebuild."""
        self.record_case_events(request)
        return request
