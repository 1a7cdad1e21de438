"""The auditor's commands on Temporal histories: ``export`` writes a case's history as Temporal
keeps it and its audit events as the store keeps them; ``replay`` runs recorded histories
against the current workflow code and says, for each, whether the code still makes the same
decisions (deterministic) or where it first departs from the record (approval.auditing.histories
does the work; here it is printed, with the exit status)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from approval.auditing.histories import (
    Export,
    ReplayOutcome,
    export_case,
    fetch_history,
    history_files,
    load_history,
    replay_histories,
)
from approval.cli import render
from approval.cli.common import JsonOpt, fail, guarded
from approval.config import get_settings
from approval.service import check_case_number, connect


def _report(outcomes: list[ReplayOutcome], as_json: bool) -> None:
    """One line per history, a summary line; exit 1 unless every one is deterministic."""
    bad = sum(not o.deterministic for o in outcomes)
    if as_json:
        render.emit_json(
            {
                "histories": [
                    {"name": o.name, "deterministic": o.deterministic, "failure": o.failure}
                    for o in outcomes
                ],
                "replayed": len(outcomes),
                "not_deterministic": bad,
            }
        )
    else:
        for outcome in outcomes:
            print(f"{outcome.name}: {outcome.verdict}")
        verdict = "全部确定 all deterministic" if not bad else f"{bad} 个不确定 NOT deterministic"
        print(f"重放 replayed {len(outcomes)} 个历史 histories: {verdict}")
    if bad:
        raise typer.Exit(1)


def export(
    case_no: Annotated[str, typer.Argument(help="case number, e.g. 371600-20261128-000001")],
    out: Annotated[Path, typer.Option("--out", help="folder to write the two files into")],
    as_json: JsonOpt = False,
) -> None:
    """Export a case: its Temporal history (CASE.history.json) and its audit events from the
    store (CASE.audit.json)."""
    settings = get_settings()

    async def run() -> Export:
        checked = check_case_number(case_no)
        client = await connect(settings)
        return await export_case(client, settings.store_url, checked, out)

    done = guarded(lambda: asyncio.run(run()))
    if as_json:
        render.emit_json(
            {
                "case_no": done.case_no,
                "history": str(done.history_path),
                "history_events": done.history_events,
                "audit": str(done.audit_path),
                "audit_events": done.audit_events,
            }
        )
        return
    print(f"办件 {done.case_no} 已导出 exported:")
    print(f"  Temporal 历史 history   {done.history_path} ({done.history_events} events)")
    print(f"  审计事件 audit events   {done.audit_path} ({done.audit_events} events)")


def replay(
    targets: Annotated[
        list[str] | None,
        typer.Argument(help="history files or folders; with --live, case numbers"),
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="fetch each case's history from Temporal")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Replay histories against the current workflow code: deterministic or not (exit 1)."""
    if not targets:
        fail("targets: give at least one history file or folder (or, with --live, a case)")
    names = targets or []

    async def from_server() -> list[ReplayOutcome]:
        cases = [check_case_number(c) for c in names]
        client = await connect(get_settings())
        histories = [(c, await fetch_history(client, c)) for c in cases]
        return await replay_histories(histories)

    def from_files() -> list[ReplayOutcome]:
        paths = history_files([Path(t) for t in names])
        histories = [(str(p), load_history(p)) for p in paths]
        return asyncio.run(replay_histories(histories))

    outcomes = guarded(lambda: asyncio.run(from_server()) if live else from_files())
    _report(outcomes, as_json)


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``replay`` to the auditor's app."""
    app.command(name="export")(export)
    app.command(name="replay")(replay)
