"""The auditor's reading of one case, read-only, from the store's audit log: the timeline in
Chinese, the compliance check of the statutory rules, the verification of the audit chain
anchored in the case's Temporal history, and the export of the audit events (as ``auditor.py
timeline / check / verify / export`` do).

Who may read (R22): the auditor everything. The supervisor (电子监察) may read the timeline and
the compliance check too, because watching that the time limits and the other statutory rules
are kept is its job; the chain verification and the full export (hashes, every payload) are the
auditor's evidence and stay the auditor's. Clerks and reviewers are refused (403), and the
refusal is kept in the case's record (R21).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from approval.api.deps import CaseNo, allowed
from approval.auditing.integrity import histories_from_json, verify_anchored
from approval.auditing.timeline import TimelineEntry, timeline
from approval.calendar_source import calendar_of_events
from approval.domain.audit import Tampering
from approval.domain.compliance import RuleResult, check_case, cited, failed
from approval.domain.events import as_events
from approval.domain.models import Actor, Role
from approval.http.deps import ServiceDep, SessionDep, SessionsDep
from approval.http.refusals import REFUSALS
from approval.service import UnknownCaseError
from approval.store.audit_log import events_of
from approval.store.numbering import case_known
from approval.store.schema import CaseEventRow

router = APIRouter(prefix="/audit/cases", tags=["audit"], responses=REFUSALS)
READERS = (Role.AUDITOR, Role.SUPERVISOR)


def reader(action: str, *roles: Role) -> Any:
    """The dependency of an audit read: the actor, in one of ``roles`` (R22)."""
    return Depends(allowed(action, *roles))


# ---- response bodies -------------------------------------------------------------------------


class TimelineOut(BaseModel):
    """A case's story in Chinese, one entry per recorded event, in seq order (办件时间线)."""

    case_no: str
    entries: list[TimelineEntry]


class RuleCheck(RuleResult):
    """One statutory rule checked on the case: pass, fail or not applicable, with the evidence
    lines (``✓`` a fact that satisfies it, ``✗`` a violation, ``·`` context) and the seq of
    every event they cite."""

    events: list[int]


class ComplianceOut(BaseModel):
    """The compliance check of a case, one result per rule the record can be checked against
    (R3, R9, R10, R11–R14, R16, and R21: the record consistent with itself); ``passed`` is
    false when any rule fails."""

    case_no: str
    passed: bool
    rules: list[RuleCheck]


class ChainFinding(BaseModel):
    """One problem in the case's audit chain, at a seq."""

    model_config = ConfigDict(from_attributes=True, use_attribute_docstrings=True)

    seq: int
    tampering: Tampering
    """edited, deleted, inserted, reordered or unanchored (events without a Temporal history
    to anchor them)."""
    detail: str


class VerificationOut(BaseModel):
    """The verification of the case's hash chain (R21), anchored in its Temporal history:
    ``intact``, or what was found."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    case_no: str
    events_checked: int
    intact: bool
    findings: list[ChainFinding]
    anchored: bool
    """The stored events were compared with the case's Temporal history (re-chained under the
    audit key, seq by seq), so an event edited and re-chained with the key, or a deleted last
    event, is found too (``auditor.py verify``)."""


class AuditEvent(BaseModel):
    """One event of the audit log as the store keeps it, hash chain included."""

    model_config = ConfigDict(from_attributes=True, use_attribute_docstrings=True)

    case_no: str
    seq: int
    type: str
    occurred_at: datetime
    actor_role: str
    actor_id: str
    actor_department: str | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    """HMAC-SHA256 over the event and ``prev_hash`` (approval.domain.audit)."""


class ExportOut(BaseModel):
    """A case's audit events, every column, in seq order (``auditor.py export`` writes the
    same rows to CASE.audit.json)."""

    case_no: str
    events: list[AuditEvent]
    history: dict[str, Any] | None = None
    """The case's Temporal event history as ``WorkflowHistory.to_json`` writes it (replayable
    with ``auditor.py replay``); null for a case not accepted at the window (no workflow)."""


# ---- routes ----------------------------------------------------------------------------------


def recorded_events(session: SessionDep, case_no: CaseNo) -> list[CaseEventRow]:
    """The audit log of a case that was handed a number; 404 naming the case otherwise."""
    rows = events_of(session, case_no)
    if not rows and not case_known(session, case_no):
        raise UnknownCaseError("case_no", f"no case {case_no}")
    return rows


Recorded = Annotated[list[CaseEventRow], Depends(recorded_events)]


@router.get("/{case_no}/timeline", response_model=TimelineOut)
async def read_timeline(
    case_no: CaseNo,
    _actor: Annotated[Actor, reader("audit_timeline", *READERS)],
    rows: Recorded,
) -> TimelineOut:
    """Who did what, when, in Chinese (Beijing time), from the audit log."""
    return TimelineOut(case_no=case_no, entries=timeline(rows))


@router.get("/{case_no}/check", response_model=ComplianceOut)
async def read_check(
    case_no: CaseNo,
    _actor: Annotated[Actor, reader("audit_check", *READERS)],
    rows: Recorded,
    service: ServiceDep,
) -> ComplianceOut:
    """The record checked against the statutory rules, counted again with the working-day
    calendar (approval.domain.compliance)."""
    recorded = as_events(rows)
    results = (
        check_case(recorded, calendar_of_events(service.settings, recorded)) if recorded else []
    )
    rules = [RuleCheck(**r.model_dump(), events=cited(r.evidence)) for r in results]
    return ComplianceOut(case_no=case_no, passed=not failed(results), rules=rules)


@router.get("/{case_no}/verify", response_model=VerificationOut)
async def read_verification(
    case_no: CaseNo,
    _actor: Annotated[Actor, reader("audit_verify", Role.AUDITOR)],
    _rows: Recorded,
    service: ServiceDep,
    sessions: SessionsDep,
) -> VerificationOut:
    """Verify the case's hash chain under the audit key, anchored in its Temporal history
    (R21): edited, deleted, inserted, reordered or unanchored events are reported by seq.
    Temporal out of reach is a 503: nothing can be anchored."""
    verified = await verify_anchored(
        sessions,
        service.settings.audit_key_bytes,
        histories_from_json(service.history),
        [case_no],
    )
    return VerificationOut(
        case_no=case_no,
        events_checked=verified.events_checked,
        intact=verified.intact,
        findings=[ChainFinding.model_validate(f) for f in verified.findings],
        anchored=verified.anchored,
    )


@router.get("/{case_no}/export", response_model=ExportOut)
async def read_export(
    case_no: CaseNo,
    _actor: Annotated[Actor, reader("audit_export", Role.AUDITOR)],
    rows: Recorded,
    service: ServiceDep,
) -> ExportOut:
    """The case's audit events as stored and its Temporal history, for archiving or checking
    elsewhere (the two ``auditor.py export`` writes)."""
    return ExportOut(
        case_no=case_no,
        events=[AuditEvent.model_validate(r) for r in rows],
        history=await service.history(case_no),
    )
