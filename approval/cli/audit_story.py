"""The auditor's reading of one case on the command line: its timeline in Chinese (who did
what, when; approval.auditing.timeline) and the check of the statutory rules against its record
(approval.domain.compliance).

    uv run python auditor.py timeline 371600-20261128-000001 [--json]
    uv run python auditor.py check 371600-20261128-000001 [--json]

Both read the audit log in the store only; ``check`` exits 1 when a rule fails.
"""

from __future__ import annotations

from collections.abc import Iterable

import typer

from approval.auditing.labels import VERDICT_LABELS
from approval.auditing.timeline import SEPARATOR, timeline
from approval.cli import render
from approval.cli.common import CaseArg, JsonOpt, fail, guarded
from approval.config import get_settings
from approval.domain.calendar import WorkingCalendar
from approval.domain.compliance import RuleResult, Verdict, check_case, failed
from approval.domain.events import CaseEvent, as_events

# ---- reading the store ------------------------------------------------------------------------


def recorded_events(case_no: str) -> list[CaseEvent]:
    """The audit log of ``case_no`` from the store, typed; exits 2 when nothing is recorded."""
    from approval.store.audit_log import events_of
    from approval.store.engine import open_store

    def read() -> list[CaseEvent]:
        with open_store(get_settings().store_url)() as session:
            return as_events(events_of(session, case_no))

    events = guarded(read)
    if not events:
        fail(f"case_no: 办件 {case_no} 没有任何记录")
    return events


def calendar_for(events: Iterable[CaseEvent]) -> WorkingCalendar:
    """The working-day calendar of the years the events span, plus the configured years
    ahead (2 by default), with the operator's override file."""
    from approval.calendar_source import calendar_of_events

    return guarded(lambda: calendar_of_events(get_settings(), events))


# ---- commands ---------------------------------------------------------------------------------


def timeline_command(case_no: CaseArg, as_json: JsonOpt = False) -> None:
    """Print the case's timeline: who did what, when, in order (办件时间线)."""
    entries = timeline(recorded_events(case_no))
    if as_json:
        render.emit_json(
            {
                "case_no": case_no,
                "timeline": [{**e.model_dump(mode="json"), "what": e.what} for e in entries],
            }
        )
        return
    render.console.print(f"[bold]办件 {case_no} 时间线[/bold]（北京时间）")
    for entry in entries:
        render.console.print(entry.line(), markup=False, highlight=False, soft_wrap=True)


def check_command(case_no: CaseArg, as_json: JsonOpt = False) -> None:
    """Check the case's record against the statutory rules (R3, R9–R14, R16) and against
    itself (R21); exit status 1 when a rule fails."""
    events = recorded_events(case_no)
    results = check_case(events, calendar_for(events))
    failures = failed(results)
    if as_json:
        render.emit_json(
            {
                "case_no": case_no,
                "passed": not failures,
                "rules": [r.model_dump(mode="json") for r in results],
            }
        )
    else:
        _show_results(case_no, results, failures)
    raise typer.Exit(1 if failures else 0)


_COLOURS = {Verdict.PASS: "green", Verdict.FAIL: "red", Verdict.NOT_APPLICABLE: "dim"}


def _show_results(case_no: str, results: list[RuleResult], failures: list[RuleResult]) -> None:
    console = render.console
    console.print(f"[bold]办件 {case_no} 合规检查[/bold]")
    for result in results:
        colour = _COLOURS[result.verdict]
        console.print(
            f"[{colour}]{VERDICT_LABELS[result.verdict.value]}[/{colour}]  "
            f"[bold]{result.rule}[/bold] {result.title_zh}"
        )
        for line in result.evidence:
            console.print(f"      {line}", markup=False, highlight=False, soft_wrap=True)
    if failures:
        ids = SEPARATOR.join(r.rule for r in failures)
        console.print(f"[red]结论：{len(failures)} 条规则不符合（{ids}）[/red]")
    else:
        console.print("[green]结论：未发现违反规则的记录[/green]")


def register(app: typer.Typer) -> None:
    """Add timeline and check to the auditor's app."""
    app.command(name="timeline")(timeline_command)
    app.command(name="check")(check_command)
