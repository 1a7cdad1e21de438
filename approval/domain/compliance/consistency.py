"""R21: the record is consistent with itself. Each department's task is followed through the
record round by round: one decision per round, only on a task that was dispatched and not
cancelled, only for a department the matter has reviewing; and a decision that approves the
case ("every department agreed", 各部门均审查同意) only after every task agreed in its last
round."""

from __future__ import annotations

from dataclasses import dataclass, field

from approval.domain.compliance.evidence import RuleResult, _Findings
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
        decided = "; ".join(ref(d) for d in task.decisions) or "none"
        found.ok(
            f"{task.department}: dispatched at {ref(task.dispatched)}; decisions, at most one "
            f"per round: {decided}"
        )
    return found.result()


def _dispatch(
    found: _Findings, record: _Record, tasks: dict[str, _Task], e: ReviewTaskDispatched
) -> None:
    dept = e.department
    reviews = record.periods.reviews if record.periods is not None else None
    if reviews is not None and dept not in reviews:
        found.bad(
            f"{ref(e)}: a task for {dept}, who does not review this matter "
            f"(the received periods name {sorted(reviews)})"
        )
    if dept in tasks:
        found.bad(
            f"{ref(e)}: {dept}'s task dispatched again (first at {ref(tasks[dept].dispatched)})"
        )
        return
    tasks[dept] = _Task(department=dept, dispatched=e)
    _check_round(found, tasks[dept], e, 1)


def _task_of(found: _Findings, tasks: dict[str, _Task], e: DepartmentEvent) -> _Task | None:
    """The department's task an event is about; a finding when it has none."""
    task = tasks.get(e.department)
    if task is None:
        found.bad(f"{ref(e)}: {e.department} has no task on this case")
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
    label = f"{task.department} round {task.round}"
    if task.cancelled is not None:
        found.bad(
            f"{ref(e)}: {label} decided after its task was cancelled at {ref(task.cancelled)}"
        )
    elif task.decided is not None:
        found.bad(f"{ref(e)}: a second decision of {label} (the first at {ref(task.decided)})")
    else:
        task.decided = e
        task.decisions.append(e)


def _check_round(found: _Findings, task: _Task, e: CaseEventBase, expected: int) -> None:
    """An event that states its round states the one the record has the task in."""
    if not isinstance(e, ROUNDED):
        return
    stated = e.round
    if stated != expected:
        found.bad(
            f"{ref(e)}: states round {stated} of {task.department}; the record has round {expected}"
        )


def _check_decision(
    found: _Findings,
    record: _Record,
    tasks: dict[str, _Task],
    decision: CaseApproved | CaseRejected,
) -> None:
    reviews = record.periods.reviews if record.periods is not None else {}
    if not tasks:
        if reviews:
            found.bad(f"{ref(decision)}: a decision, but no review task is in the record")
        return
    if not isinstance(decision, CaseApproved):
        return
    disagreeing = [
        f"{dept} has no task in the record" for dept in sorted(set(reviews) - set(tasks))
    ]
    for task in tasks.values():
        closed = task.decided
        if closed is None:
            disagreeing.append(
                f"{task.department} round {task.round} (dispatched at {ref(task.dispatched)}) "
                "was never approved or deemed approved"
            )
        elif not isinstance(closed, AGREEMENTS):
            disagreeing.append(f"{task.department} round {task.round} ended in {ref(closed)}")
    claim = f"{ref(decision)}: states that every department agreed (各部门均审查同意)"
    for problem in disagreeing:
        found.bad(f"{claim}, but {problem}")
    if not disagreeing:
        found.ok(f"{claim}, and each of the {len(tasks)} tasks agreed in its last round")
