"""The Chinese names of the case's stages and of the departments' task states, as every face
of the engine shows them to people: the console, the command line, the public progress query
and the auditor's timeline."""

from __future__ import annotations

from datetime import date

from approval.domain.models import ExcludedProcedure, Role
from approval.domain.state import FollowUpCause, Stage, SupervisedClock, TaskState

STAGE_LABELS = {
    Stage.RECEIVED: "已收件，待审查材料",
    Stage.AWAITING_INTAKE_SUPPLEMENT: "已一次性告知，待补正",
    Stage.IN_REVIEW: "并联审查中",
    Stage.AWAITING_SUPPLEMENT: "补正中（计时暂停）",
    Stage.EXCLUDED_PERIOD: "特别程序中（计时暂停）",
    Stage.AWAITING_FEE: "已准予，待缴费",
    Stage.AWAITING_DELIVERY: "待送达",
    Stage.COMPLETED: "已办结",
    Stage.NOT_ACCEPTED: "不予受理",
    Stage.WITHDRAWN: "已撤回",
}

TASK_LABELS = {
    TaskState.WAITING: "等待前置审查",
    TaskState.PENDING: "审查中",
    TaskState.SUPPLEMENT_REQUESTED: "要求补正",
    TaskState.APPROVED: "同意",
    TaskState.REJECTED: "不同意",
    TaskState.DEEMED_APPROVED: "超时默认同意",
    TaskState.CANCELLED: "已取消",
}

ABSENT_AT_MEETING = "缺席默认同意"
"""A task deemed approved because its department was absent from the joint meeting (R10),
said apart from silent consent (超时默认同意)."""

CLOCK_LABELS = {
    SupervisedClock.INTAKE: "窗口受理审查期限",
    SupervisedClock.REVIEW: "部门审查期限",
    SupervisedClock.CASE: "承诺办结期限",
    SupervisedClock.SUPPLEMENT: "补正期限",
    SupervisedClock.DELIVERY: "送达期限",
    SupervisedClock.FOLLOW_UP: "整改答复期限",
}

FOLLOW_UP_CAUSE_LABELS = {
    FollowUpCause.RATING: "差评整改",
    FollowUpCause.COMPLAINT: "效能投诉",
}

ROLE_LABELS = {
    Role.CLERK: "窗口工作人员",
    Role.REVIEWER: "部门审批人员",
    Role.SUPERVISOR: "效能监察人员",
    Role.AUDITOR: "审计人员",
    Role.APPLICANT: "申请人",
    Role.SYSTEM: "系统",
}
"""Who acts, by role."""

ACTION_LABELS = {
    "submit": "收件",
    "accept": "受理",
    "refuse": "不予受理",
    "issue_notice": "出具一次性告知书",
    "supplement": "补正材料",
    "decide": "提出审查意见",
    "extend": "延长审批期限",
    "withdraw": "撤回申请",
    "collect_fee": "收费",
    "deliver": "送达",
    "open_excluded_period": "启动特别程序",
    "close_excluded_period": "结束特别程序",
    "record_meeting": "记录联合审查会议",
    "rate": "评价",
    "complain": "效能投诉",
    "answer_follow_up": "答复整改单",
}
"""The actions people take on a case (a command's ``kind``), as a refusal names them."""

PROCEDURE_NAMES = {
    ExcludedProcedure.HEARING: "听证",
    ExcludedProcedure.TENDER: "招标",
    ExcludedProcedure.AUCTION: "拍卖",
    ExcludedProcedure.INSPECTION: "检验",
    ExcludedProcedure.TESTING: "检测",
    ExcludedProcedure.QUARANTINE: "检疫",
    ExcludedProcedure.APPRAISAL: "鉴定",
    ExcludedProcedure.EXPERT_REVIEW: "专家评审",
}
"""The procedures of art. 45 as the law names them."""


def action_label(action: str) -> str:
    """An action's Chinese name; 此操作 for one that has none."""
    return ACTION_LABELS.get(action, "此操作")


INCLUSIVE = "（含当日）"
"""Said after a deadline's last day wherever one is shown (notices, the command line, the
console): a deadline is the end of its last day (R17), so that day still counts."""


def deadline_text(day: date | None) -> str:
    """A deadline's last day as the command line and the console show it: 2027-01-04（含当日）."""
    return f"{day.isoformat()}{INCLUSIVE}" if day else "—"
