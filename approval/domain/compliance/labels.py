"""How the compliance check says what it found, in Chinese: the events by their Chinese names,
working days, a department's review round, lists of codes, and who recorded an event.

The event names are the auditor's (the timeline shows the same ones); they live here, in the
domain, so that the check, which may not import the auditing layer, can name the events it
cites."""

from __future__ import annotations

from collections.abc import Iterable

from approval.domain.events import CaseEventBase
from approval.domain.labels import ROLE_LABELS
from approval.domain.models import Actor, Role

EVENT_LABELS: dict[str, str] = {
    "ApplicationReceived": "收件",
    "OneTimeNoticeIssued": "一次性告知",
    "SupplementReceived": "收到补正材料",
    "ApplicationAccepted": "受理",
    "ApplicationDeemedAccepted": "视为受理",
    "ApplicationNotAccepted": "不予受理",
    "ReviewTaskDispatched": "分发审查任务",
    "ReviewApproved": "部门同意",
    "ReviewRejected": "部门不同意",
    "ReviewSupplementRequested": "部门要求补正",
    "ReviewDeemedApproved": "超时默认同意",
    "ReviewEscalated": "超期上报督办",
    "ConsolidatedNoticeIssued": "合并一次性告知",
    "ClocksStopped": "计时暂停",
    "ClocksResumed": "计时恢复",
    "SupplementForwarded": "转送补正材料",
    "CaseExtended": "延长审批期限",
    "CasePeriodExpired": "办件超期",
    "CaseApproved": "准予许可",
    "CaseRejected": "不予许可",
    "FeeCollected": "窗口收费",
    "CertificateIssued": "核发证照",
    "DeliveryOverdue": "送达超期",
    "ResultDelivered": "送达",
    "CaseWithdrawn": "撤回申请",
    "WithdrawalNotified": "告知部门撤回",
    "ReviewTaskCancelled": "取消审查任务",
    "CaseLapsed": "逾期未补正",
    "CaseClosed": "结案",
    "NoticeIssued": "发出书面通知",
    "ActionRefused": "拒绝操作",
    "ExcludedPeriodOpened": "特别程序开始（不计时）",
    "ExcludedPeriodClosed": "特别程序结束",
    "JointMeetingRecorded": "联合审查会议",
    "ReviewDeemedApprovedInAbsence": "缺席默认同意",
    "ClockWarned": "黄灯预警催办",
    "RedMarkRecorded": "红灯超期记录（红牌）",
    "CaseRated": "办事评价",
    "RatingPeriodEnded": "评价期限届满",
    "ComplaintLodged": "效能投诉",
    "FollowUpOpened": "整改单下发",
    "FollowUpAnswered": "整改答复",
}
"""Every event type of a case (approval.domain.events), in Chinese."""

SEPARATOR = "、"
NONE = "无"


def event_label(kind: str) -> str:
    """An event type's Chinese name; the type itself for one that has none."""
    return EVENT_LABELS.get(kind, kind)


def named(kind: type[CaseEventBase]) -> str:
    """An event class as a finding names it: ``「超时默认同意」``."""
    return type_named(kind.kind())


def type_named(kind: str) -> str:
    """An event type, by its name, as a finding names it: ``「部门同意」``."""
    return f"「{event_label(kind)}」"


def listed(codes: Iterable[str]) -> str:
    """Codes as ``CGJ、RFB`` in the order given; ``无`` for none."""
    return SEPARATOR.join(codes) or NONE


def wd(days: int) -> str:
    """A number of working days: ``5 个工作日``."""
    return f"{days} 个工作日"


def review_round(department: str, round_: int) -> str:
    """A department's review in one round: ``RFB 第 1 轮审查``."""
    return f"{department} 第 {round_} 轮审查"


def role_label(role: Role) -> str:
    """Who recorded an event, by role: ``窗口工作人员``."""
    return ROLE_LABELS.get(role, role.value)


def recorder(actor: Actor) -> str:
    """Who recorded an event: role, id and department, as the timeline names them; the engine
    as 系统 alone."""
    role = role_label(actor.role)
    if actor.role is Role.SYSTEM:
        return role
    department = f"（{actor.department}）" if actor.department else ""
    return f"{role} {actor.id}{department}"
