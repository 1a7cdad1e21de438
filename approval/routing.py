"""Which department systems hear of a step of a case, and what they are sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from approval.contracts import DepartmentMessage, DepartmentMessageKind
from approval.domain.models import CaseEvent
from approval.domain.state import CaseState

EVENT_MESSAGES = {
    "ReviewTaskDispatched": DepartmentMessageKind.TASK,
    "SupplementForwarded": DepartmentMessageKind.SUPPLEMENT,
    "ReviewTaskCancelled": DepartmentMessageKind.CANCEL,
    "WithdrawalNotified": DepartmentMessageKind.CANCEL,
}


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
