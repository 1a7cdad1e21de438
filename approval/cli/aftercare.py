"""The applicant's say (好差评, 效能投诉) and its follow-ups (整改, R20) on the command line:
``rate`` and ``complain`` (a clerk for the applicant), ``answer-followup`` (the addressed
department's reviewer, or a clerk for the window), ``followups`` (each party its own list).
Commands of starter.py, registered by approval.cli.app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from approval.cli.acting import act, api
from approval.cli.common import CaseArg, JsonOpt, emit_json

if TYPE_CHECKING:
    from pydantic import BaseModel

LEVELS = (
    "very_satisfied 非常满意 | satisfied 满意 | basically_satisfied 基本满意 | "
    "dissatisfied 不满意 | very_dissatisfied 非常不满意"
)
Concerns = Annotated[
    list[str] | None,
    typer.Option("--concerns", help="a department code of the case, or window; repeatable"),
]
RequestId = Annotated[str | None, typer.Option(help="retry-safe id: the same id has one effect")]


def rate(
    ctx: typer.Context,
    case_no: CaseArg,
    level: Annotated[str, typer.Argument(help=LEVELS)],
    comment: Annotated[str | None, typer.Option(help="the applicant's words")] = None,
    concerns: Concerns = None,
    request_id: RequestId = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the applicant's one rating of the completed case (好差评); a bad one opens a
    follow-up (整改) with each department or the window it concerns."""

    def build() -> BaseModel:
        from approval.http.bodies import RatingIn

        given = {"comment": comment} if comment else {}
        return RatingIn.model_validate({"level": level, "concerns": concerns or [], **given})

    _act(ctx, case_no, "rating", build, as_json, request_id)


def complain(
    ctx: typer.Context,
    case_no: CaseArg,
    text: Annotated[str, typer.Argument(help="the complaint, in the applicant's words")],
    concerns: Concerns = None,
    request_id: RequestId = None,
    as_json: JsonOpt = False,
) -> None:
    """Record an efficiency complaint about an open case (效能投诉): it is followed up like a
    bad rating."""

    def build() -> BaseModel:
        from approval.http.bodies import ComplaintIn

        return ComplaintIn.model_validate({"text": text, "concerns": concerns or []})

    _act(ctx, case_no, "complaints", build, as_json, request_id)


def answer_followup(
    ctx: typer.Context,
    case_no: CaseArg,
    follow_up_no: Annotated[str, typer.Argument(help="e.g. 371600-20261202-000001-F01")],
    explanation: Annotated[str, typer.Option(help="what happened (情况说明)")],
    remedy: Annotated[str, typer.Option(help="what was done about it (整改措施)")],
    request_id: RequestId = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a follow-up addressed to your department (or, as a clerk, to the window); the
    applicant is told in writing."""

    def build() -> BaseModel:
        from approval.http.bodies import FollowUpAnswerIn

        return FollowUpAnswerIn.model_validate(
            {"follow_up_no": follow_up_no, "explanation": explanation, "remedy": remedy}
        )

    _act(ctx, case_no, "follow-ups/answer", build, as_json, request_id)


def followups(
    ctx: typer.Context,
    every: Annotated[bool, typer.Option("--all", help="answered ones too")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List the follow-ups of your party, earliest deadline first (a supervisor: every
    party's)."""
    query = "?open_only=false" if every else ""
    page: dict[str, Any] = api(ctx).get(f"/follow-ups{query}")
    if as_json:
        emit_json(page)
        return
    from approval.cli import render

    render.show_follow_ups(page["follow_ups"])


def _act(
    ctx: typer.Context,
    case_no: str,
    action: str,
    build: Any,
    as_json: bool,
    request_id: str | None,
) -> None:
    act(ctx, case_no, action, build, as_json, request_id)


def register(app: typer.Typer) -> None:
    """Add the commands to starter.py's application."""
    app.command()(rate)
    app.command()(complain)
    app.command("answer-followup")(answer_followup)
    app.command()(followups)
