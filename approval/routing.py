"""Which department systems hear of a step of a case, and what they are sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from approval.contracts import DepartmentMessage, DepartmentMessageKind
from approval.domain.models import CaseEvent
from approval.domain.state import CaseState, Decision

EVENT_MESSAGES = {
    "ReviewTaskDispatched": DepartmentMessageKind.TASK,
    "SupplementForwarded": DepartmentMessageKind.SUPPLEMENT,
    "ReviewTaskCancelled": DepartmentMessageKind.CANCEL,
    "WithdrawalNotified": DepartmentMessageKind.CANCEL,
    "ReviewDeemedApprovedInAbsence": DepartmentMessageKind.CANCEL,
}
DECISION_EVENTS = frozenset({"CaseApproved", "CaseRejected"})
"""The events that decide a case (R14)."""


def decides(events: Sequence[CaseEvent]) -> bool:
    """True when the step decided the case."""
    return any(event.type in DECISION_EVENTS for event in events)


def department_messages(state: CaseState, events: Sequence[CaseEvent]) -> list[DepartmentMessage]:
    """One message per dispatched task, forwarded supplement or cancelled task; every
    department gets the same full set of materials (R7)."""
    materials = tuple(state.materials[code] for code in sorted(state.materials))
    messages = []
    for event in events:
        kind = EVENT_MESSAGES.get(event.type)
        if kind is None:
            continue
        department = str(event.data["department"])
        task = state.tasks[department]
        due = event.data.get("due")
        messages.append(
            DepartmentMessage(
                case_no=state.case_no,
                department=department,
                kind=kind,
                round=int(event.data.get("round", task.round)),
                matter_code=state.matter.code,
                matter_name=state.matter.name,
                materials=() if kind is DepartmentMessageKind.CANCEL else materials,
                due=datetime.fromisoformat(due) if isinstance(due, str) else None,
                reason=event.data.get("reason"),
            )
        )
    return messages


def decision_messages(state: CaseState, events: Sequence[CaseEvent]) -> list[DepartmentMessage]:
    """When the step decided the case: one message to every department that had a task on it
    (dispatched at least once), with the decision and, on a rejection, every department's
    reasons. Nothing otherwise."""
    decision = state.decision
    if decision is None or not decides(events):
        return []
    reason = _decision_text(decision, {t.department: t.name for t in state.tasks.values()})
    return [
        DepartmentMessage(
            case_no=state.case_no,
            department=task.department,
            kind=DepartmentMessageKind.DECISION,
            round=task.round,
            matter_code=state.matter.code,
            matter_name=state.matter.name,
            reason=reason,
        )
        for task in state.tasks.values()
        if task.round >= 1
    ]


def _decision_text(decision: Decision, names: dict[str, str]) -> str:
    """The decision in one line, as the departments read it."""
    if not decision.approved:
        reasons = "；".join(f"{names.get(d, d)}：{r}" for d, r in decision.rejections.items())
        return f"不予许可 rejected — {reasons}"
    notes = [
        f"{'、'.join(names.get(d, d) for d in departments)} {how}"
        for departments, how in (
            (decision.deemed_departments, "超时默认同意"),
            (decision.absent_departments, "缺席默认同意"),
        )
        if departments
    ]
    return "准予许可 approved" + (f"（{'；'.join(notes)}）" if notes else "")
