"""One step of a case into the store: its events, the documents of its notices, the read
model. Used by the store activity and, from histories alone, by the auditor's rebuild.

A notice that shows the check code is rendered with the case's check code, derived here from
the audit key the step is chained under, and the public progress page's address the notice
states (fixed at the case's receipt; approval.domain.documents.ProgressLookup): the domain and
the workflow never hold the key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from approval.contracts import RecordRequest
from approval.domain.check_code import check_code
from approval.domain.documents import Document, ProgressLookup, render_notice
from approval.domain.events import (
    ApplicationReceived,
    CaseEvent,
    NoticeIssued,
    SupplementReceived,
)
from approval.domain.models import SubmittedMaterial
from approval.domain.notices import Notice
from approval.domain.projection import CaseView
from approval.domain.status import CaseStatus
from approval.store.audit_log import record_events
from approval.store.read_model import project_step, write_status


@dataclass(frozen=True)
class TailMaterials:
    """A case's materials as its record holds them: each code's latest document, by code,
    and the seq of the last event that delivered materials (as approval.store.queries
    reads them)."""

    since: int
    documents: tuple[SubmittedMaterial, ...]

    def after(self, events: Sequence[CaseEvent]) -> TailMaterials | None:
        """These materials with the deliveries among ``events``; None when one does not name
        its documents (an older record: the store finds them elsewhere)."""
        by_code = {m.code: m for m in self.documents}
        since = self.since
        for event in events:
            if not isinstance(event, ApplicationReceived | SupplementReceived):
                continue
            if "documents" not in event.model_fields_set:
                return None
            if event.materials:
                since = event.seq
            for code, document in event.documents.items():
                by_code[code] = SubmittedMaterial(
                    code=code, document_ref=document.document_ref, sha256=document.sha256
                )
        return TailMaterials(since, tuple(by_code[code] for code in sorted(by_code)))


NO_MATERIALS = TailMaterials(0, ())


@dataclass(frozen=True)
class CaseTail:
    """What a writer knows of a case's record right after it wrote a step: the seq and hash
    of the last event, the read model's view and, when known, the materials. The case's next
    step (first seq one more) chains and projects from it without reading them back; any
    other step reads them."""

    seq: int
    hash: str
    view: CaseView
    materials: TailMaterials | None = None

    def before(self, events: Sequence[CaseEvent]) -> bool:
        """Whether this is the record just before ``events``."""
        return bool(events) and events[0].seq == self.seq + 1


def record_step(
    session: Session,
    key: bytes,
    request: RecordRequest,
    tail: CaseTail | None = None,
) -> CaseTail | None:
    """Write the step's events (chained under ``key``) and rendered notices, and refresh the
    read model; what is already stored is skipped (R23). ``tail``, when given, is the record
    as this writer left it (used if it is the record just before the step, and changed).
    A notice that shows the check code states the code under ``key``. Returns the record's
    new tail when the step's events were all new, else None."""
    documents = [
        render_notice(event.notice, request.centre, lookup_of(event.notice, key))
        for event in request.events
        if isinstance(event, NoticeIssued)
    ]
    return record_case(
        session,
        key=key,
        case_no=request.case_no,
        events=request.events,
        status=request.status,
        last_seq=request.last_seq,
        documents=documents,
        tail=tail,
    )


def lookup_of(notice: Notice, key: bytes) -> ProgressLookup | None:
    """How the notice tells the applicant to follow the case, if it shows the check code:
    the case's code under ``key`` and the progress page the notice names; None for a notice
    that does not."""
    if notice.progress_url is None:
        return None
    return ProgressLookup(check_code=check_code(notice.case_no, key), address=notice.progress_url)


def record_case(
    session: Session,
    *,
    key: bytes,
    case_no: str,
    events: Sequence[CaseEvent],
    last_seq: int,
    documents: Sequence[Document],
    status: CaseStatus | None = None,
    tail: CaseTail | None = None,
) -> CaseTail | None:
    """Record a case's new events and notices, and refresh its read model (R23).

    Events and notices already stored are skipped, so a retry writes nothing twice. The read
    model is the events' projection (approval.store.read_model); a step recorded before steps
    carried their events alone carries its ``status``, and the rows are the status's. Rows
    only move forward (``last_seq``). A notice's ``issued_at`` is the time of the NoticeIssued
    event for it in ``events``, or the step's time when the batch has no such event. The
    event before the step and the rows come from ``tail`` when it is the record just before
    the step, else from the store; the new tail is returned when every event was new.
    """
    now = status.as_of if status else max(e.at for e in events)
    known = tail if tail is not None and tail.before(events) else None
    last_hash = record_events(
        session,
        key=key,
        case_no=case_no,
        events=events,
        documents=documents,
        now=now,
        hash_before=known.hash if known else None,
    )
    if status is not None:
        write_status(session, status, last_seq)
        return None
    view = project_step(session, case_no, events, known.view if known else None)
    if last_hash is None or view is None:
        return None
    return CaseTail(events[-1].seq, last_hash, view, _materials_after(known, events))


def _materials_after(known: CaseTail | None, events: Sequence[CaseEvent]) -> TailMaterials | None:
    """The materials once ``events`` are recorded: from the tail before them, or from none
    when they open the record; unknown otherwise."""
    if known is not None:
        before = known.materials
    else:
        before = NO_MATERIALS if isinstance(events[0], ApplicationReceived) else None
    return before.after(events) if before is not None else None
