"""The auditor's reading of one case: its timeline in Chinese (who did what, when) and the check
of the statutory rules against its record (approval.domain.compliance).

    uv run python auditor.py timeline 371600-20261128-000001 [--json]
    uv run python auditor.py check 371600-20261128-000001 [--json]

Both read the audit log in the store only; ``check`` exits 1 when a rule fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from approval.cli import render
from approval.cli.app import fail, guarded
from approval.cli.labels import STAGE_LABELS
from approval.cli.timeline_labels import EVENT_LABELS, NOTICE_LABELS, ROLE_LABELS, VERDICT_LABELS
from approval.config import get_settings
from approval.domain.calendar import SHANGHAI, WorkingCalendar
from approval.domain.compliance import (
    RecordedEvent,
    RuleResult,
    Verdict,
    as_recorded,
    check_case,
    failed,
    when,
)
from approval.domain.documents import PROCEDURE_NAMES
from approval.domain.models import ExcludedProcedure
from approval.domain.state import Stage

SEPARATOR = "、"


class TimelineEntry(BaseModel):
    """One line of a case's story: when, who, what."""

    seq: int
    at: datetime
    time: str
    """``at`` in Asia/Shanghai, as ``2026-11-28 09:30``."""
    type: str
    who: str
    """Role in Chinese, id and department: ``部门审批人员 rev-zjj（ZJJ）``."""
    label: str
    """The event type in Chinese."""
    facts: str
    """The key facts of the event in Chinese (department, items, reasons, dates…)."""

    @property
    def what(self) -> str:
        """Label and facts together."""
        return f"{self.label}：{self.facts}" if self.facts else self.label

    def line(self) -> str:
        """The entry as one printed line."""
        return f"{self.seq:>3}  {self.time}  {self.who}  {self.what}"


def timeline(events: Iterable[object]) -> list[TimelineEntry]:
    """The case's story in seq order, one entry per event. ``events`` are recorded events,
    domain ``CaseEvent``s or store rows (``CaseEventRow``)."""
    return [_entry(e) for e in as_recorded(events)]


def who(event: RecordedEvent) -> str:
    """The actor of an event in Chinese: role, id and, where there is one, department."""
    role = ROLE_LABELS.get(event.actor_role, event.actor_role)
    department = f"（{event.actor_department}）" if event.actor_department else ""
    return f"{role} {event.actor_id}{department}"


def _entry(event: RecordedEvent) -> TimelineEntry:
    describe = _FACTS.get(event.type)
    facts = describe(event.payload) if describe else _raw(event.payload)
    return TimelineEntry(
        seq=event.seq,
        at=event.at,
        time=when(event.at),
        type=event.type,
        who=who(event),
        label=EVENT_LABELS.get(event.type, event.type),
        facts=facts,
    )


# ---- facts of each event type -----------------------------------------------------------------


def _s(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    return "" if value is None else str(value)


def _list(value: object) -> str:
    if not isinstance(value, list | tuple) or not value:
        return "无"
    return SEPARATOR.join(str(v) for v in value)


def _items(value: object) -> str:
    """Notice items as ``SJFA（总平面图比例不符）、RFSJ（防护等级未注明）``."""
    if not isinstance(value, list) or not value:
        return "无"
    return SEPARATOR.join(
        f"{i.get('code')}（{i.get('reason')}）" if isinstance(i, dict) else str(i) for i in value
    )


def _date(value: object) -> str:
    """A date or an instant as the day people read (Shanghai)."""
    text = "" if value is None else str(value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text or "?"
    if moment.utcoffset() is None:
        return moment.date().isoformat()
    return moment.astimezone(SHANGHAI).date().isoformat()


def _last_day(value: object) -> str:
    """The last whole day of a period that ends at the instant ``value`` (a midnight)."""
    try:
        end = datetime.fromisoformat(str(value))
    except ValueError:
        return "?"
    return (end - timedelta(microseconds=1)).astimezone(SHANGHAI).date().isoformat()


def _provisional(payload: Mapping[str, Any], key: str = "provisional") -> str:
    return "（暂定）" if payload.get(key) else ""


def _received(p: Mapping[str, Any]) -> str:
    periods = p.get("periods")
    limits = ""
    if isinstance(periods, dict):
        consent = "适用超时默认" if periods.get("silent_consent") else "不适用超时默认"
        limits = (
            f"；告知期限 {periods.get('notice_wd')} 个工作日，承诺时限 "
            f"{periods.get('committed_wd')} 个工作日（法定 {periods.get('statutory_wd')}），"
            f"{consent}"
        )
    return (
        f"事项 {_s(p, 'matter_code')}（目录版本 {_s(p, 'catalogue_version')}）；"
        f"已交材料 {_list(p.get('materials'))}；缺少 {_list(p.get('missing'))}{limits}"
    )


def _accepted(p: Mapping[str, Any]) -> str:
    return f"受理日 {_date(p.get('as_of'))}；承诺办结日 {_date(p.get('due'))}{_provisional(p)}"


def _deemed_accepted(p: Mapping[str, Any]) -> str:
    return (
        f"窗口逾期未告知也未受理，视为自 {_date(p.get('as_of'))} 起受理；"
        f"承诺办结日 {_date(p.get('due'))}{_provisional(p)}"
    )


def _dispatched(p: Mapping[str, Any]) -> str:
    return (
        f"{_s(p, 'department')} 第{_s(p, 'round')}轮审查，期限至 {_last_day(p.get('due'))}"
        f"{_provisional(p)}"
    )


def _case_approved(p: Mapping[str, Any]) -> str:
    notes = [
        f"{how}：{_list(p.get(key))}"
        for key, how in (
            ("deemed_departments", "超时默认同意"),
            ("absent_departments", "缺席默认同意"),
        )
        if p.get(key)
    ]
    return "；".join(notes) if notes else "各部门均审查同意"


def _procedure(p: Mapping[str, Any]) -> str:
    """The excluded procedure of art. 45, in Chinese."""
    try:
        return PROCEDURE_NAMES[ExcludedProcedure(_s(p, "procedure"))]
    except ValueError:
        return _s(p, "procedure")


def _case_rejected(p: Mapping[str, Any]) -> str:
    rejections = p.get("rejections")
    if not isinstance(rejections, dict):
        return ""
    return "；".join(f"{d}：{r}" for d, r in rejections.items())


def _notice(p: Mapping[str, Any]) -> str:
    notice = p.get("notice")
    if not isinstance(notice, dict):
        return _raw(p)
    kind = str(notice.get("kind"))
    parts = [f"《{NOTICE_LABELS.get(kind, kind)}》{notice.get('notice_no')}"]
    if notice.get("items"):
        parts.append(f"补正事项：{_items(notice.get('items'))}")
    rejections = notice.get("rejections")
    if isinstance(rejections, list) and rejections:
        parts.append(
            "不予许可理由："
            + "；".join(
                f"{r.get('department')}：{r.get('reasons')}"
                for r in rejections
                if isinstance(r, dict)
            )
        )
    if notice.get("deemed_departments"):
        parts.append(f"超时默认同意：{_list(notice.get('deemed_departments'))}")
    if notice.get("as_of"):
        parts.append(f"受理日 {notice.get('as_of')}")
    if notice.get("due"):
        parts.append(f"期限 {notice.get('due')}{_provisional(notice, 'due_provisional')}")
    if notice.get("reason"):
        parts.append(f"理由：{notice.get('reason')}")
    if notice.get("competent_organ"):
        parts.append(f"有权机关：{notice.get('competent_organ')}")
    return "；".join(parts)


def _closed(p: Mapping[str, Any]) -> str:
    stage = _s(p, "stage")
    try:
        return STAGE_LABELS[Stage(stage)]
    except ValueError:
        return stage


def _raw(p: Mapping[str, Any]) -> str:
    return "；".join(f"{k}={v}" for k, v in p.items())


_FACTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "ApplicationReceived": _received,
    "OneTimeNoticeIssued": lambda p: f"告知补正：{_items(p.get('items'))}",
    "SupplementReceived": lambda p: _list(p.get("materials")),
    "ApplicationAccepted": _accepted,
    "ApplicationDeemedAccepted": _deemed_accepted,
    "ApplicationNotAccepted": lambda p: f"理由：{_s(p, 'reason')}",
    "ReviewTaskDispatched": _dispatched,
    "ReviewApproved": lambda p: _s(p, "department"),
    "ReviewRejected": lambda p: f"{_s(p, 'department')}，理由：{_s(p, 'reasons')}",
    "ReviewSupplementRequested": lambda p: (
        f"{_s(p, 'department')}：{_items(p.get('items'))}（该部门计时暂停）"
    ),
    "ReviewDeemedApproved": lambda p: (
        f"{_s(p, 'department')} 审查期限届满未答复{'，记为超期' if p.get('overdue') else ''}"
    ),
    "ReviewEscalated": lambda p: (
        f"{_s(p, 'department')} 审查期限届满未答复，本事项不适用超时默认，上报督办"
        f"{'，记为超期' if p.get('overdue') else ''}"
    ),
    "ConsolidatedNoticeIssued": lambda p: (
        f"补正事项 {_items(p.get('items'))}；提出部门：{_list(p.get('departments'))}"
    ),
    "ClocksStopped": lambda p: (
        (f"{_procedure(p)}期间" if p.get("procedure") else "申请人补正期间")
        + "，办件及各部门计时全部暂停（不计入办理时限）"
    ),
    "ClocksResumed": lambda p: (
        ("特别程序结束" if p.get("after") == "excluded_period" else "补正材料已收到")
        + "，各项计时按暂停时剩余的工作日恢复"
    ),
    "ExcludedPeriodOpened": lambda p: (
        f"{_procedure(p)}，理由：{_s(p, 'reason')}；预计 {_s(p, 'expected_wd')} 个工作日"
        f"（至 {_s(p, 'expected_last_day')}），不计入办理时限"
    ),
    "ExcludedPeriodClosed": lambda p: f"{_procedure(p)}结束，结论：{_s(p, 'result')}",
    "JointMeetingRecorded": lambda p: (
        f"出席：{_list(p.get('present'))}；缺席：{_list(p.get('absent'))}；纪要：{_s(p, 'minutes')}"
    ),
    "ReviewDeemedApprovedInAbsence": lambda p: (
        f"{_s(p, 'department')} 缺席联合审查会议（第{_s(p, 'meeting_seq')}号事件），视为同意"
    ),
    "SupplementForwarded": lambda p: f"转送 {_s(p, 'department')}，进入第{_s(p, 'round')}轮审查",
    "CaseExtended": lambda p: f"延长 {_s(p, 'extra_wd')} 个工作日，理由：{_s(p, 'reason')}",
    "CasePeriodExpired": lambda p: "超过承诺办结时限，记为超期",
    "CaseApproved": _case_approved,
    "CaseRejected": _case_rejected,
    "FeeCollected": lambda p: f"收取费用 {_s(p, 'amount_yuan')} 元，票据号 {_s(p, 'receipt_no')}",
    "CertificateIssued": lambda p: f"证照编号 {_s(p, 'certificate_no')}",
    "DeliveryOverdue": lambda p: "超过送达期限，记为超期",
    "ResultDelivered": lambda p: _s(p, "method"),
    "CaseWithdrawn": lambda p: f"理由：{_s(p, 'reason')}",
    "WithdrawalNotified": lambda p: (
        f"已告知 {_s(p, 'department')} 申请已撤回（第{_s(p, 'round')}轮）"
    ),
    "ReviewTaskCancelled": lambda p: (
        f"{_s(p, 'department')} 第{_s(p, 'round')}轮审查任务取消：{_s(p, 'reason')}"
    ),
    "CaseLapsed": lambda p: (
        f"补正期限 {_last_day(p.get('supplement_due'))} 届满未补正，视为撤回申请"
    ),
    "CaseClosed": _closed,
    "NoticeIssued": _notice,
    "ActionRefused": lambda p: f"{_s(p, 'action')} 被拒绝（{_s(p, 'field')}）：{_s(p, 'reason')}",
}


# ---- reading the store ------------------------------------------------------------------------


def recorded_events(case_no: str) -> list[RecordedEvent]:
    """The audit log of ``case_no`` from the store; exits 2 when nothing is recorded."""
    from approval.runtime import open_store
    from approval.store.repository import events_of

    def read() -> list[RecordedEvent]:
        with open_store(get_settings().store_url)() as session:
            return as_recorded(events_of(session, case_no))

    events = guarded(read)
    if not events:
        fail(f"case_no: no events recorded for {case_no}")
    return events


def calendar_for(events: Iterable[RecordedEvent]) -> WorkingCalendar:
    """The working-day calendar of the years the events span, plus the configured years
    ahead (2 by default), with the operator's override file."""
    from approval.calendar_source import calendar_of_events

    return guarded(lambda: calendar_of_events(get_settings(), events))


# ---- commands ---------------------------------------------------------------------------------

CaseArg = Annotated[str, typer.Argument(help="case number, e.g. 371600-20261128-000001")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


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
    console.print(f"[bold]办件 {case_no} 合规检查[/bold] compliance check")
    for result in results:
        colour = _COLOURS[result.verdict]
        console.print(
            f"[{colour}]{VERDICT_LABELS[result.verdict.value]}[/{colour}]  "
            f"[bold]{result.rule}[/bold] {result.title_zh} · {result.title_en}"
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
