"""The auditor's Chinese labels: event types, actor roles and notice kinds (the timeline), and
the verdicts of the compliance check."""

from __future__ import annotations

from approval.domain.compliance import EVENT_LABELS
from approval.domain.labels import ROLE_LABELS as BY_ROLE
from approval.domain.notices import NoticeKind

__all__ = ["EVENT_LABELS", "NOTICE_LABELS", "ROLE_LABELS", "VERDICT_LABELS"]

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
