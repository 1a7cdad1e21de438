"""What crosses HTTP between the engine and a department system: the path a message is
POSTed to, its headers, and the department's receipt."""

from __future__ import annotations

from approval.domain.catalogue import Frozen
from approval.domain.models import Decide

MESSAGE_ID_HEADER = "Idempotency-Key"
"""The message's identity (``departments.message_id``): a retried delivery carries the same."""
ATTEMPT_HEADER = "X-Delivery-Attempt"
"""Which delivery attempt this is (1, 2, …), for the department's logs."""


def messages_path(department: str) -> str:
    """Where a department system receives its messages, below its base URL."""
    return f"/departments/{department}/messages"


class Receipt(Frozen):
    """A department system's answer to one delivery."""

    message_id: str
    duplicate: bool
    """True when the message had been received before: it was not counted again."""
    attempts: int
    """Deliveries of this message the department has seen, this one included."""
    decision: Decide | None = None
    """The department's decision on a task or supplement, when it answers at once."""
