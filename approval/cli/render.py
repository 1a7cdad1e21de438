"""Human-readable output of the command line (Chinese), and ``--json`` for scripts."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from approval.cli.common import emit_json
from approval.cli.labels import LIGHT_LABELS
from approval.domain.calendar import SHANGHAI
from approval.domain.labels import STAGE_LABELS, TASK_LABELS
from approval.domain.status import CaseStatus, ClockStatus

__all__ = ["console", "emit_json", "show_status"]

console = Console()


def _clock(clock: ClockStatus | None) -> str:
    if clock is None:
        return "—"
    if clock.stopped:
        return f"暂停，剩余 {clock.remaining_wd} 个工作日"
    day = clock.last_day.isoformat() if clock.last_day else "?"
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
        due = status.supplement_due.astimezone(SHANGHAI).date() if status.supplement_due else "?"
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
    if status.provisional:
        console.print("[yellow]注意：部分期限按暂定工作日历计算（该年度节假日安排未公布）[/yellow]")


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
            TASK_LABELS[task.state],
            _clock(task.clock),
            " ".join(notes),
        )
    return table
