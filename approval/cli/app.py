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
    RequestId,
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
    help="并联审批引擎：窗口、审查部门与效能监察的命令行",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

OUTCOMES = "approve 同意 | reject 不同意 | request_supplement 要求补正"
PROCEDURES = (
    "特别程序：hearing 听证 | tender 招标 | auction 拍卖 | inspection 检验 | testing 检测 | "
    "quarantine 检疫 | appraisal 鉴定 | expert_review 专家评审"
)


@app.callback()
def identity(
    ctx: typer.Context,
    token: Annotated[
        str | None,
        typer.Option("--token", help="用于操作的 API 令牌（默认取 APPROVAL_TOKEN）"),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="USER",
            help="仅限开发环境：以 `make run` 的演示用户身份操作（.data/demo-tokens.txt）",
        ),
    ] = None,
) -> None:
    """操作人：令牌所属的用户，以 API 的认定为准（R22）。"""
    ctx.obj = Credentials(token=token, as_user=as_user)


def no_body() -> None:
    """The body of an action that has none."""
    return None


# ---- the window (clerk) ----------------------------------------------------------------------


@app.command()
def submit(
    ctx: typer.Context,
    matter: Annotated[str, typer.Argument(help="事项目录中的事项编码")],
    applicant: Annotated[str, typer.Option(help="申请人名称")],
    id_number: Annotated[str, typer.Option(help="身份证号或统一社会信用代码")],
    key: Annotated[str, typer.Option(help="申请防重号（幂等键）：同一防重号不会重复创建办件")],
    material: Annotated[
        list[str] | None, typer.Option(help="材料：材料编码=文件路径，可重复给出")
    ] = None,
    phone: Annotated[str | None, typer.Option(help="联系电话")] = None,
    channel: Annotated[str, typer.Option(help="收件渠道：window 窗口 | online 网上")] = "window",
    as_json: JsonOpt = False,
) -> None:
    """窗口收件。"""

    def build() -> BaseModel:
        from approval.cli.inputs import store_material
        from approval.domain.models import Application

        return Application.model_validate(
            {
                "matter_code": matter,
                "applicant": {"name": applicant, "id_number": id_number, "phone": phone},
                "materials": [store_material(m, lambda: api(ctx)) for m in material or []],
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
    """查看办件的办理阶段、期限和各部门审查任务。"""
    path = case_path(case_no)
    show_status(api(ctx).get(path), as_json)


@app.command()
def accept(ctx: typer.Context, case_no: CaseArg, as_json: JsonOpt = False) -> None:
    """受理申请，并启动并联审查。"""
    act(ctx, case_no, "accept", no_body, as_json)


@app.command()
def notice(
    ctx: typer.Context,
    case_no: CaseArg,
    defective: Annotated[
        list[str] | None,
        typer.Option(help="不符合法定形式的已交材料：材料编码=补正要求，可重复给出"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """出具一次性告知书。

    一次性告知书列明全部缺少的材料和不符合法定形式的材料。"""

    def build() -> BaseModel:
        from approval.cli.inputs import parse_items
        from approval.http.bodies import NoticeIn

        return NoticeIn(defective=parse_items(defective or [], "defective"))

    act(ctx, case_no, "notice", build, as_json)


@app.command()
def refuse(
    ctx: typer.Context,
    case_no: CaseArg,
    reason: Annotated[str, typer.Option(help="不予受理的理由")],
    competent_organ: Annotated[str | None, typer.Option(help="有权受理机关")] = None,
    as_json: JsonOpt = False,
) -> None:
    """不予受理，载明理由和有权受理机关。"""
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
    material: Annotated[list[str], typer.Option(help="材料：材料编码=文件路径，可重复给出")],
    as_json: JsonOpt = False,
) -> None:
    """登记申请人补正的材料。"""

    def build() -> BaseModel:
        from approval.cli.inputs import store_material
        from approval.http.bodies import SupplementIn

        return SupplementIn(materials=tuple(store_material(m, lambda: api(ctx)) for m in material))

    act(ctx, case_no, "supplement", build, as_json)


@app.command()
def withdraw(
    ctx: typer.Context,
    case_no: CaseArg,
    reason: Annotated[str, typer.Option(help="撤回的理由")] = "申请人主动撤回",
    as_json: JsonOpt = False,
) -> None:
    """应申请人要求撤回申请（作出决定之前）。"""

    def build() -> BaseModel:
        from approval.http.bodies import WithdrawIn

        return WithdrawIn(reason=reason)

    act(ctx, case_no, "withdraw", build, as_json)


@app.command()
def pay(
    ctx: typer.Context,
    case_no: CaseArg,
    amount: Annotated[str, typer.Option(help="收费金额（元），例如 80.00")],
    receipt: Annotated[str, typer.Option(help="收据编号")],
    as_json: JsonOpt = False,
) -> None:
    """窗口收费（一个窗口收费）。"""

    def build() -> BaseModel:
        from approval.cli.inputs import parse_amount
        from approval.http.bodies import FeeIn

        return FeeIn(amount_yuan=parse_amount(amount), receipt_no=receipt)

    act(ctx, case_no, "fee", build, as_json)


@app.command()
def deliver(
    ctx: typer.Context,
    case_no: CaseArg,
    method: Annotated[str, typer.Option(help="送达方式")] = "窗口领取",
    as_json: JsonOpt = False,
) -> None:
    """送达证照或决定书，办结。"""

    def build() -> BaseModel:
        from approval.http.bodies import DeliverIn

        return DeliverIn(method=method)

    act(ctx, case_no, "deliver", build, as_json)


@app.command()
def notices(ctx: typer.Context, case_no: CaseArg, as_json: JsonOpt = False) -> None:
    """打印向申请人出具的书面文书（受理通知书、一次性告知书等）。"""
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
        typer.Option(help="本部门编码，用于核对：填写其他部门的将被拒绝（R22）"),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="理由（不同意时必填）")] = None,
    item: Annotated[
        list[str] | None, typer.Option(help="需补正的材料：材料编码=补正要求，可重复给出")
    ] = None,
    request_id: RequestId = None,
    as_json: JsonOpt = False,
) -> None:
    """提出本部门的审查意见。

    审查意见为同意、不同意（附理由）或要求补正材料；审查部门为令牌所属审批人员的本部门（R22）。"""

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
    reason: Annotated[str, typer.Option(help="延期的理由，将告知申请人")],
    as_json: JsonOpt = False,
) -> None:
    """延长审批期限（只可延长一次），延期理由书面告知申请人。"""

    def build() -> BaseModel:
        from approval.http.bodies import ExtendIn

        return ExtendIn(reason=reason)

    act(ctx, case_no, "extend", build, as_json)


@app.command()
def exclude(
    ctx: typer.Context,
    case_no: CaseArg,
    procedure: Annotated[str, typer.Option(help=PROCEDURES)],
    reason: Annotated[str, typer.Option(help="启动特别程序的理由")],
    expected_wd: Annotated[int, typer.Option(help="预计所需工作日数")],
    as_json: JsonOpt = False,
) -> None:
    """启动特别程序（行政许可法第四十五条），停止计时（R12）。

    所有期限停止计时，并书面告知申请人特别程序预计所需的时间。"""

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
    result: Annotated[str, typer.Option(help="特别程序的结果")],
    as_json: JsonOpt = False,
) -> None:
    """结束特别程序：各期限按停止时剩余的工作日恢复计时（R12）。"""

    def build() -> BaseModel:
        from approval.domain.models import ExcludedPeriodResult

        return ExcludedPeriodResult(result=result)

    act(ctx, case_no, "excluded-period/close", build, as_json)


@app.command()
def meeting(
    ctx: typer.Context,
    case_no: CaseArg,
    minutes: Annotated[str, typer.Option(help="会议纪要")],
    present: Annotated[list[str] | None, typer.Option(help="出席部门编码，可重复给出")] = None,
    absent: Annotated[list[str] | None, typer.Option(help="缺席部门编码，可重复给出")] = None,
    as_json: JsonOpt = False,
) -> None:
    """记录联合审查会议（R10）。

    审查任务未完成的缺席部门视为同意（缺席默认）。"""

    def build() -> BaseModel:
        from approval.domain.models import MeetingFacts

        attendance = {"present": present or [], "absent": absent or []}
        return MeetingFacts.model_validate({**attendance, "minutes": minutes})

    act(ctx, case_no, "meetings", build, as_json)


# ---- on this machine ---------------------------------------------------------------------------


@app.command()
def catalogue(as_json: JsonOpt = False) -> None:
    """列出事项目录中的事项。"""
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
    """运行演示办件，并显示每个办件的结果。

    演示办件在可快进时间的测试服务器上运行。"""
    from approval.cli import simulate as simulation

    simulation.show_simulation(as_json)


@app.command()
def up() -> None:
    """在本机启动全部服务并保持运行。

    包括 Temporal、SQLite、部门系统、工作进程和 API。"""
    from approval.cli import devstack

    devstack.up()


aftercare.register(app)
app.add_typer(supervision.app, name="supervision")


def main() -> None:
    """Entry point of starter.py."""
    run_typer(app)
