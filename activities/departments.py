"""Telling the department systems of their tasks, supplements and cancellations."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from approval.contracts import DepartmentMessage, DepartmentMessageKind
from approval.departments import DepartmentSystem
from approval.store.queries import materials_as_of

WITH_MATERIALS = (DepartmentMessageKind.TASK, DepartmentMessageKind.SUPPLEMENT)


class DepartmentActivities:
    """Activities that reach the department systems through one interface, with the
    materials of the case's record."""

    def __init__(self, system: DepartmentSystem, sessions: sessionmaker[Session]) -> None:
        self._system = system
        self._sessions = sessions

    @activity.defn
    async def send_to_department(self, message: DepartmentMessage) -> None:
        """Deliver one message; a transient failure raises and Temporal retries it."""
        seq = _materials_as_of(message)
        if seq is not None:
            message = await asyncio.to_thread(self._with_materials, message, seq)
        await self._system.deliver(message, attempt=activity.info().attempt)

    def _with_materials(self, message: DepartmentMessage, seq: int) -> DepartmentMessage:
        """A task or supplement with the materials the record held at event ``seq`` (R7)."""
        with self._sessions() as session:
            materials = materials_as_of(session, message.case_no, seq)
        return message.model_copy(update={"materials": materials})


def _materials_as_of(message: DepartmentMessage) -> int | None:
    """The seq to take the materials of a task or supplement sent without them at, or None
    when the message needs none (a cancellation, a decision) or carries them."""
    if message.kind not in WITH_MATERIALS or message.materials:
        return None
    return message.as_of_seq
