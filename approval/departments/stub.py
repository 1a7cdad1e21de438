"""A stub department system for demos and tests: it records every message it receives and
answers as it is set to — approve, reject, ask for a supplement, stay silent — or fails
transiently on a first attempt."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum

import structlog
from sqlalchemy.orm import Session, sessionmaker

from approval.contracts import DepartmentMessage, DepartmentMessageKind
from approval.departments import TransientDepartmentError, answer_request_id
from approval.domain.models import Actor, Decide, NoticeItem, Outcome, Role
from approval.store.department_messages import record_department_message

log = structlog.get_logger(__name__)

Answer = Callable[[str, Decide, str], Awaitable[None]]
"""Sends a department's decision to a case: (case number, decision, idempotent request id)."""


ANSWERED_KINDS = (DepartmentMessageKind.TASK, DepartmentMessageKind.SUPPLEMENT)
"""Messages a department answers with a decision; cancellations and decisions are only noted."""


class Behaviour(StrEnum):
    """How a stub department answers its tasks."""

    SILENT = "silent"
    APPROVE = "approve"
    REJECT = "reject"
    SUPPLEMENT = "supplement"
    """Asks for a supplement in the first round, approves after it."""
    FLAKY = "flaky"
    """Fails the first delivery attempt of every message, then stays silent."""


class StubDepartmentSystem:
    """Records what departments receive (in the store) and answers per behaviour."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        behaviours: Mapping[str, str],
        answer: Answer,
    ) -> None:
        self._sessions = sessions
        self._behaviours = {dept: Behaviour(b) for dept, b in behaviours.items()}
        self._answer = answer

    def behaviour_of(self, department: str) -> Behaviour:
        """The configured behaviour; silent when none is set."""
        return self._behaviours.get(department, Behaviour.SILENT)

    async def deliver(self, message: DepartmentMessage, *, attempt: int) -> None:
        """Record the message, then answer a task or supplement as configured."""
        behaviour = self.behaviour_of(message.department)
        if behaviour is Behaviour.FLAKY and attempt == 1:
            raise TransientDepartmentError(f"{message.department} system unavailable (attempt 1)")
        record_received(self._sessions, message)
        decision = answer_for(behaviour, message)
        if decision is not None:
            await self._answer(message.case_no, decision, answer_request_id(message))
            log.info(
                "stub.answered",
                case_no=message.case_no,
                department=message.department,
                outcome=decision.outcome.value,
            )

    async def aclose(self) -> None:
        """Nothing to release: the store belongs to the worker."""


def record_received(sessions: sessionmaker[Session], message: DepartmentMessage) -> bool:
    """Keep ``message`` in the store as received by its department; False for a repeat."""
    with sessions.begin() as session:
        return record_department_message(
            session,
            department=message.department,
            case_no=message.case_no,
            kind=message.kind.value,
            round=message.round,
            received_at=_now(),
            payload=message.model_dump(mode="json"),
        )


def answer_for(behaviour: Behaviour, message: DepartmentMessage) -> Decide | None:
    """The decision a stub department with ``behaviour`` gives to ``message``, if any."""
    if message.kind not in ANSWERED_KINDS or behaviour in (
        Behaviour.SILENT,
        Behaviour.FLAKY,
    ):
        return None
    reviewer = Actor(
        role=Role.REVIEWER, id=f"stub-{message.department}", department=message.department
    )
    if behaviour is Behaviour.REJECT:
        return Decide(
            actor=reviewer,
            department=message.department,
            outcome=Outcome.REJECT,
            reasons="不符合审查标准（模拟部门）",
        )
    if behaviour is Behaviour.SUPPLEMENT and message.round == 1 and message.materials:
        item = NoticeItem(
            code=message.materials[0].code, reason="材料不清晰，请重新提交（模拟部门）"
        )
        return Decide(
            actor=reviewer,
            department=message.department,
            outcome=Outcome.REQUEST_SUPPLEMENT,
            items=(item,),
        )
    return Decide(actor=reviewer, department=message.department, outcome=Outcome.APPROVE)


def _now() -> datetime:
    return datetime.now(UTC)
