"""The supervisor's efficiency dashboard (效能评估, R19, R20), for the supervisor and the auditor
(R22): the figures of a period (a month, quarter or year, or from one day to another) for every
department and matter or one of each, the departments' ranking by composite score, a bar chart
of the scores and on-time rates and the year's month-by-month trend (SVG drawn here by pygal,
no script: readable printed), every count that can be drilled into linked to the cases and
tasks behind it (each to its case's page), the CSV and Excel downloads, and the printable
monthly report (效能评估月报). What is asked, shown and written is approval.http.exports', as
the API's (approval.api.routes.efficiency) and the command line's.

The charts carry no style or script of their own (the Content Security Policy allows neither
inline): their stylesheet is pygal's, served with the dashboard's print rules at
``/web/static/dashboard.css``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from xml.etree.ElementTree import Element

import pygal  # type: ignore[import-untyped]
from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pygal.style import Style  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from approval.domain.catalogue import Catalogue
from approval.domain.labels import CLOCK_LABELS
from approval.domain.models import WINDOW, Actor, Role
from approval.http import exports
from approval.http.deps import ServiceDep, SessionDep
from approval.http.exports import Cell, EfficiencyInputError, Filters, Kind
from approval.http.paging import PAGE_SIZE, Limit, Offset
from approval.store.efficiency import EfficiencyReport, ReportPeriod, flat
from approval.web.access import person
from approval.web.pager import pager
from approval.web.rendering import HERE, page

router = APIRouter()
READERS = (Role.SUPERVISOR, Role.AUDITOR)
Reader = Annotated[Actor, Depends(person("read_efficiency", *READERS))]
PATH = "/web/dashboard"

# ---- the charts -----------------------------------------------------------------------------

CHART_ID = "efficiency"
"""The id pygal's stylesheet is written for; the served stylesheet names the class instead."""
SERIES_STYLED = 16
COLORS: tuple[str, ...] = (
    "#9b1c1c",
    "#1f4e79",
    "#2e7d32",
    "#b7791f",
    "#6a1b9a",
    "#00838f",
    "#5d4037",
)
COLORS += ("#c2185b", "#455a64", "#827717", "#283593", "#e65100")
"""Dark enough to print, told apart in grey."""
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#000",
    foreground_subtle="#999",
    opacity=".9",
    opacity_hover="1",
    transition="0ms",
    value_font_size=11,
    label_font_size=12,
    major_label_font_size=12,
    font_family='"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif',
    colors=COLORS,
)
CHART_HEIGHT, BAR_HEIGHT = 160, 44
"""A bar chart's height: its frame, and each department's pair of bars."""
CHART_OPTIONS: dict[str, Any] = {
    "style": STYLE,
    "js": [],
    "disable_xml_declaration": True,
    "width": 800,
    "height": 380,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 4,
    "truncate_legend": -1,
    "truncate_label": -1,
    "no_data_text": "暂无数据",
}


def _chart(kind: Callable[..., Any], title: str, **options: Any) -> Any:
    chart = kind(title=title, **{**CHART_OPTIONS, **options})
    chart.uuid = CHART_ID
    return chart


def _without_style_or_script(root: Element, element_id: str, label: str) -> Element:
    """The chart's SVG without its style and script elements and style attributes, named."""
    for defs in root.iter("defs"):
        for child in list(defs):
            if child.tag in ("style", "script"):
                defs.remove(child)
    for element in root.iter():
        element.attrib.pop("style", None)
    root.attrib.update({"id": element_id, "role": "img", "aria-label": label})
    return root


def inline_svg(chart: Any, element_id: str) -> Markup:
    """The chart as SVG to put in a page as it is."""
    title = str(chart.config.title)
    chart.add_xml_filter(lambda root: _without_style_or_script(root, element_id, title))
    return Markup(chart.render(is_unicode=True))


@functools.cache
def chart_css() -> str:
    """pygal's stylesheet of the charts (its colours for up to SERIES_STYLED series), for every
    chart of the class ``pygal-chart``."""
    styles: list[str] = []

    def keep_style(root: Element) -> Element:
        styles.extend(e.text or "" for e in root.iter("style"))
        return root

    sample = _chart(pygal.Bar, "")
    for series in range(SERIES_STYLED):
        sample.add(str(series), [1])
    sample.add_xml_filter(keep_style)
    sample.render()
    return "\n".join(styles).replace(f"#chart-{CHART_ID}", "svg.pygal-chart")


def score_chart(report: EfficiencyReport) -> Markup:
    """Two bars per department, by rank, top down: its composite score and its on-time rate
    (in %), each with its value."""
    ranked = report.departments
    chart = _chart(
        pygal.HorizontalBar,
        f"{exports.period_name(report.period)} 各部门综合得分与按时办结率",
        height=CHART_HEIGHT + BAR_HEIGHT * max(len(ranked), 1),
        print_values=True,
        print_values_position="top",
        value_formatter=lambda value: f"{value:.1f}",
    )
    chart.x_labels = [d.name for d in reversed(ranked)]  # drawn from the bottom up
    chart.add("综合得分", [d.score for d in reversed(ranked)])
    chart.add("按时办结率（%）", [100 * d.tasks.on_time_rate for d in reversed(ranked)])
    return inline_svg(chart, "score-chart")


def trend_chart(year: int, months: Sequence[EfficiencyReport], names: Mapping[str, str]) -> Markup:
    """A line per department: its composite score in each month of the year so far (a gap
    where it had nothing to count)."""
    chart = _chart(
        pygal.Line,
        f"{year}年各部门综合得分逐月趋势",
        allow_interruptions=True,
        show_dots=True,
        dots_size=3,
        value_formatter=lambda value: f"{value:.1f}",
    )
    chart.x_labels = [f"{n}月" for n in range(1, 13)]
    scores = [{d.department: d.score for d in month.departments} for month in months]
    order = {code: n for n, code in enumerate(names)}
    for code in sorted({c for month in scores for c in month}, key=lambda c: order.get(c, 99)):
        chart.add(names.get(code, code), [month.get(code) for month in scores])
    return inline_svg(chart, "trend-chart")


def year_months(
    session: Session, catalogue: Catalogue, filters: Filters, today: date
) -> list[EfficiencyReport]:
    """The report of each month of the filters' year, up to this month."""
    year = filters.period.start.year
    last = 12 if year < today.year else today.month if year == today.year else 0
    return [
        exports.report_of(
            session, catalogue, Filters(ReportPeriod.month(year, month), *_narrowed(filters))
        )
        for month in range(1, last + 1)
    ]


def _narrowed(filters: Filters) -> tuple[str | None, str | None]:
    return filters.department, filters.matter


# ---- the tables -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A figure as the page shows it, and the list behind it, when it can be drilled into."""

    key: str
    """The figure's name (``flat``'s), as the cell's ``data-key``."""
    text: str
    href: str | None = None
    number: bool = True


@dataclass(frozen=True)
class FigureTable:
    """A table of figures, one column each department, matter or clerk, one row a figure."""

    id: str
    columns: list[str]
    rows: list[tuple[str, list[Shown]]]


Table = exports.TableKind


def drill_href(filters: Filters, figure: str, **narrowed: str | None) -> str:
    """The drill-down page of ``figure`` for the filters, narrowed to a department (or the
    window) or a matter."""
    query = {**filters.query(), **{k: v for k, v in narrowed.items() if v}, "figure": figure}
    return f"{PATH}/drill?{urlencode(query)}"


def shown(filters: Filters, table: Table, key: str, value: Cell, **narrowed: str | None) -> Shown:
    """A figure of ``table``, linked to its list when it counts something."""
    figure = exports.drill_of(table, key)
    linked = figure is not None and isinstance(value, int) and value > 0
    href = drill_href(filters, figure, **narrowed) if linked and figure else None
    return Shown(key, exports.shown(key, value), href, not isinstance(value, str))


def figure_table(
    id: str,
    keys: Iterable[str],
    columns: Sequence[tuple[str, Mapping[str, Cell], Callable[[str, Cell], Shown]]],
) -> FigureTable:
    """The table of ``keys`` (rows) for each column: its title, its figures, how one shows."""
    rows = [
        (exports.header(key), [show(key, figures.get(key)) for _, figures, show in columns])
        for key in keys
        if key not in exports.NOT_FIGURES
    ]
    return FigureTable(id, [title for title, _, _ in columns], rows)


def department_table(report: EfficiencyReport, filters: Filters) -> FigureTable:
    """Each department's figures, by rank."""
    columns = [
        (
            d.name,
            flat(d),
            functools.partial(shown, filters, "department", department=d.department),
        )
        for d in report.departments
    ]
    return figure_table("department-figures", exports.DEPARTMENT_KEYS, columns)


def matter_table(report: EfficiencyReport, filters: Filters) -> FigureTable:
    """Each matter's figures (a department's share, when the report is narrowed to one)."""
    columns = [
        (
            m.matter_name,
            flat(m),
            functools.partial(
                shown, filters, "matter", matter=m.matter_code, department=filters.department
            ),
        )
        for m in report.matters
    ]
    return figure_table("matter-figures", exports.MATTER_KEYS, columns)


def window_table(report: EfficiencyReport, filters: Filters) -> FigureTable:
    """The window's figures in total (linked to their lists), then each clerk's."""
    records = exports.window_records(report)
    total = functools.partial(shown, filters, "window", department=WINDOW)
    columns: list[tuple[str, Mapping[str, Cell], Callable[[str, Cell], Shown]]]
    columns = [(str(records[0]["clerk_id"]), records[0], total)]
    columns += [(str(r["clerk_id"]), r, _unlinked) for r in records[1:]]
    return figure_table("window-figures", exports.WINDOW_KEYS, columns)


def _unlinked(key: str, value: Cell) -> Shown:
    return Shown(key, exports.shown(key, value))


def ranking(
    report: EfficiencyReport, filters: Filters, overdue: Mapping[str, int]
) -> list[list[Shown]]:
    """The ranking's rows: exports.RANKING_KEYS's columns, then the overdue tasks."""
    rows = []
    for d in report.departments:
        figures = flat(d)
        show = functools.partial(shown, filters, "department", department=d.department)
        late = overdue.get(d.department, 0)
        behind = drill_href(filters, "overdue", department=d.department) if late else None
        rows.append(
            [
                *(show(key, figures.get(key)) for key in exports.RANKING_KEYS),
                Shown("overdue", str(late), behind),
            ]
        )
    return rows


# ---- the pages ------------------------------------------------------------------------------


def _options(catalogue: Catalogue) -> dict[str, Any]:
    return {
        "departments": exports.department_names(catalogue),
        "matters": {m.code: m.name for m in catalogue.matters},
    }


def _asked(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k != "offset"}


def _refused(
    request: Request, actor: Actor, template: str, error: EfficiencyInputError, **context: Any
) -> HTMLResponse:
    """The page again with the refusal's line (422), as the console shows every refusal."""
    return page(
        request,
        template,
        actor,
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        error=f"{error.field}: {error.reason}",
        error_code=error.code,
        asked=_asked(request),
        **context,
    )


def links(filters: Filters) -> dict[str, str]:
    """The downloads and the monthly report of the filters."""
    query = urlencode(filters.query())
    narrowed = {"department": filters.department, "matter": filters.matter}
    month = {"month": f"{filters.period.start:%Y-%m}", **{k: v for k, v in narrowed.items() if v}}
    return {
        "csv": f"{PATH}/efficiency.csv?{query}",
        "xlsx": f"{PATH}/efficiency.xlsx?{query}",
        "monthly": f"{PATH}/monthly?{urlencode(month)}",
    }


@dataclass(frozen=True)
class FilterQuery:
    """The period (``period``, or ``start`` and ``end``), department and matter a page or a
    download asks for, as typed in its query."""

    period: str | None = None
    start: str | None = None
    end: str | None = None
    department: str | None = None
    matter: str | None = None

    def filters(self, catalogue: Catalogue, today: date, *, window: bool = False) -> Filters:
        """The filters asked for, checked against the catalogue (EfficiencyInputError)."""
        return exports.filters_of(catalogue, today, **asdict(self), window=window)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    actor: Reader,
    service: ServiceDep,
    session: SessionDep,
    asked: Annotated[FilterQuery, Depends()],
) -> Response:
    """The figures of the period asked for (this month by default): the ranking, the charts,
    each department's, matter's and the window's figures, with their drill-downs."""
    catalogue = service.catalogue
    today = exports.today_in_beijing()
    try:
        filters = asked.filters(catalogue, today)
    except EfficiencyInputError as error:
        return _refused(request, actor, "dashboard.html", error, report=None, **_options(catalogue))
    report = exports.report_of(session, catalogue, filters)
    months = year_months(session, catalogue, filters, today)
    return page(
        request,
        "dashboard.html",
        actor,
        report=report,
        filters=filters,
        period_name=exports.period_name(report.period),
        last_day=exports.last_day(report.period),
        asked=filters.query(),
        ranking=ranking(report, filters, exports.overdue_by_department(session, filters)),
        ranking_headers=[*map(exports.header, exports.RANKING_KEYS), "超期任务"],
        tables=[
            ("各部门指标", department_table(report, filters)),
            ("各事项指标", matter_table(report, filters)),
            ("窗口（首问负责）", window_table(report, filters)),
        ],
        score_chart=score_chart(report),
        trend_chart=trend_chart(
            filters.period.start.year, months, exports.department_names(catalogue)
        ),
        links=links(filters),
        **_options(catalogue),
    )


@router.get("/dashboard/drill", response_class=HTMLResponse)
async def drill(
    request: Request,
    actor: Reader,
    service: ServiceDep,
    session: SessionDep,
    asked: Annotated[FilterQuery, Depends()],
    figure: str | None = None,
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> Response:
    """The cases and tasks behind one figure, each linked to its case's page."""
    catalogue = service.catalogue
    try:
        filters = asked.filters(catalogue, exports.today_in_beijing(), window=True)
        found = exports.drill(session, filters, figure or "", limit=limit, offset=offset)
    except EfficiencyInputError as error:
        return _refused(request, actor, "dashboard_drill.html", error, found=None)
    return page(
        request,
        "dashboard_drill.html",
        actor,
        found=found,
        period_name=exports.period_name(filters.period),
        party_name=exports.party_name(catalogue, filters.department),
        matter_name=_options(catalogue)["matters"].get(filters.matter),
        back=f"{PATH}?{urlencode(exports.period_query(filters.period))}",
        pages=pager(request, found.total, limit, offset),
        CLOCK_LABELS=CLOCK_LABELS,
    )


@router.get("/dashboard/monthly", response_class=HTMLResponse)
async def monthly(
    request: Request,
    actor: Reader,
    service: ServiceDep,
    session: SessionDep,
    month: str | None = None,
    department: str | None = None,
    matter: str | None = None,
) -> Response:
    """The printable monthly report (效能评估月报) of ``month`` (``2026-12``; this month by
    default)."""
    catalogue = service.catalogue
    try:
        filters = exports.filters_of(
            catalogue,
            exports.today_in_beijing(),
            period=month,
            department=department,
            matter=matter,
        )
        if exports.period_kind(filters.period) != "month":
            raise EfficiencyInputError("month", "月报的月份应为 2026-12", exports.INVALID_PERIOD)
    except EfficiencyInputError as error:
        return _refused(request, actor, "dashboard_monthly.html", error, report=None)
    report = exports.report_of(session, catalogue, filters)
    return page(
        request,
        "dashboard_monthly.html",
        actor,
        report=report,
        centre=catalogue.centre,
        period_name=exports.period_name(report.period),
        last_day=exports.last_day(report.period),
        party_name=exports.party_name(catalogue, filters.department),
        matter_name=_options(catalogue)["matters"].get(filters.matter, "全部"),
        ranking=ranking(report, filters, exports.overdue_by_department(session, filters)),
        ranking_headers=[*map(exports.header, exports.RANKING_KEYS), "超期任务"],
        tables=[
            ("各部门指标", department_table(report, filters)),
            ("各事项指标", matter_table(report, filters)),
            ("窗口（首问负责）", window_table(report, filters)),
        ],
        score_chart=score_chart(report),
        weights=report.weights,
        score_rule=exports.SCORE_RULE,
        made_at=datetime.now(UTC),
        back=f"{PATH}?{urlencode(filters.query())}",
    )


def _download(service: ServiceDep, session: SessionDep, kind: Kind, asked: Filters) -> Response:
    report = exports.report_of(session, service.catalogue, asked)
    file = exports.export(report, asked, kind, service.catalogue.centre)
    disposition = {"Content-Disposition": file.disposition}
    return Response(file.content, media_type=file.media_type, headers=disposition)


def asked_for_download(service: ServiceDep, asked: Annotated[FilterQuery, Depends()]) -> Filters:
    """The filters of a download; bad input is the console's refusal page (422)."""
    return asked.filters(service.catalogue, exports.today_in_beijing())


Downloaded = Annotated[Filters, Depends(asked_for_download)]


@router.get("/dashboard/efficiency.csv")
async def efficiency_csv(
    actor: Reader, asked: Downloaded, service: ServiceDep, session: SessionDep
) -> Response:
    """The figures of the period as one CSV file (approval.http.exports)."""
    return _download(service, session, "csv", asked)


@router.get("/dashboard/efficiency.xlsx")
async def efficiency_xlsx(
    actor: Reader, asked: Downloaded, service: ServiceDep, session: SessionDep
) -> Response:
    """The figures of the period as an Excel workbook (approval.http.exports)."""
    return _download(service, session, "xlsx", asked)


@router.get("/static/dashboard.css")
async def stylesheet() -> Response:
    """The dashboard's print rules and its charts' stylesheet."""
    css = (HERE / "static" / "dashboard.css").read_text(encoding="utf-8") + chart_css()
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})
