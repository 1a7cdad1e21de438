"""The efficiency figures (效能评估, R19, R20) as the supervisor and the auditor read them, shared
by the API (approval.api.routes.efficiency), the console's dashboard
(approval.web.pages.dashboard) and the command line (approval.cli.supervision), so that each
asks, shows and writes the same thing:

- ``filters_of``: the period of a request — ``2026-12`` (a month), ``2026-Q4`` (a quarter),
  ``2026`` (a year), or ``start`` and ``end`` dates, both days included; the current month in
  Beijing when none is given — and a department or matter of the catalogue. Bad input is an
  ``EfficiencyInputError``: the field, a Chinese reason and a machine code (422).
- ``report_tables``, ``export``: the report's tables with Chinese headers (the period and the
  weights; the departments by rank; the matters; the window and its clerks) as CSV (one file, a
  section a table, UTF-8 with a BOM so that Excel reads the Chinese) or as an Excel workbook (a
  sheet a table). Numbers are written as the report gives them: rates as fractions of 1 (Excel
  shows them as percentages), the score unrounded; ``shown`` formats a number for a page.
- ``drill``: the cases and review tasks behind one figure of the report, each counted as
  approval.store.efficiency counts it, so that a figure and its list agree.

Nothing here commits: sessions belong to the caller."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, get_args
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, select, true
from sqlalchemy.orm import Session

from approval.domain.calendar import SHANGHAI
from approval.domain.catalogue import Catalogue
from approval.domain.errors import InvalidInputError
from approval.domain.models import BAD_RATINGS, RATING_LABELS, WINDOW
from approval.domain.state import FollowUpCause, Stage, TaskState
from approval.store.efficiency import (
    BY_A_PERSON,
    DECIDED,
    ClerkFigures,
    DepartmentFigures,
    EfficiencyReport,
    MatterFigures,
    ReportPeriod,
    efficiency_report,
    flat,
)
from approval.store.schema import CaseRow, FollowUpRow, ReviewTaskRow, SupervisionMarkRow

INVALID_PERIOD = "invalid_period"
UNKNOWN_DEPARTMENT = "unknown_department"
UNKNOWN_MATTER = "unknown_matter"
UNKNOWN_FIGURE = "unknown_figure"
INVALID_INPUT = "invalid_input"
"""The machine codes of the refusals of bad input (422)."""
FIRST_YEAR, LAST_YEAR = 2000, 2999
PERIOD_PATTERN = re.compile(r"(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])))?")
DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
PERIOD_FORMAT = "统计期间应为 2026-12（月）、2026-Q4（季度）或 2026（年）"
DAY_FORMAT = "日期应为 YYYY-MM-DD，如 2026-12-01"
WINDOW_NAME = "窗口"
Rows = Select[*tuple[Any, ...]]
"""A query of the rows behind a figure."""


class EfficiencyInputError(InvalidInputError):
    """Bad input of an efficiency request: the field, a Chinese reason and a machine code."""

    def __init__(self, field: str, reason: str, code: str) -> None:
        super().__init__(field, reason)
        self.code = code


# ---- what is asked --------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The period of a report and the department or matter it is narrowed to, if any."""

    period: ReportPeriod
    department: str | None = None
    matter: str | None = None

    def query(self) -> dict[str, str]:
        """The query parameters that ask for these filters again."""
        narrowed = {"department": self.department, "matter": self.matter}
        return {**period_query(self.period), **{k: v for k, v in narrowed.items() if v}}


def today_in_beijing() -> date:
    """Today in Asia/Shanghai, the day the default period (this month) is of."""
    return datetime.now(SHANGHAI).date()


def _given(value: str | None) -> str | None:
    """A parameter as given; an empty one (a form's blank field) is not given."""
    value = value.strip() if value is not None else None
    return value or None


def _year(text: str, field: str) -> int:
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise EfficiencyInputError(field, f"年份应在 {FIRST_YEAR}–{LAST_YEAR} 之间", INVALID_PERIOD)
    return year


def _named_period(text: str) -> ReportPeriod:
    """``2026-12``, ``2026-Q4`` or ``2026``."""
    found = PERIOD_PATTERN.fullmatch(text)
    if found is None:
        raise EfficiencyInputError("period", PERIOD_FORMAT, INVALID_PERIOD)
    year = _year(found["year"], "period")
    if found["quarter"]:
        return ReportPeriod.quarter(year, int(found["quarter"]))
    if found["month"]:
        month = int(found["month"])
        if not 1 <= month <= 12:
            raise EfficiencyInputError("period", PERIOD_FORMAT, INVALID_PERIOD)
        return ReportPeriod.month(year, month)
    return ReportPeriod.year(year)


def _day(text: str | None, field: str) -> date:
    if text is None:
        raise EfficiencyInputError(field, "请同时填写开始日期和结束日期", INVALID_PERIOD)
    try:
        if DAY_PATTERN.fullmatch(text) is None:
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise EfficiencyInputError(field, DAY_FORMAT, INVALID_PERIOD) from None
    _year(str(day.year), field)
    return day


def parse_period(
    period: str | None, start: str | None, end: str | None, today: date
) -> ReportPeriod:
    """The period asked for: named (``period``), or from ``start`` to ``end``, both days
    included; this month when neither is given."""
    period, start, end = _given(period), _given(start), _given(end)
    if period is not None and (start is not None or end is not None):
        reason = "统计期间（period）与起止日期（start、end）只能选其一"
        raise EfficiencyInputError("period", reason, INVALID_PERIOD)
    if start is not None or end is not None:
        first, last = _day(start, "start"), _day(end, "end")
        if last < first:
            raise EfficiencyInputError("end", "结束日期不能早于开始日期", INVALID_PERIOD)
        return ReportPeriod(start=first, end=last + timedelta(days=1))
    if period is None:
        return ReportPeriod.month(today.year, today.month)
    return _named_period(period)


def department_names(catalogue: Catalogue) -> dict[str, str]:
    """The catalogue's departments, code → name, in the catalogue's order."""
    names: dict[str, str] = {}
    for matter in catalogue.matters:
        for review in matter.reviews:
            names.setdefault(review.department, review.name)
    return names


def party_name(catalogue: Catalogue, party: str | None) -> str:
    """The name of a department, or 窗口; every party when None."""
    if party is None:
        return "全部"
    return WINDOW_NAME if party == WINDOW else department_names(catalogue).get(party, party)


def filters_of(
    catalogue: Catalogue,
    today: date,
    *,
    period: str | None = None,
    start: str | None = None,
    end: str | None = None,
    department: str | None = None,
    matter: str | None = None,
    window: bool = False,
) -> Filters:
    """The filters of a request, checked: the period, a department of the catalogue (or the
    window, when ``window``) and a matter of the catalogue."""
    department, matter = _given(department), _given(matter)
    known = set(department_names(catalogue)) | ({WINDOW} if window else set())
    if department is not None and department not in known:
        reason = f"{department[:40]!r} 不是事项目录中的部门代码"
        raise EfficiencyInputError("department", reason, UNKNOWN_DEPARTMENT)
    if matter is not None and matter not in {m.code for m in catalogue.matters}:
        reason = f"{matter[:40]!r} 不是事项目录中的事项编码"
        raise EfficiencyInputError("matter", reason, UNKNOWN_MATTER)
    return Filters(parse_period(period, start, end, today), department, matter)


def report_of(session: Session, catalogue: Catalogue, filters: Filters) -> EfficiencyReport:
    """The report of the filters (approval.store.efficiency)."""
    return efficiency_report(
        session, catalogue, filters.period, department=filters.department, matter=filters.matter
    )


def report_from_json(data: Mapping[str, Any]) -> EfficiencyReport:
    """A report as the API gave it (``model_dump(mode="json")``), read back: its computed
    figures (the rates, the totals) left out, as the model computes them again and refuses
    them as input."""
    plain = _inputs_of(EfficiencyReport, data)
    return EfficiencyReport.model_validate(plain)


def _inputs_of(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, Mapping):
        return data
    found = {}
    for name, value in data.items():
        if name in model.model_computed_fields:
            continue
        field = model.model_fields.get(name)
        inner = _model_in(field.annotation) if field else None
        if inner is None:
            found[name] = value
        elif isinstance(value, list):
            found[name] = [_inputs_of(inner, item) for item in value]
        else:
            found[name] = _inputs_of(inner, value)
    return found


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: itself, or the items of a tuple of them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for a in get_args(annotation) if (m := _model_in(a)) is not None), None)


def period_kind(period: ReportPeriod) -> Literal["month", "quarter", "year", "days"]:
    """Whether the period is a calendar month, quarter or year, or other days."""
    start, end = period.start, period.end
    if start.day != 1 or end.day != 1:
        return "days"
    months = (end.year - start.year) * 12 + end.month - start.month
    if months == 1:
        return "month"
    if months == 3 and start.month % 3 == 1:
        return "quarter"
    return "year" if months == 12 and start.month == 1 else "days"


def last_day(period: ReportPeriod) -> date:
    """The period's last day (its end is the day after)."""
    return period.end - timedelta(days=1)


def period_query(period: ReportPeriod) -> dict[str, str]:
    """The query parameters that name the period."""
    start, kind = period.start, period_kind(period)
    if kind == "month":
        return {"period": f"{start:%Y-%m}"}
    if kind == "quarter":
        return {"period": f"{start.year}-Q{(start.month + 2) // 3}"}
    if kind == "year":
        return {"period": str(start.year)}
    return {"start": start.isoformat(), "end": last_day(period).isoformat()}


QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")


def period_name(period: ReportPeriod) -> str:
    """The period in Chinese: 2026年12月, 2026年第四季度, 2026年, or its first and last day."""
    start, kind = period.start, period_kind(period)
    if kind == "month":
        return f"{start.year}年{start.month}月"
    if kind == "quarter":
        return f"{start.year}年{QUARTERS[(start.month - 1) // 3]}"
    if kind == "year":
        return f"{start.year}年"
    return f"{start.isoformat()} 至 {last_day(period).isoformat()}"


# ---- the tables -----------------------------------------------------------------------------

Cell = str | int | float | None

HEADERS = {
    "rank": "排名",
    "department": "部门代码",
    "name": "部门名称",
    "score": "综合得分",
    "follow_up_rate": "整改按时答复率",
    "matter_code": "事项编码",
    "matter_name": "事项名称",
    "clerk_id": "窗口人员",
    "item": "项目",
    "value": "内容",
    "tasks.received": "收到审查任务",
    "tasks.decided": "已办结任务",
    "tasks.on_time": "按时办结",
    "tasks.deemed_by_silence": "超时默认",
    "tasks.absence_consents": "缺席默认",
    "tasks.escalations": "督办",
    "tasks.supplement_requests": "要求补正",
    "tasks.rejections": "不同意",
    "tasks.on_time_rate": "按时办结率",
    "working_days.answered": "已答复任务",
    "working_days.median_used_wd": "用时中位数（工作日）",
    "working_days.p90_used_wd": "用时P90（工作日）",
    "working_days.median_period_wd": "时限中位数（工作日）",
    "working_days.p90_period_wd": "时限P90（工作日）",
    "marks.reminders": "催办",
    "marks.red_marks": "红牌",
    **{f"ratings.{level.value}": label for level, label in RATING_LABELS.items()},
    "ratings.total": "评价数",
    "ratings.bad": "差评",
    "ratings.satisfaction_rate": "满意率",
    **{
        f"{group}.{key}": f"{name}{label}"
        for group, name in (("rating_follow_ups", "差评整改"), ("complaints", "投诉整改"))
        for key, label in (
            ("total", ""),
            ("on_time", "按时答复"),
            ("late", "逾期答复"),
            ("unanswered", "未答复"),
            ("on_time_rate", "按时率"),
        )
    },
    "cases.received": "收件",
    "cases.accepted": "受理",
    "cases.deemed_accepted": "默认受理",
    "cases.intake_notices": "一次性告知",
    "cases.not_accepted": "不予受理",
    "cases.withdrawn": "撤回",
    "cases.approved": "准予许可",
    "cases.rejected": "不予许可",
    "cases.completed": "办结",
    "cases_received": "收件",
    "intake_notices": "一次性告知",
    "deemed_acceptances": "默认受理",
}
"""The Chinese header of each figure, by its name in ``flat`` (a figure not named here keeps
its own name as its header, so that nothing is left out)."""


def header(key: str) -> str:
    """The Chinese header of a figure."""
    return HEADERS.get(key, key)


def shown(key: str, value: Cell) -> str:
    """A figure as a page shows it: rates as percentages, the score to two decimals (by the
    figure's name, so a workbook's 1 reads as the report's 1.0)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if key.endswith("_rate"):
        return f"{value:.1%}"
    return f"{value:.2f}" if key == "score" else str(value)


@dataclass(frozen=True)
class Table:
    """One table of a report: its name, its figures' names (``flat``'s) and its rows."""

    name: str
    keys: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    @property
    def headers(self) -> tuple[str, ...]:
        """The Chinese headers."""
        return tuple(header(key) for key in self.keys)


def _keys(sample: BaseModel, lead: Sequence[str]) -> tuple[str, ...]:
    names = list(flat(sample))
    return (*lead, *(name for name in names if name not in lead))


def _sample_department() -> DepartmentFigures:
    return DepartmentFigures.model_validate(
        {
            "department": "",
            "name": "",
            "score": 0.0,
            **{k: {} for k in ("tasks", "working_days", "marks", "ratings")},
            **{k: {} for k in ("rating_follow_ups", "complaints")},
        }
    )


def _sample_matter() -> MatterFigures:
    groups = ("cases", "tasks", "working_days", "marks", "ratings")
    return MatterFigures.model_validate(
        {
            "matter_code": "",
            "matter_name": "",
            **{k: {} for k in (*groups, "rating_follow_ups", "complaints")},
        }
    )


DEPARTMENT_KEYS = _keys(_sample_department(), ("rank", "department", "name", "score"))
MATTER_KEYS = _keys(_sample_matter(), ("matter_code", "matter_name"))
WINDOW_KEYS = _keys(ClerkFigures(clerk_id=None), ("clerk_id",))
RANKING_KEYS = (
    "rank",
    "name",
    "score",
    "tasks.received",
    "tasks.on_time_rate",
    "ratings.satisfaction_rate",
    "follow_up_rate",
    "tasks.deemed_by_silence",
    "tasks.escalations",
    "marks.reminders",
    "marks.red_marks",
)
"""The figures a ranking shows (the page, the command line)."""
NOT_FIGURES = frozenset({"rank", "department", "name", "matter_code", "matter_name", "clerk_id"})
"""The names of what a row is of, not figures."""
WINDOW_TOTAL = "合计"
NO_CLERK = "未记录"


def _rows(
    keys: Sequence[str], records: Iterable[Mapping[str, Cell]]
) -> tuple[tuple[Cell, ...], ...]:
    return tuple(tuple(record.get(key) for key in keys) for record in records)


def window_records(report: EfficiencyReport) -> list[dict[str, Cell]]:
    """The window's figures in total (``clerk_id`` 合计), then each clerk's."""
    total = {**flat(report.window), "clerk_id": WINDOW_TOTAL}
    clerks = [{**flat(c), "clerk_id": c.clerk_id or NO_CLERK} for c in report.window.clerks]
    return [total, *clerks]


def _summary(report: EfficiencyReport, centre: str | None) -> Table:
    weights = report.weights
    items: list[tuple[str, Cell]] = [
        *([("服务中心", centre)] if centre else []),
        ("统计期间", period_name(report.period)),
        ("起始日", report.period.start.isoformat()),
        ("截止日（含）", last_day(report.period).isoformat()),
        ("部门", report.department or "全部"),
        ("事项", report.matter or "全部"),
        ("按时办结率权重", weights.on_time),
        ("满意率权重", weights.satisfaction),
        ("整改按时答复率权重", weights.follow_up),
        ("每百件审查任务红牌扣分", weights.red_mark_points),
        ("综合得分", SCORE_RULE),
    ]
    return Table("统计说明", ("item", "value"), tuple(items))


SCORE_RULE = (
    "100 ×（按时办结率权重 × 按时办结率 + 满意率权重 × 满意率 + 整改按时答复率权重 × "
    "整改按时答复率）− 每百件审查任务红牌扣分 × 每百件审查任务的红牌数"
)


def report_tables(report: EfficiencyReport, centre: str | None = None) -> list[Table]:
    """Every table of the report: the period and weights, the departments by rank, the
    matters, the window and its clerks."""
    return [
        _summary(report, centre),
        Table("部门排名", DEPARTMENT_KEYS, _rows(DEPARTMENT_KEYS, map(flat, report.departments))),
        Table("事项", MATTER_KEYS, _rows(MATTER_KEYS, map(flat, report.matters))),
        Table("窗口", WINDOW_KEYS, _rows(WINDOW_KEYS, window_records(report))),
    ]


def csv_bytes(tables: Sequence[Table]) -> bytes:
    """The tables as one CSV file: each its name, its headers and its rows, a blank line
    between; UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for number, table in enumerate(tables):
        if number:
            writer.writerow([])
        writer.writerow([table.name])
        writer.writerow(table.headers)
        writer.writerows(["" if v is None else v for v in row] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


NUMBER_FORMATS = {"rate": "0.0%", "score": "0.00"}


def _number_format(key: str) -> str | None:
    if key.endswith("_rate"):
        return NUMBER_FORMATS["rate"]
    return NUMBER_FORMATS["score"] if key == "score" else None


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """The tables as an Excel workbook, a sheet a table: its headers in bold on the first row
    (frozen), rates shown as percentages and the score to two decimals."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.worksheets[0])
    for table in tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.append(table.headers)
        for row in table.rows:
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for column, key in enumerate(table.keys, start=1):
            letter = get_column_letter(column)
            sheet.column_dimensions[letter].width = max(10, 2 * len(header(key)) + 2)
            number_format = _number_format(key)
            for cells in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                if number_format:
                    cells[0].number_format = number_format
    book.properties.creator = "并联审批系统"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


Kind = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[Kind, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Download:
    """A file to download: its name, its media type and its bytes."""

    name: str
    media_type: str
    content: bytes

    @property
    def disposition(self) -> str:
        """The Content-Disposition header: an ASCII name, and the Chinese one (RFC 6266)."""
        fallback = re.sub(r"[^A-Za-z0-9._-]", "_", self.name.replace("效能评估", "efficiency"))
        return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(self.name)}"


def download_name(filters: Filters, kind: Kind) -> str:
    """``效能评估-2026-12[-部门][-事项].xlsx``."""
    named = "_".join(period_query(filters.period).values())
    parts = [p for p in ("效能评估", named, filters.department, filters.matter) if p]
    return f"{'-'.join(parts)}.{kind}"


def export(report: EfficiencyReport, filters: Filters, kind: Kind, centre: str | None) -> Download:
    """The report as a CSV or Excel download."""
    tables = report_tables(report, centre)
    content = csv_bytes(tables) if kind == "csv" else xlsx_bytes(tables)
    return Download(download_name(filters, kind), MEDIA_TYPES[kind], content)


# ---- the cases behind a figure --------------------------------------------------------------


class Source(StrEnum):
    """What a figure counts: review tasks by their first dispatch, reminders and red marks by
    their instant, follow-ups by their opening, ratings by their instant, cases by receipt."""

    TASK = "task"
    MARK = "mark"
    FOLLOW_UP = "follow_up"
    RATING = "rating"
    CASE = "case"


@dataclass(frozen=True, eq=False)
class Figure:
    """A figure that can be drilled into: what it counts and which of them; its name in the
    departments' and the matters' figures of the report (``flat``'s; None: not one there),
    and in the window's."""

    label: str
    source: Source
    which: ColumnElement[bool]
    reported: str | None = None
    window: str | None = None
    department: bool = True
    """Whether a department's figures have it (a matter's do whenever it is reported)."""


_t, _m, _f, _c = ReviewTaskRow, SupervisionMarkRow, FollowUpRow, CaseRow
ON_TIME = and_(_t.state.in_(BY_A_PERSON), _t.overdue.is_(False))
DEEMED = and_(_t.state == TaskState.DEEMED_APPROVED.value, _t.absent_at_meeting.is_(False))
BAD = _c.rating.in_([level.value for level in BAD_RATINGS])
TASK, MARK, FOLLOW_UP = Source.TASK, Source.MARK, Source.FOLLOW_UP
RATING, CASE = Source.RATING, Source.CASE
FIGURES: dict[str, Figure] = {
    "received": Figure("收到审查任务", TASK, true(), "tasks.received"),
    "decided": Figure("已办结任务", TASK, _t.state.in_(DECIDED), "tasks.decided"),
    "on_time": Figure("按时办结", TASK, ON_TIME, "tasks.on_time"),
    "overdue": Figure("超期任务", TASK, _t.overdue.is_(True)),
    "deemed": Figure("超时默认", TASK, DEEMED, "tasks.deemed_by_silence"),
    "absence_consents": Figure(
        "缺席默认", TASK, _t.absent_at_meeting.is_(True), "tasks.absence_consents"
    ),
    "escalations": Figure("督办", TASK, _t.escalated.is_(True), "tasks.escalations"),
    "supplement_requests": Figure(
        "要求补正", TASK, _t.supplement_requested.is_(True), "tasks.supplement_requests"
    ),
    "rejections": Figure("不同意", TASK, _t.state == TaskState.REJECTED.value, "tasks.rejections"),
    "reminders": Figure("催办", MARK, _m.colour == "yellow", "marks.reminders", "marks.reminders"),
    "red_marks": Figure("红牌", MARK, _m.colour == "red", "marks.red_marks", "marks.red_marks"),
    "rating_follow_ups": Figure(
        "差评整改",
        FOLLOW_UP,
        _f.cause == FollowUpCause.RATING.value,
        "rating_follow_ups.total",
        "rating_follow_ups.total",
    ),
    "complaints": Figure(
        "投诉整改",
        FOLLOW_UP,
        _f.cause == FollowUpCause.COMPLAINT.value,
        "complaints.total",
        "complaints.total",
    ),
    "ratings": Figure("评价", RATING, true(), "ratings.total"),
    "bad_ratings": Figure("差评", RATING, BAD, "ratings.bad"),
    "cases_received": Figure(
        "收件", CASE, true(), "cases.received", "cases_received", department=False
    ),
    "deemed_acceptances": Figure(
        "默认受理",
        CASE,
        _c.deemed_accepted.is_(True),
        "cases.deemed_accepted",
        "deemed_acceptances",
        department=False,
    ),
    "completed": Figure(
        "办结", CASE, _c.stage == Stage.COMPLETED.value, "cases.completed", department=False
    ),
}
"""The figures that can be drilled into, by name (``figure=``)."""


def figure_named(name: str | None) -> Figure:
    """The figure ``name``; else the refusal naming ``figure``."""
    if name is None or name not in FIGURES:
        reason = f"指标应为以下之一：{'、'.join(FIGURES)}"
        raise EfficiencyInputError("figure", reason, UNKNOWN_FIGURE)
    return FIGURES[name]


TableKind = Literal["department", "matter", "window"]
"""The report's tables of figures: a department's, a matter's, the window's."""


def drill_of(table: TableKind, key: str) -> str | None:
    """The figure to drill into from the report's figure ``key`` of ``table``, if any."""
    for name, figure in FIGURES.items():
        reported = figure.window if table == "window" else figure.reported
        if reported == key and (table != "department" or figure.department):
            return name
    return None


class DrillItem(BaseModel):
    """A case or review task behind a figure: the case, the party (a department or the
    window), the task's state where there is one, and its instants (UTC)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    case_no: str
    matter_code: str
    matter_name: str
    stage: Stage
    party: str | None
    """The task's department, or the party of the mark or follow-up."""
    task_state: TaskState | None = None
    clock: str | None = None
    """The supervised clock of a reminder or red mark."""
    follow_up_no: str | None = None
    rating: str | None = None
    counted_at: datetime
    """What puts it in the period: dispatch, mark, opening, rating or receipt."""
    received_at: datetime
    last_day: date | None = None
    """The last day of the task's or the marked clock's period."""
    answered_at: datetime | None = None
    """When the task was decided or the follow-up answered."""
    overdue: bool | None = None


class DrillPage(BaseModel):
    """A page of the cases and tasks behind a figure, in the order they were counted."""

    figure: str
    label: str
    period: ReportPeriod
    department: str | None
    matter: str | None
    total: int
    limit: int
    offset: int
    items: list[DrillItem]


def _in_period(moment: Any, filters: Filters) -> list[ColumnElement[bool]]:
    period = filters.period
    conditions = [moment >= period.starts_at, moment < period.ends_at]
    if filters.matter is not None:
        conditions.append(CaseRow.matter_code == filters.matter)
    return conditions


def _party(column: Any, filters: Filters) -> list[ColumnElement[bool]]:
    return [] if filters.department is None else [column == filters.department]


def _reviewed_by(department: str) -> ColumnElement[bool]:
    """The case had a task of the department, dispatched at least once (as the report
    counts a department's ratings and its share of the cases)."""
    t = ReviewTaskRow
    return exists().where(
        t.case_no == CaseRow.case_no, t.department == department, t.dispatched_at.is_not(None)
    )


def _case_item(case: CaseRow, **fields: Any) -> DrillItem:
    return DrillItem(
        case_no=case.case_no,
        matter_code=case.matter_code,
        matter_name=case.matter_name,
        stage=Stage(case.stage),
        received_at=case.received_at,
        **fields,
    )


def _tasks(filters: Filters, which: ColumnElement[bool]) -> Rows:
    t = ReviewTaskRow
    narrowed = [false()] if filters.department == WINDOW else _party(t.department, filters)
    return (
        select(t, CaseRow)
        .join(CaseRow, CaseRow.case_no == t.case_no)
        .where(*_in_period(t.dispatched_at, filters), *narrowed, which)
        .order_by(t.dispatched_at, t.case_no, t.department)
    )


def _task_item(task: ReviewTaskRow, case: CaseRow) -> DrillItem:
    return _case_item(
        case,
        party=task.department,
        task_state=TaskState(task.state),
        counted_at=task.dispatched_at,
        last_day=task.last_day,
        answered_at=task.decided_at,
        overdue=task.overdue,
    )


def _marks(filters: Filters, which: ColumnElement[bool]) -> Rows:
    m, t = SupervisionMarkRow, ReviewTaskRow
    return (
        select(m, CaseRow, t)
        .join(CaseRow, CaseRow.case_no == m.case_no)
        .outerjoin(t, and_(t.case_no == m.case_no, t.department == m.party))
        .where(*_in_period(m.marked_at, filters), *_party(m.party, filters), which)
        .order_by(m.marked_at, m.case_no, m.seq)
    )


def _mark_item(mark: SupervisionMarkRow, case: CaseRow, task: ReviewTaskRow | None) -> DrillItem:
    of_task = task if task is not None and mark.clock == "review" else None
    return _case_item(
        case,
        party=mark.party,
        task_state=TaskState(of_task.state) if of_task else None,
        clock=mark.clock,
        follow_up_no=mark.follow_up_no,
        counted_at=mark.marked_at,
        last_day=mark.last_day,
        answered_at=of_task.decided_at if of_task else None,
        overdue=of_task.overdue if of_task else None,
    )


def _follow_ups(filters: Filters, which: ColumnElement[bool]) -> Rows:
    f = FollowUpRow
    return (
        select(f, CaseRow)
        .join(CaseRow, CaseRow.case_no == f.case_no)
        .where(*_in_period(f.opened_at, filters), *_party(f.party, filters), which)
        .order_by(f.opened_at, f.follow_up_no)
    )


def _follow_up_item(follow_up: FollowUpRow, case: CaseRow) -> DrillItem:
    return _case_item(
        case,
        party=follow_up.party,
        follow_up_no=follow_up.follow_up_no,
        counted_at=follow_up.opened_at,
        last_day=(follow_up.due_at.astimezone(SHANGHAI) - timedelta(microseconds=1)).date(),
        answered_at=follow_up.answered_at,
        overdue=None if follow_up.on_time is None else not follow_up.on_time,
    )


def _cases(moment: Any, *, window_sees_all: bool) -> Callable[[Filters, ColumnElement[bool]], Rows]:
    """Cases by ``moment`` in the period. A department's: the cases it reviewed; the
    window's: every case (``window_sees_all``: its figures are never narrowed) or none."""

    def query(filters: Filters, which: ColumnElement[bool]) -> Rows:
        department = filters.department
        narrowed: list[ColumnElement[bool]] = []
        if department == WINDOW and not window_sees_all:
            narrowed = [false()]
        elif department is not None and department != WINDOW:
            narrowed = [_reviewed_by(department)]
        return (
            select(CaseRow)
            .where(*_in_period(moment, filters), moment.is_not(None), *narrowed, which)
            .order_by(moment, CaseRow.case_no)
        )

    return query


def _rating_item(case: CaseRow) -> DrillItem:
    assert case.rated_at is not None
    return _case_item(case, party=None, rating=case.rating, counted_at=case.rated_at)


def _received_item(case: CaseRow) -> DrillItem:
    return _case_item(case, party=WINDOW, counted_at=case.received_at)


QUERIES: dict[Source, tuple[Callable[[Filters, ColumnElement[bool]], Rows], Any]] = {
    Source.TASK: (_tasks, _task_item),
    Source.MARK: (_marks, _mark_item),
    Source.FOLLOW_UP: (_follow_ups, _follow_up_item),
    Source.RATING: (
        _cases(CaseRow.rated_at, window_sees_all=False),
        _rating_item,
    ),
    Source.CASE: (
        _cases(CaseRow.received_at, window_sees_all=True),
        _received_item,
    ),
}
"""Each source's query and how one of its rows is shown."""


def drill(session: Session, filters: Filters, name: str, *, limit: int, offset: int) -> DrillPage:
    """The cases and tasks behind the figure ``name`` of the filters' report, ``limit`` from
    ``offset``, and how many there are in all: as many as the figure counts."""
    figure = figure_named(name)
    query, item = QUERIES[figure.source]
    stmt = query(filters, figure.which)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.execute(stmt.limit(limit).offset(offset))
    return DrillPage(
        figure=name,
        label=figure.label,
        period=filters.period,
        department=filters.department,
        matter=filters.matter,
        total=total or 0,
        limit=limit,
        offset=offset,
        items=[item(*row) for row in rows],
    )


def overdue_by_department(session: Session, filters: Filters) -> dict[str, int]:
    """The overdue review tasks of the filters' period by department (the report does not
    count them yet): the ``overdue`` figure of each department."""
    t = ReviewTaskRow
    stmt = (
        select(t.department, func.count())
        .join(CaseRow, CaseRow.case_no == t.case_no)
        .where(*_in_period(t.dispatched_at, filters), *_party(t.department, filters))
        .where(t.overdue.is_(True))
        .group_by(t.department)
    )
    return {department: int(count) for department, count in session.execute(stmt)}
