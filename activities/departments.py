"""Telling the department systems of their tasks, supplements and cancellations."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from approval.contracts import DepartmentMessage, DepartmentMessageKind
from approval.departments import DepartmentSystem
from approval.store.queries import case_row, materials_as_of

WITH_MATERIALS = (DepartmentMessageKind.TASK, DepartmentMessageKind.SUPPLEMENT)


class DepartmentActivities:
    """Activities that reach the department systems through one interface, with the
    materials of the case's record."""

    def __init__(self, system: DepartmentSystem, sessions: sessionmaker[Session]) -> None:
        self._system = system
        self._sessions = sessions

    @activity.defn
    async def send_to_department(self, message: DepartmentMessage) -> None:
        """Deliver one message, with the matter and materials the record holds; a transient
        failure raises and Temporal retries it."""
        if message.as_of_seq is not None and message.matter_code is None:
            message = await asyncio.to_thread(self._completed, message, message.as_of_seq)
        await self._system.deliver(message, attempt=activity.info().attempt)

    def _completed(self, message: DepartmentMessage, seq: int) -> DepartmentMessage:
        """The message with its case's matter and, for a task or supplement, the materials
        the record held at event ``seq`` (R7)."""
        with self._sessions() as session:
            case = case_row(session, message.case_no)
            update: dict[str, object] = {
                "matter_code": case.matter_code if case else None,
                "matter_name": case.matter_name if case else None,
            }
            if message.kind in WITH_MATERIALS and not message.materials:
                update["materials"] = materials_as_of(session, message.case_no, seq)
        return message.model_copy(update=update)
