"""The audit chain (R21): each case's events are linked by keyed hashes, so that any later
edit, deletion, insertion or reordering in the store is detected.

An event's body is its canonical JSON (sorted keys, no spaces, UTC ISO time); its hash is
HMAC-SHA256 under the centre's audit key of the previous event's hash and the body. Without
the key nobody can forge a link, not even a well-formed appended one. Whoever holds the key
could re-chain an edited record; the Temporal history, kept outside the store, anchors it
(``chained_hashes`` of the events the history handed to the store, approval.auditing.integrity).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from approval.domain.events import CaseEvent, StoredEvent

GENESIS = "0" * 64
"""The previous hash of a case's first event."""
ANY_PREVIOUS = ""
"""Verification's placeholder after a reported event: any link is accepted there."""


def canonical_body(
    *,
    case_no: str,
    seq: int,
    type_: str,
    at: datetime,
    actor_role: str,
    actor_id: str,
    actor_department: str | None,
    payload: Mapping[str, Any],
) -> str:
    """The canonical JSON text of one event: the same bytes wherever it is computed."""
    body = {
        "case_no": case_no,
        "seq": seq,
        "type": type_,
        "at": at.astimezone(UTC).isoformat(),
        "actor": {"role": actor_role, "id": actor_id, "department": actor_department},
        "data": payload,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(key: bytes, prev_hash: str, body: str) -> str:
    """The link of an event: HMAC-SHA256(key, previous hash + body), hex."""
    return hmac.new(key, f"{prev_hash}\n{body}".encode(), hashlib.sha256).hexdigest()


def event_body(case_no: str, event: CaseEvent) -> str:
    """The canonical body of a domain event as the store chains it (payload: its data as
    JSON)."""
    return canonical_body(
        case_no=case_no,
        seq=event.seq,
        type_=event.type,
        at=event.at,
        actor_role=event.actor.role.value,
        actor_id=event.actor.id,
        actor_department=event.actor.department,
        payload=event.payload(),
    )


def chained_hashes(key: bytes, case_no: str, events: Sequence[CaseEvent]) -> list[str]:
    """The hash of each of a case's events, from its first, as the store chains them: what an
    untouched audit log holds (R21)."""
    hashes, prev = [], GENESIS
    for event in events:
        prev = chain_hash(key, prev, event_body(case_no, event))
        hashes.append(prev)
    return hashes


class AuditRecord(StoredEvent, Protocol):
    """What verification reads of a stored event: its columns and its link in the chain."""

    case_no: str
    prev_hash: str
    hash: str


def body_of(record: AuditRecord, seq: int | None = None) -> str:
    """The canonical body of a stored event, from its columns (at ``seq`` if given)."""
    return canonical_body(
        case_no=record.case_no,
        seq=record.seq if seq is None else seq,
        type_=record.type,
        at=record.occurred_at,
        actor_role=record.actor_role,
        actor_id=record.actor_id,
        actor_department=record.actor_department,
        payload=record.payload,
    )


class Tampering(StrEnum):
    """What verification found wrong at a place in a chain."""

    EDITED = "edited"  # the event's content no longer matches its hash, or its history
    DELETED = "deleted"  # a sequence number is missing, or an event of the history
    INSERTED = "inserted"  # an event that was never linked into the chain, or that the
    # Temporal history does not account for
    REORDERED = "reordered"  # linked events out of their order
    UNANCHORED = "unanchored"  # a case with events but no Temporal history to anchor them


TAMPERING_LABELS = {
    Tampering.EDITED: "内容被改动",
    Tampering.DELETED: "事件缺失",
    Tampering.INSERTED: "插入的事件",
    Tampering.REORDERED: "顺序被调换",
    Tampering.UNANCHORED: "没有工作流历史佐证",
}
"""What verification found, in Chinese; the machine value is said beside it."""


def events_named(first: int, last: int | None = None) -> str:
    """One event or a run of them by seq: ``第 7 号事件``, ``第 7–9 号事件``."""
    run = f"{first}–{last}" if last is not None and last != first else f"{first}"
    return f"第 {run} 号事件"


@dataclass(frozen=True)
class Finding:
    """One problem in a case's chain."""

    case_no: str
    seq: int
    tampering: Tampering
    detail: str

    def line(self) -> str:
        """The finding without its case: ``第 7 号事件：内容被改动（edited）——…``."""
        label = TAMPERING_LABELS[self.tampering]
        return f"{events_named(self.seq)}：{label}（{self.tampering.value}）——{self.detail}"

    def __str__(self) -> str:
        return f"{self.case_no} {self.line()}"


def verify_chain(
    key: bytes, records: Sequence[AuditRecord], last_seq: int | None = None
) -> list[Finding]:
    """Check one case's events in stored sequence order; an empty list means intact.
    ``last_seq``, where known (the read model), also catches deletions at the end."""
    findings: list[Finding] = []
    linked = {r.prev_hash for r in records} - {GENESIS}
    expected_prev, expected_seq = GENESIS, 1
    for record in records:
        finding = _check_one(key, record, expected_prev, expected_seq, linked)
        if finding:
            findings.append(Finding(record.case_no, *finding))
        # a row after a reported one is not blamed for the broken link that report explains
        follows_finding = finding is not None
        expected_prev = record.hash if not follows_finding else ANY_PREVIOUS
        expected_seq = record.seq + 1
    if records and last_seq is not None and last_seq >= expected_seq:
        gap = f"末尾的{events_named(expected_seq, last_seq)}缺失"
        findings.append(Finding(records[0].case_no, expected_seq, Tampering.DELETED, gap))
    return findings


def _verifies_at(key: bytes, record: AuditRecord, seq: int) -> bool:
    return chain_hash(key, record.prev_hash, body_of(record, seq)) == record.hash


def _check_one(
    key: bytes, record: AuditRecord, expected_prev: str, expected_seq: int, linked: set[str]
) -> tuple[int, Tampering, str] | None:
    seq = record.seq
    if not _verifies_at(key, record, seq):
        moved_from = next(
            (s for s in (seq - 1, seq + 1, expected_seq) if s > 0 and _verifies_at(key, record, s)),
            None,
        )
        if moved_from is not None:
            return (
                seq,
                Tampering.REORDERED,
                f"写入时为{events_named(moved_from)}，存储为{events_named(seq)}",
            )
        if record.hash in linked:
            return seq, Tampering.EDITED, "内容与其哈希值不符"
        return seq, Tampering.INSERTED, "未链入哈希链，也不是以审计密钥签名的"
    if seq > expected_seq:
        gap = events_named(expected_seq, seq - 1)
        return expected_seq, Tampering.DELETED, f"{events_named(seq)}之前的{gap}缺失"
    if expected_prev not in (record.prev_hash, ANY_PREVIOUS):
        return seq, Tampering.REORDERED, "与存储在其前的事件接续不上"
    return None
