"""R21: the record is consistent with itself. Each department's task is followed through the
record round by round: one decision per round, only on a task that was dispatched and not
cancelled, only for a department the matter has reviewing; and a decision that approves the
case ("every department agreed", 各部门均审查同意) only after every task agreed in its last
round."""

from __future__ import annotations

from dataclasses import dataclass, field

from approval.domain.compliance.evidence import RuleResult, _Findings
from approval.domain.compliance.labels import NONE, listed, review_round
from approval.domain.compliance.record import _Record, ref
from approval.domain.events import (
    DECISION_EVENTS,
    CaseApproved,
    CaseEventBase,
    CaseRejected,
    DepartmentEvent,
    ReviewApproved,
    ReviewDeemedApproved,
    ReviewDeemedApprovedInAbsence,
    ReviewEscalated,
    ReviewRejected,
    ReviewSupplementRequested,
    ReviewTaskCancelled,
    ReviewTaskDispatched,
    SupplementForwarded,
    WithdrawalNotified,
)

TASK_DECISIONS = (
    ReviewApproved,
    ReviewRejected,
    ReviewSupplementRequested,
    ReviewDeemedApproved,
    ReviewDeemedApprovedInAbsence,
)
"""What closes a round of a department's task: its opinion, or the engine's in its stead."""
AGREEMENTS = (ReviewApproved, ReviewDeemedApproved, ReviewDeemedApprovedInAbsence)
TASK_EVENTS = (
    *TASK_DECISIONS,
    ReviewEscalated,
    ReviewTaskCancelled,
    WithdrawalNotified,
)
"""Events about a department's task once it was dispatched."""
ROUNDED = (
    ReviewTaskDispatched,
    ReviewDeemedApprovedInAbsence,
    ReviewTaskCancelled,
    WithdrawalNotified,
    SupplementForwarded,
)
"""Events that state the round of the department's task they are about."""


@dataclass
class _Task:
    """One department's task as the record shows it: the round it is in and what closed it."""

    department: str
    dispatched: ReviewTaskDispatched
    round: int = 1
    decided: DepartmentEvent | None = None
    """The decision of the current round, if any."""
    cancelled: ReviewTaskCancelled | None = None
    decisions: list[DepartmentEvent] = field(default_factory=list)


def _check_r21(record: _Record) -> RuleResult:
    """R21: no department decides twice in one round, or without a dispatched, uncancelled
    task; no event names a department the matter has no task for; a decision has the task
    events it rests on, and an approval comes only once every task agreed."""
    found = _Findings("R21")
    tasks: dict[str, _Task] = {}
    for e in record.events:
        if isinstance(e, ReviewTaskDispatched):
            _dispatch(found, record, tasks, e)
        elif isinstance(e, SupplementForwarded):
            _forward(found, tasks, e)
        elif isinstance(e, TASK_EVENTS):
            _on_task(found, tasks, e)
        elif isinstance(e, DECISION_EVENTS):
            _check_decision(found, record, tasks, e)
    for task in tasks.values():
        decided = "；".join(ref(d) for d in task.decisions) or NONE
        found.ok(
            f"{task.department}：审查任务分发于{ref(task.dispatched)}；审查意见（每轮至多一个）："
            f"{decided}"
        )
    return found.result()


def _dispatch(
    found: _Findings, record: _Record, tasks: dict[str, _Task], e: ReviewTaskDispatched
) -> None:
    dept = e.department
    reviews = record.periods.reviews if record.periods is not None else None
    if reviews is not None and dept not in reviews:
        found.bad(
            f"{ref(e)}：向 {dept} 分发了审查任务，但该部门不审查本事项（收件时载明的审查部门为 "
            f"{listed(sorted(reviews))}）"
        )
    if dept in tasks:
        found.bad(f"{ref(e)}：再次向 {dept} 分发审查任务（第一次为{ref(tasks[dept].dispatched)}）")
        return
    tasks[dept] = _Task(department=dept, dispatched=e)
    _check_round(found, tasks[dept], e, 1)


def _task_of(found: _Findings, tasks: dict[str, _Task], e: DepartmentEvent) -> _Task | None:
    """The department's task an event is about; a finding when it has none."""
    task = tasks.get(e.department)
    if task is None:
        found.bad(f"{ref(e)}：{e.department} 在本案没有审查任务")
    return task


def _forward(found: _Findings, tasks: dict[str, _Task], e: SupplementForwarded) -> None:
    task = _task_of(found, tasks, e)
    if task is None:
        return
    _check_round(found, task, e, task.round + 1)
    task.round, task.decided = task.round + 1, None


def _on_task(found: _Findings, tasks: dict[str, _Task], e: DepartmentEvent) -> None:
    task = _task_of(found, tasks, e)
    if task is None:
        return
    _check_round(found, task, e, task.round)
    if isinstance(e, ReviewTaskCancelled):
        task.cancelled = e
    if not isinstance(e, TASK_DECISIONS):
        return
    label = review_round(task.department, task.round)
    if task.cancelled is not None:
        found.bad(f"{ref(e)}：{label}在审查任务取消（{ref(task.cancelled)}）后作出审查意见")
    elif task.decided is not None:
        found.bad(f"{ref(e)}：{label}的第二个审查意见（第一个为{ref(task.decided)}）")
    else:
        task.decided = e
        task.decisions.append(e)


def _check_round(found: _Findings, task: _Task, e: CaseEventBase, expected: int) -> None:
    """An event that states its round states the one the record has the task in."""
    if not isinstance(e, ROUNDED):
        return
    stated = e.round
    if stated != expected:
        found.bad(f"{ref(e)}：载明为 {task.department} 第 {stated} 轮，记录中为第 {expected} 轮")


def _check_decision(
    found: _Findings,
    record: _Record,
    tasks: dict[str, _Task],
    decision: CaseApproved | CaseRejected,
) -> None:
    reviews = record.periods.reviews if record.periods is not None else {}
    if not tasks:
        if reviews:
            found.bad(f"{ref(decision)}：作出了决定，但记录中没有审查任务")
        return
    if not isinstance(decision, CaseApproved):
        return
    disagreeing = [f"{dept} 在记录中没有审查任务" for dept in sorted(set(reviews) - set(tasks))]
    for task in tasks.values():
        closed = task.decided
        label = review_round(task.department, task.round)
        if closed is None:
            disagreeing.append(f"{label}（分发于{ref(task.dispatched)}）从未同意或视为同意")
        elif not isinstance(closed, AGREEMENTS):
            disagreeing.append(f"{label}以{ref(closed)}结束")
    claim = f"{ref(decision)}：载明各部门均审查同意"
    for problem in disagreeing:
        found.bad(f"{claim}，但{problem}")
    if not disagreeing:
        found.ok(f"{claim}，且 {len(tasks)} 项审查任务在最后一轮均为同意")
