"""Department systems behind one interface; a real integration replaces the stub."""

from __future__ import annotations

from typing import Protocol

from approval.contracts import DepartmentMessage


class TransientDepartmentError(Exception):
    """The department system could not be reached this time; the activity is retried."""


class DepartmentSystem(Protocol):
    """What the engine needs from a department's system."""

    async def deliver(self, message: DepartmentMessage, *, attempt: int) -> None:
        """Hand over a task, a forwarded supplement or a cancellation."""
