"""The auditor's proof that the record was not altered, on the command line: ``verify`` (every
audit chain, anchored in the case's Temporal history), ``crosscheck`` (the audit log against the
history) and ``rebuild`` (the read model from the histories alone). What they find is worked out
in approval.auditing.integrity; here it is printed, with the exit status.

Exit status: 0 all well, 1 a finding or a difference, 2 bad input (an unknown or malformed case
number), 3 Temporal cannot be reached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from temporalio.client import WorkflowHistory

from approval.auditing.integrity import (
    Verification,
    case_histories,
    crosscheck,
    differences,
    known_cases,
    reach_temporal,
    rebuild,
    temporal_histories,
    verify_anchored,
    verify_chains,
)
from approval.cli import render
from approval.cli.common import EXIT_UNAVAILABLE, fail, guarded
from approval.config import get_settings
from approval.service import EngineUnavailableError, check_case_number
from approval.store.audit_log import events_of
from approval.store.engine import open_store
from approval.store.schema import CaseEventRow

T = TypeVar("T")

UNREACHABLE = EXIT_UNAVAILABLE
"""Exit status when Temporal cannot be reached: nothing could be anchored (1 is a finding, 2
bad input)."""

CaseArgs = Annotated[list[str] | None, typer.Argument(help="case numbers (default: all)")]
JsonOpt = Annotated[bool, typer.Option("--json")]
StoreOnlyOpt = Annotated[
    bool,
    typer.Option(
        "--store-only", help="verify the chains alone, not anchored in the Temporal histories"
    ),
]
NOT_ANCHORED_HINT = (
    "nothing was anchored (`auditor.py verify --store-only` checks the chains alone)"
)


def verify(
    cases: CaseArgs = None, store_only: StoreOnlyOpt = False, as_json: JsonOpt = False
) -> None:
    """Verify every audit chain under the key and anchor it in the case's Temporal history
    (R21): edited, deleted, inserted or reordered events, and events the history does not
    account for, by case and seq. Exit status 1 on a finding, 2 for an unknown or malformed
    case number, 3 when Temporal cannot be reached."""
    settings = get_settings()
    named = guarded(lambda: [check_case_number(case_no) for case_no in cases or []])
    key = settings.audit_key_bytes

    def chains_only() -> Verification:
        return verify_chains(open_store(settings.store_url), key, named)

    async def anchored() -> Verification:
        client = await reach_temporal(settings)
        sessions = open_store(settings.store_url)
        return await verify_anchored(sessions, key, temporal_histories(client), named)

    if store_only:
        verified = guarded(chains_only)
    else:
        verified = _with_temporal(lambda: asyncio.run(anchored()), NOT_ANCHORED_HINT)
    if verified.unknown:
        where = "no events in the store" + (", no Temporal history" if verified.anchored else "")
        fail(f"case_no: no case {', '.join(verified.unknown)} ({where})")
    _show_verification(verified, as_json)


def _show_verification(verified: Verification, as_json: bool) -> None:
    if as_json:
        render.emit_json(
            {
                "cases": verified.cases,
                "events_checked": verified.events_checked,
                "anchored": verified.anchored,
                "intact": verified.intact,
                "findings": [str(f) for f in verified.findings],
            }
        )
    else:
        for finding in verified.findings:
            render.console.print(f"[red]✗[/red] {finding}", markup=True, highlight=False)
        how = (
            "anchored in their Temporal histories"
            if verified.anchored
            else "chains only, not anchored in Temporal"
        )
        verdict = "intact" if verified.intact else f"{len(verified.findings)} problem(s)"
        render.console.print(
            f"{verified.events_checked} events of {verified.cases} case(s) checked, {how}: "
            f"{verdict}",
            highlight=False,
        )
    raise typer.Exit(0 if verified.intact else 1)


def _with_temporal(work: Callable[[], T], hint: str = "") -> T:
    """Run ``work``, which needs Temporal; when Temporal cannot be reached, one line on
    stderr and exit status 3 (UNREACHABLE)."""
    try:
        return guarded(work)
    except EngineUnavailableError as error:
        fail(error.reason + (f"; {hint}" if hint else ""), UNREACHABLE)


def crosscheck_command(
    case_no: Annotated[str, typer.Argument(help="case number")], as_json: JsonOpt = False
) -> None:
    """Check that the audit log and the Temporal history tell the same story (R21); exit
    status 1 when they differ, 2 for an unknown case, 3 when Temporal cannot be reached."""
    settings = get_settings()
    checked = guarded(lambda: check_case_number(case_no))

    async def run() -> tuple[WorkflowHistory | None, list[CaseEventRow]]:
        history = await temporal_histories(await reach_temporal(settings))(checked)
        with open_store(settings.store_url)() as session:
            return history, events_of(session, checked)

    history, rows = _with_temporal(lambda: asyncio.run(run()))
    if history is None and not rows:
        fail(f"case_no: no case {checked} (no events in the store, no Temporal history)")
    _report(crosscheck(history, rows), "the audit log and the Temporal history agree", as_json)


def rebuild_command(as_json: JsonOpt = False) -> None:
    """Rebuild the read model from the Temporal histories alone and compare it with the store;
    exit status 1 when they differ, 3 when Temporal cannot be reached."""
    settings = get_settings()

    async def run() -> list[str]:
        live = open_store(settings.store_url)
        with live() as session:
            case_nos = known_cases(session)
        histories = await case_histories(await reach_temporal(settings), case_nos)
        return differences(live, rebuild(histories, settings.audit_key_bytes), histories)

    found = _with_temporal(lambda: asyncio.run(run()))
    _report(found, "the rebuilt read model equals the live store", as_json)


def _report(found: list[str], ok: str, as_json: bool) -> None:
    if as_json:
        render.emit_json({"differences": found})
    else:
        for line in found:
            render.console.print(f"[red]✗[/red] {line}", highlight=False)
        render.console.print(ok if not found else f"{len(found)} difference(s)")
    raise typer.Exit(1 if found else 0)


def register(app: typer.Typer) -> None:
    """Add verify, crosscheck and rebuild to the auditor's app."""
    app.command(name="verify")(verify)
    app.command(name="crosscheck")(crosscheck_command)
    app.command(name="rebuild")(rebuild_command)
