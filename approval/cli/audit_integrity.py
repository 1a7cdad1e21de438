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
from approval.cli.common import EXIT_UNAVAILABLE, CaseArg, JsonOpt, fail, guarded
from approval.config import get_settings
from approval.service import EngineUnavailableError, check_case_number
from approval.store.audit_log import events_of
from approval.store.engine import open_store
from approval.store.schema import CaseEventRow

T = TypeVar("T")

UNREACHABLE = EXIT_UNAVAILABLE
"""Exit status when Temporal cannot be reached: nothing could be anchored (1 is a finding, 2
bad input)."""

CaseArgs = Annotated[
    list[str] | None, typer.Argument(help="办件编号，可以给出多个（默认：全部办件）")
]
StoreOnlyOpt = Annotated[
    bool,
    typer.Option("--store-only", help="只核验哈希链，不以工作流历史佐证"),
]
NOT_ANCHORED_HINT = "未能以工作流历史佐证任何办件（`auditor.py verify --store-only` 只核验哈希链）"


def verify(
    cases: CaseArgs = None, store_only: StoreOnlyOpt = False, as_json: JsonOpt = False
) -> None:
    """核验审计哈希链，并以工作流历史佐证（R21）。

    核验每个办件的审计哈希链，并以该办件在 Temporal 中的工作流历史佐证；
    按办件和事件序号列出被改动、缺失、插入、调换顺序的事件，
    以及工作流历史未记载的事件。

    退出码：0 完好，1 发现问题，2 办件编号不存在或格式不正确，3 无法连接 Temporal。"""
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
        where = "存储中没有事件" + ("，也没有工作流历史" if verified.anchored else "")
        fail(f"case_no: 没有办件 {'、'.join(verified.unknown)}（{where}）")
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
        how = "以工作流历史佐证" if verified.anchored else "仅核验哈希链，未以工作流历史佐证"
        verdict = "完好" if verified.intact else f"发现 {len(verified.findings)} 处问题"
        render.console.print(
            f"已核验 {verified.cases} 个办件的 {verified.events_checked} 个事件"
            f"（{how}）：{verdict}",
            highlight=False,
        )
    raise typer.Exit(0 if verified.intact else 1)


def _with_temporal(work: Callable[[], T], hint: str = "") -> T:
    """Run ``work``, which needs Temporal; when Temporal cannot be reached, one line on
    stderr and exit status 3 (UNREACHABLE)."""
    try:
        return guarded(work)
    except EngineUnavailableError as error:
        fail(error.reason + (f"；{hint}" if hint else ""), UNREACHABLE)


def crosscheck_command(case_no: CaseArg, as_json: JsonOpt = False) -> None:
    """对照审计日志与工作流历史（R21）。

    办件的审计日志与其在 Temporal 中的工作流历史应记载同样的事件。

    退出码：0 一致，1 有不同，2 办件不存在，3 无法连接 Temporal。"""
    settings = get_settings()
    checked = guarded(lambda: check_case_number(case_no))

    async def run() -> tuple[WorkflowHistory | None, list[CaseEventRow]]:
        history = await temporal_histories(await reach_temporal(settings))(checked)
        with open_store(settings.store_url)() as session:
            return history, events_of(session, checked)

    history, rows = _with_temporal(lambda: asyncio.run(run()))
    if history is None and not rows:
        fail(f"case_no: 没有办件 {checked}（存储中没有事件，也没有工作流历史）")
    _report(crosscheck(history, rows), "审计日志与工作流历史一致", as_json)


def rebuild_command(as_json: JsonOpt = False) -> None:
    """由工作流历史重建读模型，并与在用存储比较。

    只依据 Temporal 中的工作流历史重建读模型。

    退出码：0 一致，1 有不同，3 无法连接 Temporal。"""
    settings = get_settings()

    async def run() -> list[str]:
        live = open_store(settings.store_url)
        with live() as session:
            case_nos = known_cases(session)
        histories = await case_histories(await reach_temporal(settings), case_nos)
        return differences(live, rebuild(histories, settings.audit_key_bytes), histories)

    found = _with_temporal(lambda: asyncio.run(run()))
    _report(found, "由工作流历史重建的读模型与在用存储一致", as_json)


def _report(found: list[str], ok: str, as_json: bool) -> None:
    if as_json:
        render.emit_json({"differences": found})
    else:
        for line in found:
            render.console.print(f"[red]✗[/red] {line}", highlight=False)
        render.console.print(ok if not found else f"发现 {len(found)} 处不同", highlight=False)
    raise typer.Exit(1 if found else 0)


def register(app: typer.Typer) -> None:
    """Add verify, crosscheck and rebuild to the auditor's app."""
    app.command(name="verify")(verify)
    app.command(name="crosscheck")(crosscheck_command)
    app.command(name="rebuild")(rebuild_command)
