"""Recording a case's events, notices and read model in the store, idempotently (R23)."""

from __future__ import annotations

import time

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.logging_context import bound_to_activity
from activities.recent import Recent
from activities.record_reads import RecordAt, RecordReads
from approval.contracts import RecordRequest
from approval.domain.events import CaseEvent, TaskAnswer
from approval.metrics import ANSWER_OUTCOMES, WorkerMetrics
from approval.store.recording import CaseTail, record_step

TAILS_KEPT = 4096
log = structlog.get_logger(__name__)


class StoreActivities:
    """Activities that write to the store through one session factory."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        audit_key: bytes,
        record_reads: RecordReads | None = None,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self._sessions = sessions
        self._metrics = metrics or WorkerMetrics()
        self._audit_key = audit_key
        self._tails: Recent[CaseTail] = Recent(TAILS_KEPT)
        """The tails of the cases this worker recorded last: taken out for a step and put
        back only once its transaction committed, so a step that fails, or runs on another
        worker meanwhile, leaves the next step to read the record from the store."""
        self._record_reads = record_reads

    @activity.defn
    def record_case_events(self, request: RecordRequest) -> None:
        """Write the step's events and the documents of its notices, and refresh the read
        model, in one transaction. A retry after a crash writes nothing twice. The step
        chains and projects from the record as this worker left it when it wrote the step
        before, without reading it back; once committed, the record's matter and materials
        are published to this worker's department messages."""
        with bound_to_activity(request.case_no):
            self._record(request)

    def _record(self, request: RecordRequest) -> None:
        tail = self._tails.take(request.case_no)
        started = time.perf_counter()
        try:
            with self._sessions.begin() as session:
                tail = record_step(session, self._audit_key, request, tail)
        finally:
            self._metrics.store_written(time.perf_counter() - started)
        if tail is not None:
            _log_step(request.events)
            self._metrics.recorded(request.events)
            self._tails.put(request.case_no, tail)
            if self._record_reads is not None and (record := RecordAt.of_tail(tail)):
                self._record_reads.publish(request.case_no, record)

    @activity.defn
    def record_step_locally(self, request: RecordRequest) -> RecordRequest:
        """As ``record_case_events``, run as a local activity; returns the step it recorded,
        so that the history (which keeps a local activity's result, not its input) still
        shows every step the store was given, for the auditors' cross-check and rebuild."""
        self.record_case_events(request)
        return request


def _log_step(events: tuple[CaseEvent, ...]) -> None:
    """A line for each department answer a newly stored step holds (who answered for which
    department, and how), and a debug line for the step."""
    log.debug("case.step_recorded", seq=events[-1].seq, events=[e.type for e in events])
    for event in events:
        if isinstance(event, TaskAnswer):
            log.info(
                "case.review_answer_recorded",
                seq=event.seq,
                department=event.department,
                actor=event.actor.id,
                outcome=ANSWER_OUTCOMES[event.type],
            )
