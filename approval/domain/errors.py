"""Refusals of the domain. Each names the field at fault and the reason, so that every
boundary (CLI, API, Update validator) can show a one-line message without a stack trace."""

from __future__ import annotations


class DomainError(Exception):
    """A request the rules do not allow. ``field`` names what is wrong, ``reason`` why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class CatalogueError(DomainError):
    """The catalogue file is malformed or inconsistent."""


class UnknownMatterError(DomainError):
    """The matter is not in the catalogue (目录之外无权力, R1)."""


class NotCompetentError(DomainError):
    """The matter is known but belongs to another organ (R1)."""

    def __init__(
        self, field: str, reason: str, competent_organ: str, matter_name: str | None = None
    ) -> None:
        super().__init__(field, reason)
        self.competent_organ = competent_organ
        self.matter_name = matter_name


class InvalidInputError(DomainError):
    """Missing or malformed input."""


class StageError(DomainError):
    """The action is not allowed at the case's current stage."""


class PermissionDeniedError(DomainError):
    """The actor may not do this (R22)."""


class TaskClosedError(DomainError):
    """The review task is already decided, deemed or cancelled (R8)."""


class PiecemealNoticeError(DomainError):
    """A notice or request names an item that could have been asked for the first time (R4, R11)."""


class ExtensionRefusedError(DomainError):
    """The case was already extended once, or the extension would pass the statutory limit (R13)."""


class RatingRefusedError(DomainError):
    """The case was already rated, or its rating period has passed (R20)."""


MODEL_CHECK_PREFIX = "Value error, "


def field_and_reason(field: str, message: str) -> tuple[str, str]:
    """A validation problem as (field, reason). A model's own check names its field at the
    start of its message ("items: ..."); that field is the one at fault."""
    if message.startswith(MODEL_CHECK_PREFIX) and ": " in message:
        named, reason = message.removeprefix(MODEL_CHECK_PREFIX).split(": ", 1)
        return named, reason
    return field, message
