"""Bad input told as one ``field: reason``: the first problem of a validation error, as every
face of the engine refuses it — the API (422, ``{"detail": {"field", "reason"}}``), the console
(the page's one line) and the command line (``错误 error: field: reason``, exit status 2).

A model's own check names its field at the start of its message ("items: ..."); that field is
the one at fault (approval.domain.errors.field_and_reason). Light on purpose: nothing here
imports pydantic or FastAPI, so the command line's ``--help`` stays quick."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from approval.domain.errors import field_and_reason

REQUEST_PARTS = ("body", "path", "query", "header")
"""Where in a request FastAPI locates a problem; not part of the field's name."""


class Invalid(Protocol):
    """A validation error: pydantic's ValidationError, FastAPI's RequestValidationError."""

    def errors(self) -> Sequence[Any]:
        """Its problems, each with ``loc`` and ``msg``."""
        ...


def first_problem(
    error: Invalid, *, unnamed: str = "request", of_request: bool = False
) -> tuple[str, str]:
    """The first problem of ``error`` as ``(field, reason)``; ``unnamed`` when it names no
    field. ``of_request``: the error is a request's, whose locations start with the part of
    the request: ``applicant.id_number``, not ``body.applicant.id_number``; the part alone
    when the problem is the part as a whole (a body that is not JSON, a list item)."""
    problems = list(error.errors())
    if not problems:
        return unnamed, "invalid input"
    first = problems[0]
    loc = [str(part) for part in first.get("loc", ())]
    if of_request and loc and loc[0] in REQUEST_PARTS:
        loc = loc[:1] if all(part.isdigit() for part in loc[1:]) else loc[1:]
    return field_and_reason(".".join(loc) or unnamed, str(first.get("msg", "invalid")))


def problem_line(error: Invalid, *, unnamed: str = "request") -> str:
    """The first problem of ``error`` as one line, ``field: reason``."""
    field, reason = first_problem(error, unnamed=unnamed)
    return f"{field}: {reason}"
