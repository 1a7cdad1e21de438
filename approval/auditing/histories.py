"""Auditor commands on Temporal histories: ``export`` writes a case's history as Temporal
keeps it and its audit events as the store keeps them; ``replay`` runs recorded histories
against the current workflow code and says, for each, whether the code still makes the same
decisions (deterministic) or where it first departs from the record."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from temporalio.client import Client, WorkflowHistory
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from approval.contracts import DATA_CONVERTER
from approval.domain.errors import InvalidInputError
from approval.service import UnknownCaseError, check_case_number
from approval.store.audit_log import events_of
from approval.store.database import make_engine, make_session_factory
from approval.store.schema import CaseEventRow
from workflows.case_workflow import CaseWorkflow

CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')
"""The message of the failure inside a failed workflow activation reported by the core."""
HISTORY_SUFFIX = ".history.json"
AUDIT_SUFFIX = ".audit.json"


# ---- export ----------------------------------------------------------------------------------


async def fetch_history(client: Client, case_no: str) -> WorkflowHistory:
    """The case's full Temporal history (workflow id = case number)."""
    try:
        return await client.get_workflow_handle(check_case_number(case_no)).fetch_history()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise UnknownCaseError("case_no", f"no case {case_no} in Temporal") from None
        raise


def audit_rows(store_url: str, case_no: str) -> list[dict[str, Any]]:
    """The case's audit events from the store, every column (prev_hash and hash included),
    as JSON-ready dicts in sequence order. Reads only: no schema is created."""
    url = make_url(store_url)
    database = url.database or ""
    is_file = url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if is_file and not database.startswith("file:") and not Path(database).is_file():
        raise InvalidInputError("store", f"no store at {database}")
    columns = [column.key for column in CaseEventRow.__table__.columns]
    engine = make_engine(store_url)
    try:
        with make_session_factory(engine)() as session:
            rows = events_of(session, case_no)
            return [{key: _plain(getattr(row, key)) for key in columns} for row in rows]
    except SQLAlchemyError as error:
        message = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise InvalidInputError("store", f"cannot read the audit log: {message}") from None
    finally:
        engine.dispose()


def _plain(value: Any) -> Any:
    """A column's value as JSON holds it (timestamps as ISO 8601 text)."""
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Export:
    """What ``export`` wrote for one case."""

    case_no: str
    history_path: Path
    history_events: int
    audit_path: Path
    audit_events: int


async def export_case(client: Client, store_url: str, case_no: str, out: Path) -> Export:
    """Write OUT/CASE.history.json (as ``WorkflowHistory.to_json()`` writes it) and
    OUT/CASE.audit.json (the store's audit events of the case)."""
    history = await fetch_history(client, case_no)
    rows = audit_rows(store_url, case_no)
    out.mkdir(parents=True, exist_ok=True)
    history_path = out / f"{case_no}{HISTORY_SUFFIX}"
    audit_path = out / f"{case_no}{AUDIT_SUFFIX}"
    history_path.write_text(history.to_json() + "\n", encoding="utf-8")
    audit_path.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return Export(case_no, history_path, len(history.events), audit_path, len(rows))


# ---- replay ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayOutcome:
    """The replay of one history: ``failure`` is the first mismatch, None if deterministic."""

    name: str
    failure: str | None

    @property
    def deterministic(self) -> bool:
        """The code made the same decisions as the recorded run."""
        return self.failure is None

    @property
    def verdict(self) -> str:
        """``deterministic`` or ``NOT deterministic: <first mismatch>``."""
        return "deterministic" if self.failure is None else f"NOT deterministic: {self.failure}"


@lru_cache
def _quiet_runtime() -> Runtime:
    """A Temporal runtime that logs only errors: a mismatch is reported once, by the
    verdict, not also as a warning of the SDK's core."""
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))


def case_replayer(workflow: type = CaseWorkflow) -> Replayer:
    """A replayer of ``workflow`` (the current CaseWorkflow unless told otherwise) with the
    engine's data converter."""
    return Replayer(workflows=[workflow], data_converter=DATA_CONVERTER, runtime=_quiet_runtime())


async def replay_histories(
    histories: Sequence[tuple[str, WorkflowHistory]], replayer: Replayer | None = None
) -> list[ReplayOutcome]:
    """Replay each named history in turn; one history's failure does not stop the others."""
    replayer = replayer or case_replayer()

    async def each() -> AsyncIterator[WorkflowHistory]:
        for _, history in histories:
            yield history

    outcomes = []
    with _sdk_logs_silenced():
        async with replayer.workflow_replay_iterator(each()) as results:
            names = iter(name for name, _ in histories)
            async for result in results:
                failure = result.replay_failure
                outcomes.append(
                    ReplayOutcome(next(names), None if failure is None else _first(failure))
                )
    return outcomes


@contextmanager
def _sdk_logs_silenced() -> Iterator[None]:
    """While replaying, the SDK's own loggers stay quiet: a failing history is an outcome
    reported by its verdict, not an error with a traceback on stderr."""
    sdk = logging.getLogger("temporalio")
    level = sdk.level
    sdk.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        sdk.setLevel(level)


def _first(failure: Exception) -> str:
    """The first mismatch, as the SDK's core words it (the message inside the failed
    activation it reports), else the failure's first line."""
    text = str(failure).strip() or type(failure).__name__
    inner = CORE_MESSAGE.search(text)
    return inner.group(1).replace('\\"', '"') if inner else text.splitlines()[0]


def history_files(paths: Sequence[Path]) -> list[Path]:
    """The history files named, folders expanded to the histories in them: ``*.history.json``,
    or failing those every ``*.json`` but exported audit logs (``*.audit.json``)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(path.glob(f"*{HISTORY_SUFFIX}")) or sorted(
                p for p in path.glob("*.json") if not p.name.endswith(AUDIT_SUFFIX)
            )
            if not inside:
                raise InvalidInputError("path", f"{path}: no *.json histories in this folder")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise InvalidInputError("path", f"{path}: no such file or folder")
    return found


def workflow_id_of(path: Path) -> str:
    """The workflow id a history file stands for: its name without ``.history.json`` or
    ``.json`` (an exported history is named after its case)."""
    name = path.name
    for suffix in (HISTORY_SUFFIX, ".json"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return path.stem


def load_history(path: Path) -> WorkflowHistory:
    """A history file as Temporal writes it (SDK ``to_json``, or the CLI's and web UI's
    JSON); a file that is not one is refused naming it."""
    try:
        history = WorkflowHistory.from_json(workflow_id_of(path), path.read_text("utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InvalidInputError("path", f"{path}: not a Temporal history ({reason})") from None
    first = history.events[0] if history.events else None
    if first is None or not first.HasField("workflow_execution_started_event_attributes"):
        raise InvalidInputError("path", f"{path}: does not begin with WorkflowExecutionStarted")
    if not first.workflow_execution_started_event_attributes.original_execution_run_id:
        raise InvalidInputError("path", f"{path}: its first event names no run id")
    return history
