"""Proving the record was not altered: verify every audit chain and anchor it in the case's
Temporal history, cross-check the audit log with the history, and rebuild the read model from
the histories alone.

The store's chain proves that nobody without the audit key changed the record. The Temporal
history is kept outside the store: it holds every step the workflow handed to the store (the
input of each ``record_case_events`` activity, or the result of each local
``record_step_locally`` write of older cases). ``verify`` chains those events again under the
key and compares them with the store's rows seq by seq, so that an event edited and re-chained
by someone holding the key, a deleted last event or a step dropped from the end are caught too.

Events kept in the store alone are legitimate only where the engine writes them so: refused
attempts (ActionRefused) after the history's last event, once the workflow has closed; and, for
a case that never had a workflow, its non-acceptance at intake (ApplicationNotAccepted, seq 1)
with the refusals kept after it. Anything else that only the store holds is a finding."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, Interceptor, WorkflowHistory
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from approval.config import Settings
from approval.contracts import RecordRequest, from_history
from approval.domain.audit import (
    Finding,
    Tampering,
    chained_hashes,
    events_named,
    verify_chain,
)
from approval.domain.compliance.labels import SEPARATOR, type_named
from approval.domain.events import ActionRefused, ApplicationNotAccepted, CaseEvent
from approval.service import EngineUnavailableError, connect
from approval.store.audit_log import events_of
from approval.store.engine import open_store
from approval.store.queries import case_row
from approval.store.recording import record_step
from approval.store.schema import CaseEventRow, CaseRow, NoticeRow, ReviewTaskRow

T = TypeVar("T")
log = structlog.get_logger(__name__)

RECORD_ACTIVITY = "record_case_events"
LOCAL_RECORD_ACTIVITY = "record_step_locally"
"""The store write as a local activity: the history keeps its result, the step it recorded."""
LOCAL_ACTIVITY_MARKER = "core_local_activity"
REFUSED = ActionRefused.kind()
NOT_ACCEPTED = ApplicationNotAccepted.kind()
CLOSING_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)
"""The last event of a workflow that has closed."""
HISTORY_FETCHES = 16
"""Histories fetched from Temporal at once."""

HistorySource = Callable[[str], Awaitable[WorkflowHistory | None]]
"""A case's Temporal history by case number; None when the case has no workflow."""


# ---- what a history says the store holds --------------------------------------------------------


def recorded_steps(history: WorkflowHistory) -> list[RecordRequest]:
    """Every step the workflow handed to the store, from its history alone: the input of each
    store activity, or the result of each local store write."""
    return [step for step, _ in _steps(history)]


def _steps(history: WorkflowHistory) -> Iterator[tuple[RecordRequest, bool]]:
    """Each step handed to the store, and whether the history shows its write completed (a
    scheduled activity may still be running; a local write is in the history once done)."""
    completed = {
        event.activity_task_completed_event_attributes.scheduled_event_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    }
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name == RECORD_ACTIVITY:
                yield _step_of(attributes.input.payloads), event.event_id in completed
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if _is_local_store_write(marker.marker_name, marker.details):
                yield _step_of(marker.details["result"].payloads), True


def _step_of(payloads: Sequence[Payload]) -> RecordRequest:
    (request,) = from_history(payloads, [RecordRequest])
    assert isinstance(request, RecordRequest)
    return request


def _is_local_store_write(name: str, details: Mapping[str, Payloads]) -> bool:
    """A completed local activity that wrote a step to the store."""
    if name != LOCAL_ACTIVITY_MARKER or "result" not in details or "data" not in details:
        return False
    (meta,) = from_history(details["data"].payloads, [dict])
    return isinstance(meta, dict) and meta.get("activity_type") == LOCAL_RECORD_ACTIVITY


@dataclass(frozen=True)
class Anchor:
    """What a case's Temporal history says its audit log holds: the events handed to the
    store in seq order, up to which seq their writes completed, and whether the workflow has
    closed (after which refusals are kept in the store alone)."""

    case_no: str
    events: tuple[CaseEvent, ...]
    settled_seq: int
    closed: bool

    @classmethod
    def of(cls, history: WorkflowHistory) -> Anchor:
        """The anchor of one history."""
        steps = list(_steps(history))
        settled = [step.events[-1].seq for step, done in steps if done and step.events]
        last = history.events[-1].event_type if history.events else None
        return cls(
            case_no=steps[0][0].case_no if steps else history.workflow_id,
            events=tuple(event for step, _ in steps for event in step.events),
            settled_seq=max(settled, default=0),
            closed=last in CLOSING_EVENTS,
        )

    @property
    def last_seq(self) -> int:
        """The seq of the history's last recorded event (0: none)."""
        return self.events[-1].seq if self.events else 0

    def keeps_alone(self, seq: int, type_: str) -> bool:
        """Whether the store may hold this event without the history: a refusal after the
        history's last event, once the workflow has closed."""
        return self.closed and seq > self.last_seq and type_ == REFUSED


def refused_at_intake(rows: Sequence[CaseEventRow]) -> bool:
    """A case without a workflow whose record is legitimate: its non-acceptance at intake
    (ApplicationNotAccepted, seq 1), and refusals kept after it."""
    return _first_unaccounted(rows) is None and bool(rows)


def _first_unaccounted(rows: Sequence[CaseEventRow]) -> CaseEventRow | None:
    """Of a case without a workflow, the first event the engine would not have kept so."""
    if rows and (rows[0].seq, rows[0].type) != (1, NOT_ACCEPTED):
        return rows[0]
    return next((row for row in rows[1:] if row.type != REFUSED), None)


# ---- comparing the store with the history -------------------------------------------------------


def anchor_findings(
    case_no: str,
    anchor: Anchor | None,
    rows: Sequence[CaseEventRow],
    key: bytes | None = None,
) -> list[Finding]:
    """Where a case's audit log disagrees with its Temporal history (``anchor``; None: the
    case has no workflow). With ``key``, the history's events are chained again under it and
    each stored hash is compared too. In seq order."""
    if anchor is None:
        return _without_history(case_no, rows)
    stored = {row.seq: row for row in rows}
    found = [
        *_deleted(anchor, stored, len(rows)),
        *_differing(anchor, stored, key),
        *_not_in_history(anchor, rows),
    ]
    return sorted(found, key=lambda f: f.seq)


def _without_history(case_no: str, rows: Sequence[CaseEventRow]) -> list[Finding]:
    row = _first_unaccounted(rows)
    if row is None:
        return []
    return [
        Finding(
            case_no,
            row.seq,
            Tampering.UNANCHORED,
            f"本案共 {len(rows)} 个事件，从{type_named(row.type)}起却没有工作流历史；"
            f"没有工作流的办件只能有收件时的{type_named(NOT_ACCEPTED)}（第 1 号事件）"
            f"及其后的{type_named(REFUSED)}",
        )
    ]


SHOWN = 4
"""Event types named in a finding about a run of deleted events."""


def _deleted(anchor: Anchor, stored: Mapping[int, CaseEventRow], count: int) -> list[Finding]:
    """Runs of events whose store write completed but that the store does not hold."""
    missing = [e for e in anchor.events if e.seq <= anchor.settled_seq and e.seq not in stored]
    found = []
    for _, run in itertools.groupby(enumerate(missing), key=lambda pair: pair[1].seq - pair[0]):
        events = [event for _, event in run]
        types = SEPARATOR.join(type_named(event.type) for event in events[:SHOWN]) + (
            "……" if len(events) > SHOWN else ""
        )
        what = (
            types
            if len(events) == 1
            else f"{events_named(events[0].seq, events[-1].seq)}（{types}）"
        )
        found.append(
            Finding(
                anchor.case_no,
                events[0].seq,
                Tampering.DELETED,
                f"{what}在工作流历史中，却不在存储中（历史有 {len(anchor.events)} 个事件，"
                f"存储有 {count} 个）",
            )
        )
    return found


FIELDS = ("事件类型", "时间", "操作人角色", "操作人", "操作人部门", "事件内容")
"""The parts of an event compared with the history, as a finding names them."""


def _differing(
    anchor: Anchor, stored: Mapping[int, CaseEventRow], key: bytes | None
) -> list[Finding]:
    """Stored events whose content, or hash under ``key``, is not the history's. A hash that
    differs after a reported event is that report's consequence (the chain was re-linked)."""
    hashes = chained_hashes(key, anchor.case_no, anchor.events) if key is not None else None
    found: list[Finding] = []
    for index, event in enumerate(anchor.events):
        row = stored.get(event.seq)
        if row is None:
            continue
        fields = [
            name
            for name, ours, theirs in zip(
                FIELDS, _event_fields(event), _row_fields(row), strict=True
            )
            if ours != theirs
        ]
        if fields:
            history_has = "" if event.type == row.type else f"；历史中为{type_named(event.type)}"
            detail = (
                f"{type_named(row.type)}与工作流历史不一致（{SEPARATOR.join(fields)}{history_has}）"
            )
            found.append(Finding(anchor.case_no, event.seq, Tampering.EDITED, detail))
        elif hashes is not None and row.hash != hashes[index] and not found:
            detail = "其哈希值不是历史中的事件在审计密钥下链出的哈希值"
            found.append(Finding(anchor.case_no, event.seq, Tampering.EDITED, detail))
    return found


def _not_in_history(anchor: Anchor, rows: Sequence[CaseEventRow]) -> list[Finding]:
    """Stored events past the history's last one that the engine would not keep so."""
    why = (
        f"工作流仍在运行：其{type_named(REFUSED)}应是历史中的事件"
        if not anchor.closed
        else f"工作流结束后，只有{type_named(REFUSED)}单独保存在存储中"
    )
    return [
        Finding(
            anchor.case_no,
            row.seq,
            Tampering.INSERTED,
            f"{type_named(row.type)}在存储中，却不在工作流历史中（{why}）",
        )
        for row in rows
        if row.seq > anchor.last_seq and not anchor.keeps_alone(row.seq, row.type)
    ]


def _event_fields(event: CaseEvent) -> tuple[Any, ...]:
    actor = event.actor
    return event.type, event.at, actor.role.value, actor.id, actor.department, event.payload()


def _row_fields(row: CaseEventRow) -> tuple[Any, ...]:
    return (
        row.type,
        row.occurred_at,
        row.actor_role,
        row.actor_id,
        row.actor_department,
        row.payload,
    )


def crosscheck(history: WorkflowHistory | None, rows: Sequence[CaseEventRow]) -> list[str]:
    """Differences between the events in the Temporal history (None: the case has no
    workflow) and in the audit log, one line each by seq (``Finding.line``)."""
    case_no = history.workflow_id if history is not None else rows[0].case_no if rows else ""
    anchor = Anchor.of(history) if history is not None else None
    return [f.line() for f in anchor_findings(case_no, anchor, rows)]


# ---- verify -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: the cases and events read, the findings, and the case numbers
    asked for that neither the store nor Temporal knows."""

    cases: int
    events_checked: int
    findings: list[Finding]
    unknown: list[str]
    anchored: bool

    @property
    def intact(self) -> bool:
        """No finding."""
        return not self.findings


def recorded_cases(session: Session) -> list[str]:
    """Every case number that has events in the store."""
    return list(
        session.scalars(select(CaseEventRow.case_no).distinct().order_by(CaseEventRow.case_no))
    )


def known_cases(session: Session) -> list[str]:
    """Every case the store knows of: with events, or in the read model (whose events may
    have been deleted)."""
    in_read_model = session.scalars(select(CaseRow.case_no))
    return sorted({*recorded_cases(session), *in_read_model})


def verify_store(
    sessions: sessionmaker[Session], key: bytes, case_nos: Iterable[str] | None = None
) -> tuple[int, list[Finding]]:
    """Verify the chains of ``case_nos`` (default: every case) in the store alone, not
    anchored in Temporal; returns events read, findings."""
    verified = verify_chains(sessions, key, case_nos)
    return verified.events_checked, verified.findings


def verify_chains(
    sessions: sessionmaker[Session], key: bytes, case_nos: Iterable[str] | None = None
) -> Verification:
    """Verify the chains of ``case_nos`` (default: every case) under the key, the read model's
    last seq catching deletions at the end: the store alone, not anchored."""
    findings: list[Finding] = []
    checked, unknown = 0, []
    with sessions() as session:
        named = list(case_nos or recorded_cases(session))
        for case_no in named:
            rows = events_of(session, case_no)
            row = case_row(session, case_no)
            findings += verify_chain(key, rows, row.last_seq if row else None)
            checked += len(rows)
            if not rows:
                unknown.append(case_no)
    return Verification(len(named), checked, findings, unknown, anchored=False)


def verify_case(
    key: bytes, case_no: str, rows: Sequence[CaseEventRow], anchor: Anchor | None
) -> list[Finding]:
    """One case's chain verified under the key and anchored in its history (None: it has no
    workflow): the chain's findings, then what only the history shows, by seq."""
    chained = verify_chain(key, rows)
    reported = {f.seq for f in chained}
    anchored = [f for f in anchor_findings(case_no, anchor, rows, key) if f.seq not in reported]
    return sorted([*chained, *anchored], key=lambda f: f.seq)


async def verify_anchored(
    sessions: sessionmaker[Session],
    key: bytes,
    histories: HistorySource,
    case_nos: Iterable[str] | None = None,
) -> Verification:
    """Verify the chains of ``case_nos`` (default: every case the store knows of), each
    anchored in its Temporal history; histories are fetched ``HISTORY_FETCHES`` at a time.
    A case named by the caller that has neither events nor a history is unknown; one the
    read model names with neither is a deletion."""
    asked = list(case_nos or [])
    with sessions() as session:
        named = asked or known_cases(session)

    async def one(case_no: str) -> tuple[int, list[Finding] | None]:
        history = await histories(case_no)
        with sessions() as session:  # after the history: every write it shows done is here
            rows = events_of(session, case_no)
        if history is None and not rows:
            return 0, None
        anchor = Anchor.of(history) if history is not None else None
        return len(rows), verify_case(key, case_no, rows, anchor)

    results = await _bounded(one, named)
    findings = [f for _, found in results for f in found or []]
    unknown = [case_no for case_no, (_, found) in zip(named, results, strict=True) if found is None]
    if not asked:
        findings += [_vanished(case_no) for case_no in unknown]
    checked = sum(count for count, _ in results)
    return Verification(len(named), checked, findings, unknown if asked else [], anchored=True)


async def _bounded(work: Callable[[str], Awaitable[T]], case_nos: Iterable[str]) -> list[T]:
    """``work`` on every case, ``HISTORY_FETCHES`` at a time; the results in order."""
    gate = asyncio.Semaphore(HISTORY_FETCHES)

    async def one(case_no: str) -> T:
        async with gate:
            return await work(case_no)

    return await asyncio.gather(*(one(case_no) for case_no in case_nos))


def _vanished(case_no: str) -> Finding:
    detail = "读模型中有此办件，但存储和工作流历史中都没有它的任何事件"
    return Finding(case_no, 1, Tampering.DELETED, detail)


def temporal_histories(client: Client) -> HistorySource:
    """Histories from Temporal: None for a case with no workflow; any other failure means
    nothing can be anchored (EngineUnavailableError)."""

    async def fetch(case_no: str) -> WorkflowHistory | None:
        try:
            return await client.get_workflow_handle(case_no).fetch_history()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return None
            reason = f"无法读取办件 {case_no} 的工作流历史（Temporal）：{error.message}"
            raise EngineUnavailableError(reason) from None

    return fetch


def histories_from_json(
    fetch: Callable[[str], Awaitable[dict[str, Any] | None]],
) -> HistorySource:
    """Histories from a reader of them as ``WorkflowHistory.to_json`` writes them (None: no
    workflow), such as ``CaseWorkflowClient.history``."""

    async def source(case_no: str) -> WorkflowHistory | None:
        found = await fetch(case_no)
        return None if found is None else WorkflowHistory.from_json(case_no, found)

    return source


async def reach_temporal(
    settings: Settings, runtime: Runtime | None = None, interceptors: Sequence[Interceptor] = ()
) -> Client:
    """A client of the settings' Temporal namespace (on ``runtime``, default the SDK's, with
    ``interceptors``), once it answers; EngineUnavailableError naming the address otherwise."""
    where = f"Temporal（地址 {settings.temporal_address}，命名空间 {settings.temporal_namespace}）"
    try:
        client = await connect(settings, runtime, interceptors)
        request = DescribeNamespaceRequest(namespace=settings.temporal_namespace)
        await client.workflow_service.describe_namespace(request)
    except (RuntimeError, RPCError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        log.info("temporal.unreachable", address=settings.temporal_address, detail=detail)
        raise EngineUnavailableError(f"无法连接 {where}：{_unreachable(error)}") from None
    return client


UNREACHABLE_STATUSES = {
    RPCStatusCode.NOT_FOUND: "命名空间不存在",
    RPCStatusCode.PERMISSION_DENIED: "没有访问权限",
    RPCStatusCode.UNAUTHENTICATED: "身份认证未通过",
    RPCStatusCode.UNAVAILABLE: "服务暂时不可用",
    RPCStatusCode.DEADLINE_EXCEEDED: "响应超时",
}
"""Why Temporal answered no, in Chinese, by the status it answered."""


def _unreachable(error: RuntimeError | RPCError) -> str:
    """Why Temporal could not be reached, in Chinese: by the status it answered, or, when
    nothing answered, that no connection could be made (the client's own words are logged)."""
    if isinstance(error, RPCError):
        return UNREACHABLE_STATUSES.get(error.status, f"服务返回错误（{error.status.name}）")
    return "无法建立连接（该地址无人监听或网络不通）"


async def case_histories(client: Client, case_nos: Iterable[str]) -> list[WorkflowHistory]:
    """The Temporal histories of the cases that have one, ``HISTORY_FETCHES`` at a time."""
    found = await _bounded(temporal_histories(client), case_nos)
    return [history for history in found if history is not None]


# ---- rebuild ------------------------------------------------------------------------------------

COMPARED = (
    (CaseRow, ("case_no",)),
    (ReviewTaskRow, ("case_no", "department")),
    (CaseEventRow, ("case_no", "seq")),
    (NoticeRow, ("notice_no",)),
)
IGNORED_COLUMNS = {"id"}
TABLE_LABELS = {
    CaseRow: "办件表",
    ReviewTaskRow: "审查任务表",
    CaseEventRow: "审计事件表",
    NoticeRow: "通知书表",
}
"""The tables compared, in Chinese; a difference names the table's machine name beside."""


def rebuild(histories: Iterable[WorkflowHistory], key: bytes) -> sessionmaker[Session]:
    """A fresh in-memory store written from the histories' recorded steps alone."""
    rebuilt = open_store("sqlite://")
    for history in histories:
        with rebuilt.begin() as session:
            for step in recorded_steps(history):
                record_step(session, key, step)
    return rebuilt


def differences(
    live: sessionmaker[Session],
    rebuilt: sessionmaker[Session],
    histories: Iterable[WorkflowHistory],
) -> list[str]:
    """Rows that differ between the live store and the one rebuilt from ``histories``. A row
    only the live store has is left out where the engine keeps it in the store alone: a
    refusal after a closed workflow's last event, a case refused at intake (its event and its
    voucher)."""
    anchors = {anchor.case_no: anchor for anchor in map(Anchor.of, histories)}
    found = []
    with live() as live_session, rebuilt() as rebuilt_session:
        at_intake = _refused_at_intake(live_session, anchors)
        for table, keys in COMPARED:
            ours = _rows_by_key(live_session, table, keys)
            theirs = _rows_by_key(rebuilt_session, table, keys)
            for key in sorted(ours.keys() | theirs.keys(), key=str):
                mine, other = ours.get(key), theirs.get(key)
                if mine == other or _kept_alone(table, mine, other, anchors, at_intake):
                    continue
                found.append(_difference(table, key, mine, other))
    return found


def _difference(
    table: Any, key: tuple[Any, ...], mine: dict[str, Any] | None, other: dict[str, Any] | None
) -> str:
    """One row that differs, by table and key: held by one side only, or the columns whose
    values differ, by their machine names (``审计事件表（case_events） ('…', 3)：actor_id：在用存储
    'x' ≠ 重建 'y'``)."""
    where = f"{TABLE_LABELS[table]}（{table.__tablename__}） {key}"
    if other is None:
        return f"{where}：只在在用存储中有，重建结果中没有"
    if mine is None:
        return f"{where}：只在重建结果中有，在用存储中没有"
    changed = [
        f"{name}：在用存储 {value!r} ≠ 重建 {other.get(name)!r}"
        for name, value in mine.items()
        if value != other.get(name)
    ]
    return f"{where}：{'；'.join(changed)}"


def _rows_by_key(
    session: Session, table: Any, keys: tuple[str, ...]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    columns = [c.name for c in table.__table__.columns if c.name not in IGNORED_COLUMNS]
    rows = {}
    for row in session.scalars(select(table)):
        values = {name: getattr(row, name) for name in columns}
        rows[tuple(values[k] for k in keys)] = values
    return rows


def _refused_at_intake(session: Session, anchors: Mapping[str, Anchor]) -> set[str]:
    """The cases without a history whose record is a non-acceptance at intake."""
    by_case: dict[str, list[CaseEventRow]] = defaultdict(list)
    for row in session.scalars(select(CaseEventRow).order_by(CaseEventRow.seq)):
        if row.case_no not in anchors:
            by_case[row.case_no].append(row)
    return {case_no for case_no, rows in by_case.items() if refused_at_intake(rows)}


def _kept_alone(
    table: Any,
    mine: dict[str, Any] | None,
    other: dict[str, Any] | None,
    anchors: Mapping[str, Anchor],
    at_intake: set[str],
) -> bool:
    """A live row the histories rightly do not rebuild."""
    if mine is None or other is not None:
        return False
    if mine["case_no"] in at_intake:
        return table in (CaseEventRow, NoticeRow)
    anchor = anchors.get(mine["case_no"])
    return (
        table is CaseEventRow
        and anchor is not None
        and anchor.keeps_alone(mine["seq"], mine["type"])
    )
