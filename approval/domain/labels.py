"""The Chinese names of the case's stages and of the departments' task states, as every face
of the engine shows them to people: the console, the command line, the public progress query
and the auditor's timeline."""

from __future__ import annotations

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
