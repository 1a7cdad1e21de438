"""Proving the record was not altered: verify every audit chain, cross-check the audit log
with the Temporal history, and rebuild the read model from the histories alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from approval.cli import render
from approval.cli.app import guarded
from approval.config import get_settings
from approval.contracts import RecordRequest
from approval.domain.audit import Finding, verify_chain
from approval.runtime import open_store
from approval.service import connect
from approval.store.recording import record_step
from approval.store.repository import case_row, events_of
from approval.store.schema import CaseEventRow, CaseRow, NoticeRow, ReviewTaskRow

RECORD_ACTIVITY = "record_case_events"
LOCAL_RECORD_ACTIVITY = "record_step_locally"
"""The store write as a local activity: the history keeps its result, the step it recorded."""
LOCAL_ACTIVITY_MARKER = "core_local_activity"
STORE_ONLY_EVENTS = {"ActionRefused", "ApplicationNotAccepted"}
"""Events written straight to the store: refusals on closed cases, non-acceptance at intake."""


# ---- verify -----------------------------------------------------------------------------------


def recorded_cases(session: Session) -> list[str]:
    """Every case number that has events in the store."""
    return list(
        session.scalars(select(CaseEventRow.case_no).distinct().order_by(CaseEventRow.case_no))
    )


def verify_store(
    sessions: sessionmaker[Session], key: bytes, case_nos: Iterable[str] | None = None
) -> tuple[int, list[Finding]]:
    """Verify the chains of ``case_nos`` (default: every case); returns events read, findings."""
    findings: list[Finding] = []
    checked = 0
    with sessions() as session:
        for case_no in list(case_nos or recorded_cases(session)):
            rows = events_of(session, case_no)
            row = case_row(session, case_no)
            findings += verify_chain(key, rows, row.last_seq if row else None)
            checked += len(rows)
    return checked, findings


# ---- cross-check with Temporal -----------------------------------------------------------------


def recorded_steps(history: WorkflowHistory) -> list[RecordRequest]:
    """Every step the workflow handed to the store, from its history alone: the input of each
    store activity, or the result of each local store write."""
    steps = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name == RECORD_ACTIVITY:
                steps.append(_step_of(attributes.input.payloads))
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if _is_local_store_write(marker.marker_name, marker.details):
                steps.append(_step_of(marker.details["result"].payloads))
    return steps


def _step_of(payloads: Sequence[Payload]) -> RecordRequest:
    (request,) = pydantic_data_converter.payload_converter.from_payloads(payloads, [RecordRequest])
    assert isinstance(request, RecordRequest)
    return request


def _is_local_store_write(name: str, details: Mapping[str, Payloads]) -> bool:
    """A completed local activity that wrote a step to the store."""
    if name != LOCAL_ACTIVITY_MARKER or "result" not in details or "data" not in details:
        return False
    converter = pydantic_data_converter.payload_converter
    (meta,) = converter.from_payloads(details["data"].payloads, [dict])
    return isinstance(meta, dict) and meta.get("activity_type") == LOCAL_RECORD_ACTIVITY


def crosscheck(history: WorkflowHistory, rows: Sequence[CaseEventRow]) -> list[str]:
    """Differences between the events in the Temporal history and in the audit log."""
    in_history = {e.seq: e for step in recorded_steps(history) for e in step.events}
    stored = {row.seq: row for row in rows}
    differences = []
    for seq in sorted(in_history.keys() | stored.keys()):
        event, row = in_history.get(seq), stored.get(seq)
        if event is None and row is not None and row.type not in STORE_ONLY_EVENTS:
            differences.append(f"seq {seq}: {row.type} is in the audit log but not in the history")
        elif row is None and event is not None:
            differences.append(
                f"seq {seq}: {event.type} is in the history but not in the audit log"
            )
        elif event is not None and row is not None and _event_fields(event) != _row_fields(row):
            differences.append(f"seq {seq}: {event.type} differs between history and audit log")
    return differences


def _event_fields(event: Any) -> tuple[Any, ...]:
    dumped = event.model_dump(mode="json")
    actor = event.actor
    return event.type, event.at, actor.role.value, actor.id, actor.department, dumped["data"]


def _row_fields(row: CaseEventRow) -> tuple[Any, ...]:
    return (
        row.type,
        row.occurred_at,
        row.actor_role,
        row.actor_id,
        row.actor_department,
        row.payload,
    )


# ---- rebuild -------------------------------------------------------------------------------------

COMPARED = (
    (CaseRow, ("case_no",)),
    (ReviewTaskRow, ("case_no", "department")),
    (CaseEventRow, ("case_no", "seq")),
    (NoticeRow, ("notice_no",)),
)
IGNORED_COLUMNS = {"id"}


def rebuild(histories: Iterable[WorkflowHistory], key: bytes) -> sessionmaker[Session]:
    """A fresh in-memory store written from the histories' recorded steps alone."""
    rebuilt = open_store("sqlite://")
    for history in histories:
        with rebuilt.begin() as session:
            for step in recorded_steps(history):
                record_step(session, key, step)
    return rebuilt


def differences(live: sessionmaker[Session], rebuilt: sessionmaker[Session]) -> list[str]:
    """Rows that differ between the live store and the rebuilt one (store-only events aside)."""
    found = []
    with live() as live_session, rebuilt() as rebuilt_session:
        for table, keys in COMPARED:
            ours = _rows_by_key(live_session, table, keys)
            theirs = _rows_by_key(rebuilt_session, table, keys)
            for key in sorted(ours.keys() | theirs.keys(), key=str):
                mine, other = ours.get(key), theirs.get(key)
                if mine != other and not _store_only(mine):
                    found.append(f"{table.__tablename__} {key}: live {mine} ≠ rebuilt {other}")
    return found


def _rows_by_key(
    session: Session, table: Any, keys: tuple[str, ...]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    columns = [c.name for c in table.__table__.columns if c.name not in IGNORED_COLUMNS]
    rows = {}
    for row in session.scalars(select(table)):
        values = {name: getattr(row, name) for name in columns}
        rows[tuple(values[k] for k in keys)] = values
    return rows


def _store_only(row: dict[str, Any] | None) -> bool:
    return row is not None and row.get("type") in STORE_ONLY_EVENTS


async def case_histories(client: Client, case_nos: Iterable[str]) -> list[WorkflowHistory]:
    """The Temporal histories of the cases that have one."""
    histories = []
    for case_no in case_nos:
        try:
            histories.append(await client.get_workflow_handle(case_no).fetch_history())
        except RPCError:
            continue
    return histories


# ---- commands ------------------------------------------------------------------------------------


def verify(
    cases: Annotated[list[str] | None, typer.Argument(help="case numbers (default: all)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Verify every audit chain: report edited, deleted, inserted or reordered events (R21)."""
    settings = get_settings()
    checked, findings = guarded(
        lambda: verify_store(open_store(settings.store_url), settings.audit_key_bytes, cases)
    )
    if as_json:
        render.emit_json({"events_checked": checked, "findings": [str(f) for f in findings]})
    else:
        for finding in findings:
            render.console.print(f"[red]✗[/red] {finding}")
        verdict = "intact" if not findings else f"{len(findings)} problem(s)"
        render.console.print(f"{checked} events checked: {verdict}")
    raise typer.Exit(1 if findings else 0)


def crosscheck_command(
    case_no: Annotated[str, typer.Argument(help="case number")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check that the audit log and the Temporal history tell the same story (R21)."""
    settings = get_settings()

    async def run() -> list[str]:
        found = await case_histories(await connect(settings), [case_no])
        if not found:
            return [f"{case_no}: no Temporal history"]
        with open_store(settings.store_url)() as session:
            return crosscheck(found[0], events_of(session, case_no))

    found = guarded(lambda: asyncio.run(run()))
    _report(found, "the audit log and the Temporal history agree", as_json)


def rebuild_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Rebuild the read model from the Temporal histories alone and compare it with the store."""
    settings = get_settings()
    live = open_store(settings.store_url)

    async def run() -> list[str]:
        with live() as session:
            case_nos = recorded_cases(session)
        histories = await case_histories(await connect(settings), case_nos)
        return differences(live, rebuild(histories, settings.audit_key_bytes))

    found = guarded(lambda: asyncio.run(run()))
    _report(found, "the rebuilt read model equals the live store", as_json)


def _report(found: list[str], ok: str, as_json: bool) -> None:
    if as_json:
        render.emit_json({"differences": found})
    else:
        for line in found:
            render.console.print(f"[red]✗[/red] {line}")
        render.console.print(ok if not found else f"{len(found)} difference(s)")
    raise typer.Exit(1 if found else 0)


def register(app: typer.Typer) -> None:
    """Add verify, crosscheck and rebuild to the auditor's app."""
    app.command(name="verify")(verify)
    app.command(name="crosscheck")(crosscheck_command)
    app.command(name="rebuild")(rebuild_command)
