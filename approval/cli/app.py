"""The clerk's and the department's command line (starter.py)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from approval.cli import render
from approval.config import Settings, get_settings
from approval.domain.catalogue import load_catalogue
from approval.domain.errors import DomainError, InvalidInputError, field_and_reason
from approval.domain.models import (
    Accept,
    Actor,
    Applicant,
    Application,
    CaseCommand,
    Channel,
    CloseExcludedPeriod,
    CollectFee,
    Decide,
    Deliver,
    ExcludedProcedure,
    Extend,
    IssueNotice,
    NoticeItem,
    OpenExcludedPeriod,
    Outcome,
    RecordMeeting,
    Refuse,
    Role,
    SubmittedMaterial,
    Supplement,
    Withdraw,
)
from approval.logs import configure_logging
from approval.runtime import open_store
from approval.service import CaseService, connect
from approval.store.repository import notices_of

T = TypeVar("T")

app = typer.Typer(
    help="并联审批引擎：窗口与部门命令行 (parallel approval engine)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
CaseArg = Annotated[str, typer.Argument(help="case number, e.g. 371600-20261128-000001")]
ClerkOpt = Annotated[str, typer.Option("--clerk", help="window clerk id (首问负责人)")]


def fail(message: str) -> None:
    """One line on stderr, no stack trace, exit status 2."""
    print(f"错误 error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def first_error(error: ValidationError) -> str:
    """The first problem of a validation error as ``field: reason``."""
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "input"
    field, reason = field_and_reason(where, str(first["msg"]))
    return f"{field}: {reason}"


def guarded(work: Callable[[], T]) -> T:
    """Run ``work``, turning every refusal and bad input into a one-line error."""
    try:
        return work()
    except DomainError as error:
        fail(str(error))
    except ValidationError as error:
        fail(first_error(error))
    except RuntimeError as error:
        if "connect" in str(error).lower():
            fail(
                f"cannot reach Temporal at {get_settings().temporal_address}: run `make run` first"
            )
        raise
    raise AssertionError("unreachable")


def with_service(action: Callable[[CaseService], Awaitable[T]]) -> T:
    """Connect to Temporal and the store, run ``action``, translate refusals."""

    async def run() -> T:
        settings = get_settings()
        client = await connect(settings)
        service = CaseService(
            client,
            settings,
            load_catalogue(settings.catalogue_path),
            open_store(settings.store_url),
        )
        return await action(service)

    return guarded(lambda: asyncio.run(run()))


def act(
    case_no: str, build: Callable[[], CaseCommand], as_json: bool, request_id: str | None = None
) -> None:
    """Build the command (validating the input), send it, show the status."""
    command = guarded(build)
    status = with_service(lambda s: s.act(case_no, command, request_id))
    render.emit_json(status) if as_json else render.show_status(status)


def store_material(spec: str, settings: Settings) -> SubmittedMaterial:
    """``CODE=PATH``: keep the file by content hash; only the reference enters the case."""
    code, sep, path_text = spec.partition("=")
    path = Path(path_text)
    if not sep or not code:
        raise InvalidInputError("material", f"{spec!r} is not CODE=PATH")
    if not path.is_file():
        raise InvalidInputError("material", f"{code}: file {path_text!r} not found")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    settings.documents_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, settings.documents_dir / digest)
    return SubmittedMaterial(code=code, document_ref=f"doc:{digest}", sha256=digest)


def parse_items(specs: list[str], option: str) -> tuple[NoticeItem, ...]:
    """``CODE=REASON`` pairs."""
    items = []
    for spec in specs:
        code, sep, reason = spec.partition("=")
        if not sep:
            raise InvalidInputError(option, f"{spec!r} is not CODE=REASON")
        items.append(NoticeItem(code=code, reason=reason))
    return tuple(items)


@app.command()
def submit(
    matter: Annotated[str, typer.Argument(help="matter code from the catalogue")],
    applicant: Annotated[str, typer.Option(help="applicant's name")],
    id_number: Annotated[str, typer.Option(help="身份证号 or 统一社会信用代码")],
    key: Annotated[
        str, typer.Option(help="idempotency key: the same key never makes a second case")
    ],
    material: Annotated[list[str] | None, typer.Option(help="CODE=PATH, repeatable")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[Channel, typer.Option()] = Channel.WINDOW,
    clerk: ClerkOpt = "clerk-01",
    as_json: JsonOpt = False,
) -> None:
    """Receive an application at the window (收件)."""
    settings = get_settings()

    def build() -> Application:
        return Application(
            matter_code=matter,
            applicant=Applicant(name=applicant, id_number=id_number, phone=phone),
            materials=tuple(store_material(m, settings) for m in material or []),
            channel=channel,
            idempotency_key=key,
        )

    application = guarded(build)
    actor = Actor(role=Role.CLERK, id=clerk)

    async def run(service: CaseService) -> Any:
        submission = await service.submit(application, actor)
        return submission, await service.status(submission.case_no)

    submission, status = with_service(run)
    if as_json:
        render.emit_json(
            {
                "case_no": submission.case_no,
                "created": submission.created,
                "status": status.model_dump(mode="json"),
            }
        )
        return
    verb = "收件" if submission.created else "已收件（同一幂等键，未重复创建）"
    render.console.print(f"{verb}：办件编号 [bold]{submission.case_no}[/bold]")
    render.show_status(status)


@app.command()
def status(case_no: CaseArg, as_json: JsonOpt = False) -> None:
    """Show a case's stage, deadlines and tasks."""
    result = with_service(lambda s: s.status(case_no))
    render.emit_json(result) if as_json else render.show_status(result)


@app.command()
def accept(case_no: CaseArg, clerk: ClerkOpt = "clerk-01", as_json: JsonOpt = False) -> None:
    """Accept the application (受理) and start the parallel review."""
    act(case_no, lambda: Accept(actor=Actor(role=Role.CLERK, id=clerk)), as_json)


@app.command()
def notice(
    case_no: CaseArg,
    defective: Annotated[
        list[str] | None, typer.Option(help="CODE=REASON for a submitted item not in legal form")
    ] = None,
    clerk: ClerkOpt = "clerk-01",
    as_json: JsonOpt = False,
) -> None:
    """Issue the one-time notice (一次性告知书): every missing item plus the defective ones."""
    act(
        case_no,
        lambda: IssueNotice(
            actor=Actor(role=Role.CLERK, id=clerk),
            defective=parse_items(defective or [], "defective"),
        ),
        as_json,
    )


@app.command()
def refuse(
    case_no: CaseArg,
    reason: Annotated[str, typer.Option()],
    competent_organ: Annotated[str | None, typer.Option()] = None,
    clerk: ClerkOpt = "clerk-01",
    as_json: JsonOpt = False,
) -> None:
    """Do not accept (不予受理), with the reason and the competent organ."""
    act(
        case_no,
        lambda: Refuse(
            actor=Actor(role=Role.CLERK, id=clerk), reason=reason, competent_organ=competent_organ
        ),
        as_json,
    )


@app.command()
def supplement(
    case_no: CaseArg,
    material: Annotated[list[str], typer.Option(help="CODE=PATH, repeatable")],
    clerk: ClerkOpt = "clerk-01",
    as_json: JsonOpt = False,
) -> None:
    """Record the applicant's supplement (补正)."""
    settings = get_settings()
    act(
        case_no,
        lambda: Supplement(
            actor=Actor(role=Role.CLERK, id=clerk),
            materials=tuple(store_material(m, settings) for m in material),
        ),
        as_json,
    )


@app.command()
def decide(
    case_no: CaseArg,
    outcome: Annotated[Outcome, typer.Argument(help="approve | reject | request_supplement")],
    department: Annotated[str, typer.Option(help="the reviewing department's code")],
    reviewer: Annotated[str, typer.Option(help="reviewer id")] = "reviewer-01",
    reason: Annotated[str | None, typer.Option(help="reasons (required to reject)")] = None,
    item: Annotated[
        list[str] | None, typer.Option(help="CODE=REASON to request, repeatable")
    ] = None,
    request_id: Annotated[
        str | None, typer.Option(help="retry-safe id: the same id has one effect")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Give a department's opinion: approve, reject with reasons, or request items."""
    act(
        case_no,
        lambda: Decide(
            actor=Actor(role=Role.REVIEWER, id=reviewer, department=department),
            department=department,
            outcome=outcome,
            reasons=reason,
            items=parse_items(item or [], "item"),
        ),
        as_json,
        request_id,
    )


SupervisorOpt = Annotated[str, typer.Option(help="the supervisor's id")]


@app.command()
def extend(
    case_no: CaseArg,
    reason: Annotated[str, typer.Option()],
    supervisor: SupervisorOpt = "supervisor-01",
    as_json: JsonOpt = False,
) -> None:
    """Extend the case's period once (延期), with a reason sent to the applicant."""
    act(
        case_no,
        lambda: Extend(actor=Actor(role=Role.SUPERVISOR, id=supervisor), reason=reason),
        as_json,
    )


@app.command()
def exclude(
    case_no: CaseArg,
    procedure: Annotated[ExcludedProcedure, typer.Option(help="听证、检验、鉴定、专家评审…")],
    reason: Annotated[str, typer.Option()],
    expected_wd: Annotated[int, typer.Option(help="expected length in working days")],
    supervisor: SupervisorOpt = "supervisor-01",
    as_json: JsonOpt = False,
) -> None:
    """Open an excluded period (art. 45): every clock stops; the applicant is told in writing
    how long it is expected to take (R12)."""
    act(
        case_no,
        lambda: OpenExcludedPeriod(
            actor=Actor(role=Role.SUPERVISOR, id=supervisor),
            procedure=procedure,
            reason=reason,
            expected_wd=expected_wd,
        ),
        as_json,
    )


@app.command()
def resume(
    case_no: CaseArg,
    result: Annotated[str, typer.Option(help="what the procedure found")],
    supervisor: SupervisorOpt = "supervisor-01",
    as_json: JsonOpt = False,
) -> None:
    """Close the excluded period: every clock resumes with the working days it had left (R12)."""
    act(
        case_no,
        lambda: CloseExcludedPeriod(
            actor=Actor(role=Role.SUPERVISOR, id=supervisor), result=result
        ),
        as_json,
    )


@app.command()
def meeting(
    case_no: CaseArg,
    minutes: Annotated[str, typer.Option(help="the meeting's minutes (纪要)")],
    present: Annotated[list[str] | None, typer.Option(help="a department present")] = None,
    absent: Annotated[list[str] | None, typer.Option(help="a department absent")] = None,
    supervisor: SupervisorOpt = "supervisor-01",
    as_json: JsonOpt = False,
) -> None:
    """Record a joint review meeting (联合审查会议): an absent department with an open task is
    deemed to agree (缺席默认, R10)."""
    act(
        case_no,
        lambda: RecordMeeting(
            actor=Actor(role=Role.SUPERVISOR, id=supervisor),
            present=tuple(present or ()),
            absent=tuple(absent or ()),
            minutes=minutes,
        ),
        as_json,
    )


@app.command()
def withdraw(
    case_no: CaseArg,
    reason: Annotated[str, typer.Option()] = "申请人主动撤回",
    clerk: ClerkOpt = "clerk-01",
    as_json: JsonOpt = False,
) -> None:
    """Withdraw the application at the applicant's request (撤回), before the decision."""
    act(case_no, lambda: Withdraw(actor=Actor(role=Role.CLERK, id=clerk), reason=reason), as_json)


@app.command()
def pay(
    case_no: CaseArg,
    amount: Annotated[str, typer.Option(help="yuan, e.g. 80.00")],
    receipt: Annotated[str, typer.Option(help="receipt number")],
    clerk: ClerkOpt = "clerk-01",
    as_json: JsonOpt = False,
) -> None:
    """Collect the fee at the window (一个窗口收费)."""

    def build() -> CollectFee:
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise InvalidInputError("amount", f"{amount!r} is not an amount in yuan") from None
        return CollectFee(
            actor=Actor(role=Role.CLERK, id=clerk), amount_yuan=value, receipt_no=receipt
        )

    act(case_no, build, as_json)


@app.command()
def deliver(
    case_no: CaseArg,
    method: Annotated[str, typer.Option()] = "窗口领取",
    clerk: ClerkOpt = "clerk-01",
    as_json: JsonOpt = False,
) -> None:
    """Hand over the certificate or decision (送达) and complete the case (办结)."""
    act(case_no, lambda: Deliver(actor=Actor(role=Role.CLERK, id=clerk), method=method), as_json)


@app.command()
def notices(case_no: CaseArg, as_json: JsonOpt = False) -> None:
    """Print the written notices issued to the applicant (受理通知书, 一次性告知书 …)."""
    settings = get_settings()
    with open_store(settings.store_url)() as session:
        rows = [(n.notice_no, n.kind, n.title, n.body) for n in notices_of(session, case_no)]
    if as_json:
        render.emit_json(
            [{"notice_no": no, "kind": kind, "title": t, "body": b} for no, kind, t, b in rows]
        )
        return
    for _, _, _, body in rows:
        render.console.print(body, highlight=False)
        render.console.rule()


@app.command()
def catalogue(as_json: JsonOpt = False) -> None:
    """List the matters of the catalogue."""
    loaded = guarded(lambda: load_catalogue(get_settings().catalogue_path))
    if as_json:
        render.emit_json(loaded)
        return
    render.console.print(f"事项目录 {loaded.version} · {loaded.centre}")
    for matter in loaded.matters:
        depts = "、".join(f"{r.department}({r.period_wd})" for r in matter.reviews) or "即办"
        render.console.print(f"  {matter.code}  {matter.name}  [{depts}]")


def run_typer(typer_app: typer.Typer) -> None:
    """Run a command-line app and leave without interpreter finalisation: the Temporal
    client's native threads may still be running, and finalising under them can abort the
    process after the work is done."""
    try:
        typer_app()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    """Entry point of starter.py."""
    from approval.cli import devstack, simulate  # registers the `up` and `simulate` commands

    configure_logging(json=get_settings().log_json, level=logging.WARNING)
    devstack.register(app)
    simulate.register(app)
    run_typer(app)
