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
        full = await asyncio.to_thread(self._with_materials, message)
        await self._system.deliver(full, attempt=activity.info().attempt)

    def _with_materials(self, message: DepartmentMessage) -> DepartmentMessage:
        """A task or supplement with the materials the record held at its event (R7)."""
        if message.as_of_seq is None or message.kind not in WITH_MATERIALS or message.materials:
            return message
        with self._sessions() as session:
            materials = materials_as_of(session, message.case_no, message.as_of_seq)
        return message.model_copy(update={"materials": materials})
