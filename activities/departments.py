"""Telling the department systems of their tasks, supplements and cancellations."""

from __future__ import annotations

from temporalio import activity

from approval.contracts import DepartmentMessage
from approval.departments import DepartmentSystem


class DepartmentActivities:
    """Activities that reach the department systems through one interface."""

    def __init__(self, system: DepartmentSystem) -> None:
        self._system = system

    @activity.defn
    async def send_to_department(self, message: DepartmentMessage) -> None:
        """Deliver one message; a transient failure raises and Temporal retries it."""
        await self._system.deliver(message, attempt=activity.info().attempt)
