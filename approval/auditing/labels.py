"""The auditor's Chinese labels: event types, actor roles and notice kinds (the timeline), and
the verdicts of the compliance check."""

from __future__ import annotations

from approval.domain.labels import ROLE_LABELS as BY_ROLE
from approval.domain.notices import NoticeKind

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

ROLE_LABELS: dict[str, str] = {role.value: label for role, label in BY_ROLE.items()}
"""Who acted, by role."""

NOTICE_LABELS: dict[str, str] = {
    NoticeKind.ACCEPTANCE_VOUCHER.value: "受理通知书",
    NoticeKind.NON_ACCEPTANCE_VOUCHER.value: "不予受理通知书",
    NoticeKind.ONE_TIME_NOTICE.value: "一次性告知书",
    NoticeKind.CONSOLIDATED_NOTICE.value: "补正材料一次性告知书",
    NoticeKind.EXTENSION_NOTICE.value: "延长审批期限告知书",
    NoticeKind.APPROVAL_DECISION.value: "准予行政许可决定书",
    NoticeKind.REJECTION_DECISION.value: "不予行政许可决定书",
    NoticeKind.CERTIFICATE.value: "证照",
    NoticeKind.WITHDRAWAL_NOTICE.value: "撤回申请确认书",
    NoticeKind.LAPSE_NOTICE.value: "逾期未补正视为撤回通知书",
    NoticeKind.EXCLUDED_PERIOD_NOTICE.value: "特别程序期间告知书",
    NoticeKind.FOLLOW_UP_REPLY.value: "整改情况告知书",
}
"""The written notices to the applicant, by kind."""

VERDICT_LABELS: dict[str, str] = {
    "pass": "符合",
    "fail": "不符合",
    "not_applicable": "不适用",
}
"""A rule's verdict as the compliance check prints it."""
