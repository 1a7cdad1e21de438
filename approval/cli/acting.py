"""How starter.py's commands talk to the HTTP API: as the command's user (its token), with a
request body checked before anything is sent, showing the case's status as the API gave it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import typer

from approval.cli.common import cli_settings, emit_json, guarded
from approval.cli.identity import Credentials

if TYPE_CHECKING:
    from pydantic import BaseModel

    from approval.cli.api_client import ApiClient

Body = Callable[[], "BaseModel | Mapping[str, Any] | None"]
"""Builds (and so checks) an action's request body before anything is sent."""


def api(ctx: typer.Context) -> ApiClient:
    """A client of the API acting as the command's user; no token is a one-line refusal."""
    from approval.cli.api_client import client_as

    return client_as(ctx.find_object(Credentials) or Credentials(), cli_settings())


def case_path(case_no: str, *rest: str) -> str:
    """The API path of a case (or of its ``rest``), the number checked first."""
    from approval.cli.api_client import case_path as path_of
    from approval.cli.inputs import case_number

    return path_of(guarded(lambda: case_number(case_no)), *rest)


def request_body(build: Body) -> Mapping[str, Any] | None:
    """The JSON body ``build`` gives, checked here: bad input goes nowhere."""
    body = guarded(build)
    if body is None or isinstance(body, Mapping):
        return body
    dumped: dict[str, Any] = body.model_dump(mode="json")
    return dumped


def act(
    ctx: typer.Context,
    case_no: str,
    action: str,
    build: Body,
    as_json: bool,
    request_id: str | None = None,
) -> None:
    """Check the input, send the action to the case as the command's user, show the status."""
    path = case_path(case_no, action)
    body = request_body(build)
    show_status(api(ctx).post(path, body, idempotency_key=request_id), as_json)


def show_status(status: dict[str, Any], as_json: bool) -> None:
    """A case's status as the API gave it: JSON as it is, or in Chinese."""
    if as_json:
        emit_json(status)
        return
    from approval.cli import render
    from approval.domain.status import CaseStatus

    render.show_status(CaseStatus.model_validate(status))
