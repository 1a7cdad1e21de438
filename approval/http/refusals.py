"""A refusal over HTTP: its status by the refusal's kind, the body every refusal of the API has
(``{"detail": {"field", "reason", "code"}}``: the field's machine path, a Chinese reason naming
it, a stable machine code) and the answers each route declares in the OpenAPI
schema. The API answers a refusal with this status and body; the console shows the refused
page with the same status."""

from __future__ import annotations

from fastapi import status
from pydantic import BaseModel

from approval.domain.errors import DomainError
from approval.service import RefusedError
from approval.validation import INVALID_INPUT

STATUS_OF_REFUSAL = {
    "PermissionDeniedError": status.HTTP_403_FORBIDDEN,
    "UnknownCaseError": status.HTTP_404_NOT_FOUND,
    "StageError": status.HTTP_409_CONFLICT,
    "TaskClosedError": status.HTTP_409_CONFLICT,
    "ExtensionRefusedError": status.HTTP_409_CONFLICT,
    "PiecemealNoticeError": status.HTTP_409_CONFLICT,
    "RatingRefusedError": status.HTTP_409_CONFLICT,
    "RefusedError": status.HTTP_409_CONFLICT,
}
"""HTTP status by the refusal's kind; any other domain refusal is invalid input (422)."""


CODE_OF_REFUSAL = {
    "PermissionDeniedError": "permission_denied",
    "UnknownCaseError": "unknown_case",
    "StageError": "wrong_stage",
    "TaskClosedError": "task_closed",
    "ExtensionRefusedError": "extension_refused",
    "PiecemealNoticeError": "piecemeal_notice",
    "RatingRefusedError": "rating_refused",
    "UnknownMatterError": "unknown_matter",
    "NotCompetentError": "not_competent",
    "CatalogueError": "catalogue_invalid",
    "RefusedError": "refused",
}
"""The machine code of a refusal by its kind, for programs (the reason is for people); any
other domain refusal is ``invalid_input``."""


class HttpRefusal(Exception):
    """A request refused outside the domain's rules (the console's guards, a notice that cannot
    be printed): its HTTP status, the field at fault, a Chinese reason and a machine code."""

    def __init__(self, status_code: int, field: str, reason: str, code: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.status_code = status_code
        self.field = field
        self.reason = reason
        self.code = code

    @property
    def detail(self) -> dict[str, str]:
        """The API's refusal body's ``detail``."""
        return {"field": self.field, "reason": self.reason, "code": self.code}

    @property
    def line(self) -> str:
        """The console's one line."""
        return f"{self.field}: {self.reason}"


def refusal_code(error: DomainError) -> str:
    """The stable machine code of a domain refusal (CODE_OF_REFUSAL; else invalid_input)."""
    return CODE_OF_REFUSAL.get(refusal_kind(error), INVALID_INPUT)


def refusal_kind(error: DomainError) -> str:
    """The kind of a refusal: the rule's own, also for one the case refused."""
    return error.kind if isinstance(error, RefusedError) else type(error).__name__


def refusal_status(error: DomainError) -> int:
    """The HTTP status of a domain refusal (STATUS_OF_REFUSAL; else 422)."""
    return STATUS_OF_REFUSAL.get(refusal_kind(error), status.HTTP_422_UNPROCESSABLE_CONTENT)


class Problem(BaseModel):
    """What is wrong: the field at fault (its machine path), why (Chinese, naming the field by
    its label) and the machine code of the refusal."""

    field: str
    reason: str
    code: str | None = None


class ProblemOut(BaseModel):
    """Every refusal's body."""

    detail: Problem


def problem_answers(*codes: int) -> dict[int | str, dict[str, object]]:
    """The OpenAPI answers of a route that may refuse with ``codes``, each a ProblemOut."""
    return {code: {"model": ProblemOut} for code in codes}


REFUSALS = problem_answers(401, 403, 404, 409, 422)
"""The refusals of a route that acts on or reads a case for an authenticated user."""
