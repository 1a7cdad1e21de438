"""The auditor's reading of one case's record as a story in Chinese: who did what, when.

Each event's key facts are told by one small function of its class, from its typed fields
(approval.domain.events): departments, items with their reasons, deadlines as the days people
read in Shanghai, the notices by kind. Pure: no I/O, no settings, no command line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import singledispatch

from pydantic import BaseModel

from approval.auditing.labels import EVENT_LABELS, NOTICE_LABELS, ROLE_LABELS
from approval.domain.calendar import SHANGHAI
from approval.domain.compliance import when
from approval.domain.events import (
    ActionRefused,
    ApplicationAccepted,
    ApplicationDeemedAccepted,
    ApplicationNotAccepted,
    ApplicationReceived,
    CaseApproved,
    CaseClosed,
    CaseEventBase,
    CaseExtended,
    CaseLapsed,
    CasePeriodExpired,
    CaseRated,
    CaseRejected,
    CaseWithdrawn,
    CertificateIssued,
    ClocksResumed,
    ClocksStopped,
    ClockWarned,
    ComplaintLodged,
    ConsolidatedNoticeIssued,
    DeliveryOverdue,
    ExcludedPeriodClosed,
    ExcludedPeriodOpened,
    FeeCollected,
    FollowUpAnswered,
    FollowUpOpened,
    JointMeetingRecorded,
    NoticeIssued,
    OneTimeNoticeIssued,
    RatingPeriodEnded,
    RedMarkRecorded,
    ResultDelivered,
    ReviewApproved,
    ReviewDeemedApproved,
    ReviewDeemedApprovedInAbsence,
    ReviewEscalated,
    ReviewRejected,
    ReviewSupplementRequested,
    ReviewTaskCancelled,
    ReviewTaskDispatched,
    StoredEvent,
    SupplementForwarded,
    SupplementReceived,
    WithdrawalNotified,
    as_events,
)
from approval.domain.labels import (
    CLOCK_LABELS,
    FOLLOW_UP_CAUSE_LABELS,
    PROCEDURE_NAMES,
    STAGE_LABELS,
)
from approval.domain.models import APPLICANT_PARTY, WINDOW, ExcludedProcedure, NoticeItem, Role

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


def timeline(events: Iterable[CaseEventBase | StoredEvent]) -> list[TimelineEntry]:
    """The case's story in seq order, one entry per event. ``events`` are typed events or
    store rows (``CaseEventRow``)."""
    return [_entry(event) for event in as_events(events)]


def who(event: CaseEventBase) -> str:
    """The actor of an event in Chinese: role, id and, where there is one, department; the
    engine itself as 系统 alone (its id is no person's)."""
    actor = event.actor
    role = ROLE_LABELS.get(actor.role.value, actor.role.value)
    if actor.role is Role.SYSTEM:
        return role
    department = f"（{actor.department}）" if actor.department else ""
    return f"{role} {actor.id}{department}"


def _entry(event: CaseEventBase) -> TimelineEntry:
    return TimelineEntry(
        seq=event.seq,
        at=event.at,
        time=when(event.at),
        type=event.type,
        who=who(event),
        label=EVENT_LABELS.get(event.type, event.type),
        facts=facts(event),
    )


# ---- how facts are told -----------------------------------------------------------------------


def _listed(values: Sequence[str]) -> str:
    """Codes or names as ``ZJJ、RFB``; ``无`` for none."""
    return SEPARATOR.join(values) if values else "无"


def _items(items: Sequence[NoticeItem]) -> str:
    """Notice items as ``SJFA（总平面图比例不符）、RFSJ（防护等级未注明）``; ``无`` for none."""
    return SEPARATOR.join(f"{i.code}（{i.reason}）" for i in items) if items else "无"


def _day(value: date) -> str:
    """A date, or an instant as the day people read it (Shanghai)."""
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.astimezone(SHANGHAI).date().isoformat()
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat()


def _last_day(end: datetime | None) -> str:
    """The last whole day of a period that ends at the instant ``end`` (a midnight)."""
    if end is None:
        return "?"
    return (end - timedelta(microseconds=1)).astimezone(SHANGHAI).date().isoformat()


def _provisional(provisional: bool) -> str:
    return "（暂定）" if provisional else ""


def _overdue(overdue: bool) -> str:
    return "，记为超期" if overdue else ""


def _procedure(procedure: ExcludedProcedure) -> str:
    """The excluded procedure of art. 45, in Chinese."""
    return PROCEDURE_NAMES.get(procedure, procedure.value)


# ---- the facts of each event ------------------------------------------------------------------


@singledispatch
def facts(event: CaseEventBase) -> str:
    """The key facts of an event in Chinese (department, items, reasons, dates…)."""
    raise TypeError(f"时间线未定义该类事件的事实：{type(event).__name__}")


@facts.register
def _received(e: ApplicationReceived) -> str:
    periods = e.periods
    consent = "适用超时默认" if periods.silent_consent else "不适用超时默认"
    return (
        f"事项 {e.matter_code}（目录版本 {e.catalogue_version}）；"
        f"已交材料 {_listed(e.materials)}；缺少 {_listed(e.missing)}"
        f"；告知期限 {periods.notice_wd} 个工作日，承诺时限 "
        f"{periods.committed_wd} 个工作日（法定 {periods.statutory_wd}），{consent}"
    )


@facts.register
def _accepted(e: ApplicationAccepted) -> str:
    return f"受理日 {_day(e.as_of)}；承诺办结日 {_day(e.due)}{_provisional(e.provisional)}"


@facts.register
def _deemed_accepted(e: ApplicationDeemedAccepted) -> str:
    return (
        f"窗口逾期未告知也未受理，视为自 {_day(e.as_of)} 起受理；"
        f"承诺办结日 {_day(e.due)}{_provisional(e.provisional)}"
    )


@facts.register
def _not_accepted(e: ApplicationNotAccepted) -> str:
    return f"理由：{e.reason}"


@facts.register
def _one_time_notice(e: OneTimeNoticeIssued) -> str:
    return f"告知补正：{_items(e.items)}"


@facts.register
def _supplement(e: SupplementReceived) -> str:
    return _listed(e.materials)


@facts.register
def _dispatched(e: ReviewTaskDispatched) -> str:
    return (
        f"{e.department} 第{e.round}轮审查，期限至 {_last_day(e.due)}{_provisional(e.provisional)}"
    )


@facts.register
def _review_approved(e: ReviewApproved) -> str:
    return f"{e.department}，意见：{e.opinion}" if e.opinion else e.department


@facts.register
def _review_rejected(e: ReviewRejected) -> str:
    return f"{e.department}，理由：{e.reasons}"


@facts.register
def _review_supplement(e: ReviewSupplementRequested) -> str:
    return f"{e.department}：{_items(e.items)}（该部门计时暂停）"


@facts.register
def _review_deemed(e: ReviewDeemedApproved) -> str:
    return f"{e.department} 审查期限届满未答复{_overdue(e.overdue)}"


@facts.register
def _review_escalated(e: ReviewEscalated) -> str:
    return f"{e.department} 审查期限届满未答复，本事项不适用超时默认，上报督办{_overdue(e.overdue)}"


@facts.register
def _review_absent(e: ReviewDeemedApprovedInAbsence) -> str:
    return f"{e.department} 缺席联合审查会议（第{e.meeting_seq}号事件），视为同意"


@facts.register
def _task_cancelled(e: ReviewTaskCancelled) -> str:
    return f"{e.department} 第{e.round}轮审查任务取消：{e.reason}"


@facts.register
def _withdrawal_notified(e: WithdrawalNotified) -> str:
    return f"已告知 {e.department} 申请已撤回（第{e.round}轮）"


@facts.register
def _forwarded(e: SupplementForwarded) -> str:
    return f"转送 {e.department}，进入第{e.round}轮审查"


@facts.register
def _consolidated(e: ConsolidatedNoticeIssued) -> str:
    return f"补正事项 {_items(e.items)}；提出部门：{_listed(e.departments)}"


@facts.register
def _stopped(e: ClocksStopped) -> str:
    during = f"{_procedure(e.procedure)}期间" if e.procedure else "申请人补正期间"
    return f"{during}，办件及各部门计时全部暂停（不计入办理时限）"


@facts.register
def _resumed(e: ClocksResumed) -> str:
    after = "特别程序结束" if e.after == "excluded_period" else "补正材料已收到"
    return f"{after}，各项计时按暂停时剩余的工作日恢复"


@facts.register
def _excluded_opened(e: ExcludedPeriodOpened) -> str:
    return (
        f"{_procedure(e.procedure)}，理由：{e.reason}；预计 {e.expected_wd} 个工作日"
        f"（至 {e.expected_last_day.isoformat()}），不计入办理时限"
    )


@facts.register
def _excluded_closed(e: ExcludedPeriodClosed) -> str:
    return f"{_procedure(e.procedure)}结束，结论：{e.result}"


@facts.register
def _meeting(e: JointMeetingRecorded) -> str:
    return f"出席：{_listed(e.present)}；缺席：{_listed(e.absent)}；纪要：{e.minutes}"


@facts.register
def _extended(e: CaseExtended) -> str:
    return f"延长 {e.extra_wd} 个工作日，理由：{e.reason}"


@facts.register
def _period_expired(e: CasePeriodExpired) -> str:
    return "超过承诺办结时限，记为超期"


@facts.register
def _case_approved(e: CaseApproved) -> str:
    notes = [
        f"{how}：{_listed(departments)}"
        for departments, how in (
            (e.deemed_departments, "超时默认同意"),
            (e.absent_departments, "缺席默认同意"),
        )
        if departments
    ]
    return "；".join(notes) if notes else "各部门均审查同意"


@facts.register
def _case_rejected(e: CaseRejected) -> str:
    return "；".join(f"{department}：{reasons}" for department, reasons in e.rejections.items())


@facts.register
def _fee(e: FeeCollected) -> str:
    return f"收取费用 {e.amount_yuan} 元，票据号 {e.receipt_no}"


@facts.register
def _certificate(e: CertificateIssued) -> str:
    return f"证照编号 {e.certificate_no}"


@facts.register
def _delivered(e: ResultDelivered) -> str:
    return e.method


@facts.register
def _delivery_overdue(e: DeliveryOverdue) -> str:
    return "超过送达期限，记为超期"


@facts.register
def _withdrawn(e: CaseWithdrawn) -> str:
    return f"理由：{e.reason}"


@facts.register
def _lapsed(e: CaseLapsed) -> str:
    return f"补正期限 {_last_day(e.supplement_due)} 届满未补正，视为撤回申请"


@facts.register
def _closed(e: CaseClosed) -> str:
    return STAGE_LABELS.get(e.stage, e.stage.value)


@facts.register
def _notice(e: NoticeIssued) -> str:
    notice = e.notice
    kind = notice.kind.value
    parts = [f"《{NOTICE_LABELS.get(kind, kind)}》{notice.notice_no}"]
    if notice.items:
        parts.append(f"补正事项：{_items(notice.items)}")
    if notice.rejections:
        reasons = "；".join(f"{r.department}：{r.reasons}" for r in notice.rejections)
        parts.append(f"不予许可理由：{reasons}")
    if notice.deemed_departments:
        parts.append(f"超时默认同意：{_listed(notice.deemed_departments)}")
    if notice.as_of:
        parts.append(f"受理日 {notice.as_of.isoformat()}")
    if notice.due:
        parts.append(f"期限 {notice.due.isoformat()}{_provisional(notice.due_provisional)}")
    if notice.reason:
        parts.append(f"理由：{notice.reason}")
    if notice.competent_organ:
        parts.append(f"有权机关：{notice.competent_organ}")
    return "；".join(parts)


@facts.register
def _refused(e: ActionRefused) -> str:
    return f"{e.action} 被拒绝（{e.field}）：{e.reason}"


@facts.register
def _warned(e: ClockWarned) -> str:
    clock, left = CLOCK_LABELS[e.clock], e.remaining_wd
    return f"{_party(e.party)} {clock}至 {e.last_day.isoformat()}，剩余 {left} 个工作日，已催办"


@facts.register
def _red_mark(e: RedMarkRecorded) -> str:
    return (
        f"{_party(e.party)} {CLOCK_LABELS[e.clock]}（至 {e.last_day.isoformat()}）届满，记红牌一次"
    )


@facts.register
def _rated(e: CaseRated) -> str:
    comment = f"；意见：{e.comment}" if e.comment else ""
    concerns = f"；涉及：{_listed([_party(p) for p in e.concerns])}" if e.concerns else ""
    return f"{e.level.label}{comment}{concerns}"


@facts.register
def _rating_ended(e: RatingPeriodEnded) -> str:
    return "评价期限届满，申请人未评价"


@facts.register
def _complaint(e: ComplaintLodged) -> str:
    return f"{e.text}；涉及：{_listed([_party(p) for p in e.concerns])}"


@facts.register
def _follow_up_opened(e: FollowUpOpened) -> str:
    cause, until = FOLLOW_UP_CAUSE_LABELS[e.cause], _last_day(e.due)
    return f"{cause} {e.follow_up_no} 交 {e.party_name}，{e.period_wd} 个工作日内答复（至 {until}）"


@facts.register
def _follow_up_answered(e: FollowUpAnswered) -> str:
    late = "" if e.on_time else "（逾期答复）"
    return f"{e.follow_up_no} {_party(e.party)} 答复{late}：{e.explanation}；整改：{e.remedy}"


def _party(party: str) -> str:
    """A clock's or follow-up's party as the timeline names it."""
    return PARTY_LABELS.get(party, party)


PARTY_LABELS = {WINDOW: "窗口", APPLICANT_PARTY: "申请人"}
