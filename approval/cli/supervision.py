"""The supervisor's efficiency figures on the command line (效能评估, R19, R20): ``starter.py
supervision report`` asks the API (GET /supervision/efficiency, the supervisor's or the
auditor's token, R22) for the report of a period and shows the departments' ranking and every
table of figures in Chinese; ``--csv`` and ``--xlsx`` write the same tables as the API's
downloads (approval.http.exports writes both); ``--json`` prints the report as the API gave it.
The period is checked here before anything is sent; the department and matter by the API
against its catalogue. Registered by approval.cli.app as the ``supervision`` group."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from approval.cli.common import JsonOpt, emit_json, fail, guarded

if TYPE_CHECKING:
    from rich.table import Table as RichTable

    from approval.http.exports import Table
    from approval.store.efficiency import EfficiencyReport

TITLES = {"部门排名": "各部门指标", "事项": "各事项指标", "窗口": "窗口（首问负责）"}
"""The tables' titles when shown one column a department, matter or clerk."""
PIPED_WIDTH = 240
"""The width of the tables written to a file or a pipe."""

app = typer.Typer(
    help="效能评估：部门排名与各项指标（电子监察、审计）",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.command()
def report(
    ctx: typer.Context,
    period: Annotated[
        str | None,
        typer.Option(help="2026-12（月）| 2026-Q4（季度）| 2026（年）；默认本月"),
    ] = None,
    start: Annotated[str | None, typer.Option(help="起始日 YYYY-MM-DD（与 --end 同用）")] = None,
    end: Annotated[str | None, typer.Option(help="截止日 YYYY-MM-DD（含当日）")] = None,
    department: Annotated[str | None, typer.Option(help="部门代码，如 CGJ")] = None,
    matter: Annotated[str | None, typer.Option(help="事项编码，如 SC-SPJY-001")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="写出 CSV 文件", dir_okay=False)] = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="写出 Excel 文件", dir_okay=False)
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The ranking and figures of the period; written as CSV and Excel too when asked."""
    from urllib.parse import urlencode

    from approval.cli.acting import api
    from approval.http import exports

    guarded(lambda: exports.parse_period(period, start, end, exports.today_in_beijing()))
    asked = {"period": period, "start": start, "end": end, "department": department}
    query = urlencode({k: v.strip() for k, v in {**asked, "matter": matter}.items() if v})
    answer: dict[str, Any] = api(ctx).get(f"/supervision/efficiency?{query}")
    figures = exports.report_from_json(answer)
    tables = exports.report_tables(figures)
    if as_json:
        emit_json(answer)
    else:
        show(figures, tables)
    for option, path, content in (
        ("csv", csv, exports.csv_bytes),
        ("xlsx", xlsx, exports.xlsx_bytes),
    ):
        if path is not None:
            _write(option, path, content(tables), quiet=as_json)


def _write(option: str, path: Path, content: bytes, *, quiet: bool) -> None:
    """The file, or one line naming the option when it cannot be written (exit 2)."""
    try:
        path.write_bytes(content)
    except OSError as error:
        fail(f"{option}: 无法写入 {path}（{error.strerror or error}）")
    if not quiet:
        print(f"已写入 {path}", flush=True)


def show(figures: EfficiencyReport, tables: list[Table]) -> None:
    """The ranking, then every table of figures, one column a department, matter or clerk."""
    from rich.console import Console

    from approval.http import exports

    console = Console()
    if not console.is_terminal:  # a file or a pipe: no table squeezed to 80 columns
        console = Console(width=PIPED_WIDTH)
    name = exports.period_name(figures.period)
    narrowed = f"  部门：{figures.department or '全部'}  事项：{figures.matter or '全部'}"
    span = f"{figures.period.start} 至 {exports.last_day(figures.period)}"
    console.print(f"[bold]效能评估 {name}[/bold]（{span}）{narrowed}")
    console.print(_ranking(figures))
    for table in tables[1:]:
        console.print(_transposed(table))


def _ranking(figures: EfficiencyReport) -> RichTable:
    from rich.table import Table as RichTable

    from approval.http import exports
    from approval.store.efficiency import flat

    table = RichTable(*map(exports.header, exports.RANKING_KEYS), title="部门排名")
    for department in figures.departments:
        row = flat(department)
        table.add_row(*(exports.shown(k, row.get(k)) for k in exports.RANKING_KEYS))
    return table


def _transposed(table: Table) -> RichTable:
    from rich.table import Table as RichTable

    from approval.http import exports

    label = next(
        (n for n, k in enumerate(table.keys) if k in ("name", "matter_name", "clerk_id")), 0
    )
    shown = RichTable(title=TITLES.get(table.name, table.name))
    shown.add_column("指标", no_wrap=True)
    for row in table.rows:
        shown.add_column(str(row[label]), justify="right")
    for column, key in enumerate(table.keys):
        if key not in exports.NOT_FIGURES:
            shown.add_row(exports.header(key), *(exports.shown(key, r[column]) for r in table.rows))
    return shown
