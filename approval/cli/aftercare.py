"""The applicant's say (好差评, 效能投诉) and its follow-ups (整改, R20) on the command line:
``rate`` and ``complain`` (a clerk for the applicant), ``answer-followup`` (the addressed
department's reviewer, or a clerk for the window), ``followups`` (each party its own list).
Commands of starter.py, registered by approval.cli.app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from approval.cli.acting import act, api
from approval.cli.common import CaseArg, JsonOpt, RequestId, emit_json

if TYPE_CHECKING:
    from pydantic import BaseModel

LEVELS = (
    "评价等级：very_satisfied 非常满意 | satisfied 满意 | basically_satisfied 基本满意 | "
    "dissatisfied 不满意 | very_dissatisfied 非常不满意"
)
Concerns = Annotated[
    list[str] | None,
    typer.Option("--concerns", help="涉及的本案审查部门编码，或 window（窗口），可重复给出"),
]


def rate(
    ctx: typer.Context,
    case_no: CaseArg,
    level: Annotated[str, typer.Argument(help=LEVELS)],
    comment: Annotated[str | None, typer.Option(help="申请人的评价意见")] = None,
    concerns: Concerns = None,
    request_id: RequestId = None,
    as_json: JsonOpt = False,
) -> None:
    """登记申请人对已办结办件的评价（好差评，每件一次）。

    差评向所涉及的每个部门或窗口下发整改单。"""

    def build() -> BaseModel:
        from approval.http.bodies import RatingIn

        given = {"comment": comment} if comment else {}
        return RatingIn.model_validate({"level": level, "concerns": concerns or [], **given})

    _act(ctx, case_no, "rating", build, as_json, request_id)


def complain(
    ctx: typer.Context,
    case_no: CaseArg,
    text: Annotated[str, typer.Argument(help="投诉内容（申请人原话）")],
    concerns: Concerns = None,
    request_id: RequestId = None,
    as_json: JsonOpt = False,
) -> None:
    """登记对在办办件的效能投诉。

    效能投诉与差评一样下发整改单。"""

    def build() -> BaseModel:
        from approval.http.bodies import ComplaintIn

        return ComplaintIn.model_validate({"text": text, "concerns": concerns or []})

    _act(ctx, case_no, "complaints", build, as_json, request_id)


def answer_followup(
    ctx: typer.Context,
    case_no: CaseArg,
    follow_up_no: Annotated[
        str, typer.Argument(help="整改单编号，例如 371600-20261202-000001-F01")
    ],
    explanation: Annotated[str, typer.Option(help="情况说明")],
    remedy: Annotated[str, typer.Option(help="整改措施")],
    request_id: RequestId = None,
    as_json: JsonOpt = False,
) -> None:
    """答复下发给本部门（窗口工作人员：下发给窗口）的整改单。

    整改情况书面告知申请人。"""

    def build() -> BaseModel:
        from approval.http.bodies import FollowUpAnswerIn

        return FollowUpAnswerIn.model_validate(
            {"follow_up_no": follow_up_no, "explanation": explanation, "remedy": remedy}
        )

    _act(ctx, case_no, "follow-ups/answer", build, as_json, request_id)


def followups(
    ctx: typer.Context,
    every: Annotated[bool, typer.Option("--all", help="也列出已答复的整改单")] = False,
    as_json: JsonOpt = False,
) -> None:
    """列出本方的整改单，期限最早的在前。

    效能监察人员看到各方的整改单。"""
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
