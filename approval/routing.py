"""Which department systems hear of a step of a case, and what they are sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from approval.contracts import DepartmentMessage, DepartmentMessageKind
from approval.domain.events import (
    DECISION_EVENTS,
    CaseEvent,
    ClockWarned,
    DepartmentEvent,
    FollowUpOpened,
    ReviewDeemedApprovedInAbsence,
    ReviewTaskCancelled,
    ReviewTaskDispatched,
    SupplementForwarded,
    WithdrawalNotified,
)
from approval.domain.labels import CLOCK_LABELS
from approval.domain.state import CaseState, Decision

EVENT_MESSAGES: dict[type[DepartmentEvent], DepartmentMessageKind] = {
    ReviewTaskDispatched: DepartmentMessageKind.TASK,
    SupplementForwarded: DepartmentMessageKind.SUPPLEMENT,
    ReviewTaskCancelled: DepartmentMessageKind.CANCEL,
    WithdrawalNotified: DepartmentMessageKind.CANCEL,
    ReviewDeemedApprovedInAbsence: DepartmentMessageKind.CANCEL,
}
ROUTED = (
    ReviewTaskDispatched,
    SupplementForwarded,
    ReviewTaskCancelled,
    WithdrawalNotified,
    ReviewDeemedApprovedInAbsence,
)
"""The events a department's system is told of."""


def decides(events: Sequence[CaseEvent]) -> bool:
    """True when the step decided the case."""
    return any(isinstance(event, DECISION_EVENTS) for event in events)


def department_messages(state: CaseState, events: Sequence[CaseEvent]) -> list[DepartmentMessage]:
    """One message per dispatched task, forwarded supplement or cancelled task; every
    department gets the same full set of materials (R7), which the sending activity takes from
    the record as of the message's event (``as_of_seq``)."""
    messages = []
    for event in events:
        if not isinstance(event, ROUTED):
            continue
        kind = EVENT_MESSAGES[type(event)]
        due = event.due if isinstance(event, ReviewTaskDispatched | SupplementForwarded) else None
        reason = (
            event.reason
            if isinstance(event, ReviewTaskCancelled | ReviewDeemedApprovedInAbsence)
            else None
        )
        messages.append(
            DepartmentMessage(
                case_no=state.case_no,
                department=event.department,
                kind=kind,
                round=event.round,
                due=due,
                reason=reason,
                as_of_seq=event.seq,
            )
        )
    return messages + supervision_messages(state, events)


def supervision_messages(state: CaseState, events: Sequence[CaseEvent]) -> list[DepartmentMessage]:
    """A reminder (催办) to a department whose clock turned yellow (R19), and each follow-up
    addressed to a department (R20); the window's and the applicant's are not sent. Their
    ``round`` is their event's seq, which tells apart a task's reminder from the case
    period's, and one follow-up from another, for the same department (message_id, R23)."""
    return [
        DepartmentMessage(
            case_no=state.case_no,
            department=event.party,
            round=event.seq,
            as_of_seq=event.seq,
            **_told(event),
        )
        for event in events
        if isinstance(event, ClockWarned | FollowUpOpened) and event.party in state.tasks
    ]


def _told(event: ClockWarned | FollowUpOpened) -> dict[str, Any]:
    """What a reminder or a follow-up tells its department: kind, reason, deadline."""
    if isinstance(event, FollowUpOpened):
        reason = f"整改单 {event.follow_up_no}"
        return {"kind": DepartmentMessageKind.FOLLOW_UP, "reason": reason, "due": event.due}
    clock = CLOCK_LABELS[event.clock]
    reason = f"催办：{clock}至 {event.last_day}，剩余 {event.remaining_wd} 个工作日"
    return {"kind": DepartmentMessageKind.REMINDER, "reason": reason}


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
            as_of_seq=state.last_seq,
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
