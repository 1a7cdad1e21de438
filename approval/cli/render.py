"""Human-readable output of the command line (Chinese), and ``--json`` for scripts."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from approval.cli.common import emit_json
from approval.cli.labels import LIGHT_LABELS
from approval.domain.calendar import SHANGHAI
from approval.domain.case_record import last_day_of
from approval.domain.labels import (
    ABSENT_AT_MEETING,
    FOLLOW_UP_CAUSE_LABELS,
    STAGE_LABELS,
    TASK_LABELS,
    deadline_text,
)
from approval.domain.state import FollowUpCause
from approval.domain.status import CaseStatus, ClockStatus, Light

__all__ = ["console", "emit_json", "show_follow_ups", "show_status"]

console = Console()


def _clock(clock: ClockStatus | None) -> str:
    if clock is None:
        return "—"
    if clock.stopped:
        return f"暂停，剩余 {clock.remaining_wd} 个工作日"
    day = deadline_text(clock.last_day)
    mark = "（暂定）" if clock.provisional else ""
    return f"{day}{mark} 剩余 {clock.remaining_wd} 个工作日 {LIGHT_LABELS[clock.light]}"


def show_status(status: CaseStatus) -> None:
    """The case at a glance: stage, deadlines and every department's task."""
    console.print(
        f"[bold]办件 {status.case_no}[/bold]  {status.matter_name}（{status.matter_code}）"
    )
    console.print(
        f"申请人：{status.applicant_name}    状态：[bold]{STAGE_LABELS[status.stage]}[/bold]"
    )
    received = status.received_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    console.print(f"收件时间：{received}    事项目录版本：{status.catalogue_version}")
    if status.missing_materials:
        console.print(f"缺少材料：{', '.join(status.missing_materials)}")
    if status.open_notice_items:
        due = deadline_text(last_day_of(status.supplement_due))
        console.print(f"待补正：{', '.join(status.open_notice_items)}（补正期限 {due}）")
    if status.intake_clock:
        console.print(f"受理审查期限：{_clock(status.intake_clock)}")
    if status.case_clock:
        extended = "（已延期）" if status.extended else ""
        console.print(f"承诺办结期限{extended}：{_clock(status.case_clock)}")
    if status.delivery_clock:
        console.print(f"送达期限：{_clock(status.delivery_clock)}")
    if status.tasks:
        console.print(_task_table(status))
    if status.decision:
        verdict = "准予许可" if status.decision.approved else "不予许可"
        deemed = (
            "，超时默认：" + "、".join(status.decision.deemed_departments)
            if status.decision.deemed_departments
            else ""
        )
        console.print(f"决定：[bold]{verdict}[/bold]{deemed}")
    if status.rating:
        comment = f"（{status.rating.comment}）" if status.rating.comment else ""
        console.print(f"评价：{status.rating.level.label}{comment}")
    if status.follow_ups:
        console.print(_follow_up_table(status))
    if status.provisional:
        console.print("[yellow]注意：部分期限按暂定工作日历计算（该年度节假日安排未公布）[/yellow]")


def _follow_up_table(status: CaseStatus) -> Table:
    table = Table("整改单", "承办", "原因", "期限", "答复")
    for follow_up in status.follow_ups:
        answered = "—"
        if follow_up.answered_at:
            answered = "按时答复" if follow_up.on_time else "[red]逾期答复[/red]"
        table.add_row(
            follow_up.follow_up_no,
            follow_up.party_name,
            FOLLOW_UP_CAUSE_LABELS[follow_up.cause],
            _clock(follow_up.clock),
            answered,
        )
    return table


def show_follow_ups(follow_ups: list[dict[str, Any]]) -> None:
    """A party's follow-ups, as the API listed them."""
    table = Table("整改单", "办件", "承办", "原因", "最后期限", "灯", "答复")
    for f in follow_ups:
        answered = "—" if not f["answered_at"] else ("按时" if f["on_time"] else "逾期")
        table.add_row(
            f["follow_up_no"],
            f["case_no"],
            f["party_name"],
            FOLLOW_UP_CAUSE_LABELS[FollowUpCause(f["cause"])],
            f["last_day"] or "—",
            LIGHT_LABELS[Light(f["light"])],
            answered,
        )
    console.print(table if follow_ups else "没有整改单")


def _task_table(status: CaseStatus) -> Table:
    table = Table("部门", "状态", "期限", "备注")
    for task in status.tasks:
        notes = []
        if task.overdue:
            notes.append("[red]超期[/red]")
        if task.escalated:
            notes.append("[red]已上报监察[/red]")
        if task.reasons:
            notes.append(task.reasons)
        if task.requested_items:
            notes.append("补正：" + ",".join(task.requested_items))
        table.add_row(
            f"{task.name}（{task.department}）",
            ABSENT_AT_MEETING if task.absent_at_meeting else TASK_LABELS[task.state],
            _clock(task.clock),
            " ".join(notes),
        )
    return table
