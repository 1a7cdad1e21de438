"""The command line of the window, the departments and the supervisor (starter.py).

Every human action and read is a request to the HTTP API (APPROVAL_API_URL) with the user's
bearer token (``--token``, ``APPROVAL_TOKEN``, or in development ``--as USER``): the API
decides who may do what, exactly as for every other client (R22). ``catalogue``, ``simulate``
and ``up`` run on this machine. A command imports what it needs when it runs, so that
``--help`` does not wait for Temporal, the store or the domain to load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from approval.cli import aftercare, supervision
from approval.cli.acting import act, api, case_path, request_body, show_status
from approval.cli.common import (
    CaseArg,
    JsonOpt,
    cli_settings,
    emit_json,
    fail,
    guarded,
    run_typer,
)
from approval.cli.identity import Credentials

if TYPE_CHECKING:
    from pydantic import BaseModel


__all__ = ["JsonOpt", "app", "fail", "guarded", "main", "run_typer"]

app = typer.Typer(
    help="并联审批引擎：窗口与部门命令行 (parallel approval engine)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

OUTCOMES = "approve | reject | request_supplement"
PROCEDURES = (
    "hearing | tender | auction | inspection | testing | quarantine | appraisal | expert_review"
    "（听证、招标、拍卖、检验、检测、检疫、鉴定、专家评审）"
)


@app.callback()
def identity(
    ctx: typer.Context,
    token: Annotated[
        str | None,
        typer.Option("--token", help="the API token to act with (default: APPROVAL_TOKEN)"),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="USER",
            help="development only: act as this demo user of `make run` (.data/demo-tokens.txt)",
        ),
    ] = None,
) -> None:
    """Who acts: the token's user, as the API knows it (R22)."""
    ctx.obj = Credentials(token=token, as_user=as_user)


def no_body() -> None:
    """The body of an action that has none."""
    return None


# ---- the window (clerk) ----------------------------------------------------------------------


@app.command()
def submit(
    ctx: typer.Context,
    matter: Annotated[str, typer.Argument(help="matter code from the catalogue")],
    applicant: Annotated[str, typer.Option(help="applicant's name")],
    id_number: Annotated[str, typer.Option(help="身份证号 or 统一社会信用代码")],
    key: Annotated[
        str, typer.Option(help="idempotency key: the same key never makes a second case")
    ],
    material: Annotated[list[str] | None, typer.Option(help="CODE=PATH, repeatable")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str, typer.Option(help="window | online")] = "window",
    as_json: JsonOpt = False,
) -> None:
    """Receive an application at the window (收件)."""

    def build() -> BaseModel:
        from approval.cli.inputs import store_material
        from approval.domain.models import Application

        settings = cli_settings()
        return Application.model_validate(
            {
                "matter_code": matter,
                "applicant": {"name": applicant, "id_number": id_number, "phone": phone},
                "materials": [store_material(m, settings) for m in material or []],
                "channel": channel,
                "idempotency_key": key,
            }
        )

    application = request_body(build)
    client = api(ctx)
    receipt = client.post("/cases", application)
    status = client.get(case_path(receipt["case_no"]))
    if as_json:
        emit_json({"case_no": receipt["case_no"], "created": receipt["created"], "status": status})
        return
    from approval.cli import render

    verb = "收件" if receipt["created"] else "已收件（同一幂等键，未重复创建）"
    render.console.print(f"{verb}：办件编号 [bold]{receipt['case_no']}[/bold]")
    show_status(status, as_json=False)


@app.command()
def status(ctx: typer.Context, case_no: CaseArg, as_json: JsonOpt = False) -> None:
    """Show a case's stage, deadlines and tasks."""
    path = case_path(case_no)
    show_status(api(ctx).get(path), as_json)


@app.command()
def accept(ctx: typer.Context, case_no: CaseArg, as_json: JsonOpt = False) -> None:
    """Accept the application (受理) and start the parallel review."""
    act(ctx, case_no, "accept", no_body, as_json)


@app.command()
def notice(
    ctx: typer.Context,
    case_no: CaseArg,
    defective: Annotated[
        list[str] | None, typer.Option(help="CODE=REASON for a submitted item not in legal form")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue the one-time notice (一次性告知书): every missing item plus the defective ones."""

    def build() -> BaseModel:
        from approval.cli.inputs import parse_items
        from approval.http.bodies import NoticeIn

        return NoticeIn(defective=parse_items(defective or [], "defective"))

    act(ctx, case_no, "notice", build, as_json)


@app.command()
def refuse(
    ctx: typer.Context,
    case_no: CaseArg,
    reason: Annotated[str, typer.Option()],
    competent_organ: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Do not accept (不予受理), with the reason and the competent organ."""
    act(
        ctx,
        case_no,
        "refuse",
        lambda: {"reason": reason, "competent_organ": competent_organ},
        as_json,
    )


@app.command()
def supplement(
    ctx: typer.Context,
    case_no: CaseArg,
    material: Annotated[list[str], typer.Option(help="CODE=PATH, repeatable")],
    as_json: JsonOpt = False,
) -> None:
    """Record the applicant's supplement (补正)."""

    def build() -> BaseModel:
        from approval.cli.inputs import store_material
        from approval.http.bodies import SupplementIn

        settings = cli_settings()
        return SupplementIn(materials=tuple(store_material(m, settings) for m in material))

    act(ctx, case_no, "supplement", build, as_json)


@app.command()
def withdraw(
    ctx: typer.Context,
    case_no: CaseArg,
    reason: Annotated[str, typer.Option()] = "申请人主动撤回",
    as_json: JsonOpt = False,
) -> None:
    """Withdraw the application at the applicant's request (撤回), before the decision."""

    def build() -> BaseModel:
        from approval.http.bodies import WithdrawIn

        return WithdrawIn(reason=reason)

    act(ctx, case_no, "withdraw", build, as_json)


@app.command()
def pay(
    ctx: typer.Context,
    case_no: CaseArg,
    amount: Annotated[str, typer.Option(help="yuan, e.g. 80.00")],
    receipt: Annotated[str, typer.Option(help="receipt number")],
    as_json: JsonOpt = False,
) -> None:
    """Collect the fee at the window (一个窗口收费)."""

    def build() -> BaseModel:
        from approval.cli.inputs import parse_amount
        from approval.http.bodies import FeeIn

        return FeeIn(amount_yuan=parse_amount(amount), receipt_no=receipt)

    act(ctx, case_no, "fee", build, as_json)


@app.command()
def deliver(
    ctx: typer.Context,
    case_no: CaseArg,
    method: Annotated[str, typer.Option()] = "窗口领取",
    as_json: JsonOpt = False,
) -> None:
    """Hand over the certificate or decision (送达) and complete the case (办结)."""

    def build() -> BaseModel:
        from approval.http.bodies import DeliverIn

        return DeliverIn(method=method)

    act(ctx, case_no, "deliver", build, as_json)


@app.command()
def notices(ctx: typer.Context, case_no: CaseArg, as_json: JsonOpt = False) -> None:
    """Print the written notices issued to the applicant (受理通知书, 一次性告知书 …)."""
    path = case_path(case_no, "notices")
    issued: list[dict[str, Any]] = api(ctx).get(path)
    if as_json:
        emit_json(issued)
        return
    from approval.cli import render

    for issued_notice in issued:
        render.console.print(issued_notice["body"], highlight=False)
        render.console.rule()


# ---- the departments (reviewer) ----------------------------------------------------------------


@app.command()
def decide(
    ctx: typer.Context,
    case_no: CaseArg,
    outcome: Annotated[str, typer.Argument(help=OUTCOMES)],
    department: Annotated[
        str | None,
        typer.Option(help="your department, as a check: another one is refused (R22)"),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="reasons (required to reject)")] = None,
    item: Annotated[
        list[str] | None, typer.Option(help="CODE=REASON to request, repeatable")
    ] = None,
    request_id: Annotated[
        str | None, typer.Option(help="retry-safe id: the same id has one effect")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Give your department's opinion: approve, reject with reasons, or request items. The
    department is the reviewer's own, from the token (R22)."""

    def build() -> BaseModel:
        from approval.cli.inputs import parse_items
        from approval.http.bodies import DecisionIn

        named = {"department": department} if department else {}
        items = parse_items(item or [], "item")
        return DecisionIn.model_validate(
            {"outcome": outcome, **named, "reasons": reason, "items": items}
        )

    act(ctx, case_no, "decision", build, as_json, request_id)


# ---- the supervisor ----------------------------------------------------------------------------


@app.command()
def extend(
    ctx: typer.Context,
    case_no: CaseArg,
    reason: Annotated[str, typer.Option()],
    as_json: JsonOpt = False,
) -> None:
    """Extend the case's period once (延期), with a reason sent to the applicant."""

    def build() -> BaseModel:
        from approval.http.bodies import ExtendIn

        return ExtendIn(reason=reason)

    act(ctx, case_no, "extend", build, as_json)


@app.command()
def exclude(
    ctx: typer.Context,
    case_no: CaseArg,
    procedure: Annotated[str, typer.Option(help=PROCEDURES)],
    reason: Annotated[str, typer.Option()],
    expected_wd: Annotated[int, typer.Option(help="expected length in working days")],
    as_json: JsonOpt = False,
) -> None:
    """Open an excluded period (art. 45): every clock stops; the applicant is told in writing
    how long it is expected to take (R12)."""

    def build() -> BaseModel:
        from approval.domain.models import ExcludedPeriodFacts

        return ExcludedPeriodFacts.model_validate(
            {"procedure": procedure, "reason": reason, "expected_wd": expected_wd}
        )

    act(ctx, case_no, "excluded-period", build, as_json)


@app.command()
def resume(
    ctx: typer.Context,
    case_no: CaseArg,
    result: Annotated[str, typer.Option(help="what the procedure found")],
    as_json: JsonOpt = False,
) -> None:
    """Close the excluded period: every clock resumes with the working days it had left (R12)."""

    def build() -> BaseModel:
        from approval.domain.models import ExcludedPeriodResult

        return ExcludedPeriodResult(result=result)

    act(ctx, case_no, "excluded-period/close", build, as_json)


@app.command()
def meeting(
    ctx: typer.Context,
    case_no: CaseArg,
    minutes: Annotated[str, typer.Option(help="the meeting's minutes (纪要)")],
    present: Annotated[list[str] | None, typer.Option(help="a department present")] = None,
    absent: Annotated[list[str] | None, typer.Option(help="a department absent")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a joint review meeting (联合审查会议): an absent department with an open task is
    deemed to agree (缺席默认, R10)."""

    def build() -> BaseModel:
        from approval.domain.models import MeetingFacts

        attendance = {"present": present or [], "absent": absent or []}
        return MeetingFacts.model_validate({**attendance, "minutes": minutes})

    act(ctx, case_no, "meetings", build, as_json)


# ---- on this machine ---------------------------------------------------------------------------


@app.command()
def catalogue(as_json: JsonOpt = False) -> None:
    """List the matters of the catalogue."""
    from approval.cli import render
    from approval.domain.catalogue import load_catalogue

    loaded = guarded(lambda: load_catalogue(cli_settings().catalogue_path))
    if as_json:
        emit_json(loaded)
        return
    render.console.print(f"事项目录 {loaded.version} · {loaded.centre}")
    for matter in loaded.matters:
        depts = "、".join(f"{r.department}({r.period_wd})" for r in matter.reviews) or "即办"
        render.console.print(f"  {matter.code}  {matter.name}  [{depts}]")


@app.command()
def simulate(as_json: JsonOpt = False) -> None:
    """Run the demo cases on the time-skipping test server and show what happened to each."""
    from approval.cli import simulate as simulation

    simulation.show_simulation(as_json)


@app.command()
def up() -> None:
    """Start everything on this machine (Temporal, SQLite, departments, worker, API); wait."""
    from approval.cli import devstack

    devstack.up()


aftercare.register(app)
app.add_typer(supervision.app, name="supervision")


def main() -> None:
    """Entry point of starter.py."""
    run_typer(app)
