"""Department systems behind one interface: the in-process stub (``stub``) or a department
system reached over HTTP (``http_client``, with a stub service in ``http_service``)."""

from __future__ import annotations

from typing import Protocol

from approval.contracts import DepartmentMessage


class TransientDepartmentError(Exception):
    """The department system could not be reached this time; the activity is retried."""


class DepartmentSystem(Protocol):
    """What the engine needs from a department's system."""

    async def deliver(self, message: DepartmentMessage, *, attempt: int) -> None:
        """Hand over a task, a forwarded supplement or a cancellation."""

    async def aclose(self) -> None:
        """Release what the system holds (connections); it is not used afterwards."""


def message_id(message: DepartmentMessage) -> str:
    """The identity of a message across retried deliveries: one message per department,
    case, kind and round, as the store keeps them (R23)."""
    return f"{message.case_no}/{message.department}/{message.kind.value}/{message.round}"


def answer_request_id(message: DepartmentMessage) -> str:
    """The idempotent request id of a stub department's answer to ``message`` (R23)."""
    return f"stub-{message.case_no}-{message.department}-{message.round}"
