"""R19, R20, R22: the efficiency figures over HTTP (approval.api.routes.efficiency) and on the
command line (approval.cli.supervision), on a small store of real events: seven cases driven
through the case's rules (approval.domain.case.Case under the default supervision policy)
and recorded step by step with ``record_step``, as the store activity records them — a case
of November, and in December a department silent past its period (a reminder, a red mark,
silent consent), a department rejecting, a department escalated where silent consent is
excluded and answering late, a one-time notice, a deemed acceptance, a bad rating, a
complaint, and departments that never received their task (their dependency rejected). The
engine is not needed to read the figures: the app's Temporal client is a lazy one that never
connects.

The report is the store's (approval.store.efficiency) as JSON; the CSV and the Excel files hold
the same numbers; every figure that can be drilled into lists as many cases as it counts; bad
input is a 422 naming the field, in Chinese, with a machine code."""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
import typer
from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from approval.api.app import create_app
from approval.api.routes import efficiency
from approval.cli import supervision
from approval.cli.app import identity
from approval.config import DEVELOPMENT_AUDIT_KEY, Settings
from approval.contracts import DATA_CONVERTER, RecordRequest
from approval.domain.calendar import SHANGHAI
from approval.domain.case import Case
from approval.domain.catalogue import CasePolicy, Catalogue
from approval.domain.models import (
    WINDOW,
    Accept,
    AnswerFollowUp,
    CaseCommand,
    Complain,
    Deliver,
    IssueNotice,
    Rate,
    RatingLevel,
    Supplement,
)
from approval.http import exports
from approval.service import CaseService
from approval.store.efficiency import ReportPeriod, efficiency_report, flat
from approval.store.recording import CaseTail, record_step
from approval.store.users import create_users_with_tokens
from approval.web.pages import dashboard
from tests.domain_fixtures import (
    APPLICANT,
    CALENDAR,
    CATALOGUE,
    applicant_actor,
    approve,
    at,
    clerk,
    demanded,
    material,
    matter,
    reject,
    reviewer,
)
from tests.processes import invoke, serving

NOWHERE = "127.0.0.1:1"
"""A Temporal address nothing listens on: the figures never ask the engine."""
DECEMBER = ReportPeriod.month(2026, 12)
SPJY, GHXK, WHPJY = "SC-SPJY-001", "JS-GHXK-001", "AJ-WHPJY-001"
SGXK = "JS-SGXK-001"  # ZJJ and RFB wait for ZRZY
PEOPLE = {
    "supervisor": ("supervisor", None),
    "auditor": ("auditor", None),
    "clerk": ("clerk", None),
    "reviewer": ("reviewer", "CGJ"),
}
CJK = re.compile(r"[\u4e00-\u9fff]")


# ---- the cases --------------------------------------------------------------------------------


class Story:
    """One case under the rules, as its workflow drives it: each deadline applied at its
    instant, each step's events kept as the RecordRequest the store activity gets."""

    def __init__(
        self, case_no: str, code: str, received: datetime, clerk_id: str, *, missing: str = ""
    ) -> None:
        found = matter(code)
        self.case = Case.receive(
            case_no=case_no,
            catalogue_version=CATALOGUE.version,
            matter=found,
            applicant=APPLICANT,
            materials=[material(c) for c in demanded(found) if c != missing],
            clerk=clerk(clerk_id),
            now=received,
            calendar=CALENDAR,
            review_periods_capped=True,
            policy=CasePolicy(),
        )
        self.clerk, self.now = clerk(clerk_id), received
        self.steps: list[RecordRequest] = []
        self._step()

    def _step(self) -> None:
        events = self.case.drain()
        if events:
            self.steps.append(
                RecordRequest(
                    case_no=self.case.state.case_no,
                    centre=CATALOGUE.centre,
                    events=tuple(events),
                    last_seq=events[-1].seq,
                )
            )

    def until(self, moment: datetime) -> Story:
        """Time passes until ``moment``, every deadline on the way applied at its instant."""
        while (due := self.case.next_due()) is not None and due <= moment:
            self.now = max(self.now, due)
            self.case.advance_time(self.now)
            self._step()
        self.now = max(self.now, moment)
        return self

    def act(self, command: CaseCommand, moment: datetime) -> Story:
        """The command at ``moment``, as the rules allow it."""
        self.until(moment)
        self.case.advance_time(self.now)
        self.case.check(command)
        self.case.handle(command, self.now)
        self._step()
        return self

    def answer_follow_up(self, party: str, moment: datetime) -> Story:
        """The party answers its open follow-up."""
        (number,) = [f.follow_up_no for f in self.case.state.follow_ups.values()]
        actor = self.clerk if party == WINDOW else reviewer(party)
        answer = AnswerFollowUp(
            actor=actor, follow_up_no=number, explanation="已核实", remedy="已改"
        )
        return self.act(answer, moment)


def day(month: int, day_: int, hour: int = 10) -> datetime:
    """A moment of 2026 in Beijing."""
    return at(date(2026, month, day_), hour)


CGJ_RED_MARKED = ("371600-20261201-000002", "371600-20261208-000006")
"""The cases on which CGJ let its period pass in December (red marks on its tasks)."""


@functools.cache
def stories() -> tuple[Story, ...]:
    """The seven cases, the same on every run."""
    approved_at_once = Story("371600-20261102-000001", SPJY, day(11, 2, 9), "clerk-01")
    approved_at_once.act(Accept(actor=clerk("clerk-01")), day(11, 2))
    approved_at_once.act(approve("SCJG"), day(11, 3)).act(approve("CGJ"), day(11, 3))
    approved_at_once.act(Deliver(actor=clerk("clerk-01")), day(11, 4))
    approved_at_once.act(Rate(actor=applicant_actor(), level=RatingLevel.SATISFIED), day(11, 5))

    silent = Story(CGJ_RED_MARKED[0], SPJY, day(12, 1, 9), "clerk-01")
    silent.act(Accept(actor=silent.clerk), day(12, 1)).act(approve("SCJG"), day(12, 2))
    silent.act(Deliver(actor=silent.clerk), day(12, 8))
    bad = Rate(actor=applicant_actor(), level=RatingLevel.DISSATISFIED, concerns=("CGJ",))
    silent.act(bad, day(12, 9)).answer_follow_up("CGJ", day(12, 10))

    rejected = Story("371600-20261202-000003", GHXK, day(12, 2, 9), "clerk-02")
    rejected.act(Accept(actor=rejected.clerk), day(12, 2)).act(reject("ZRZY"), day(12, 3))
    for department in ("ZJJ", "RFB", "CGJ"):
        rejected.act(approve(department), day(12, 3))
    rejected.act(Deliver(actor=rejected.clerk), day(12, 4))
    rejected.act(Rate(actor=applicant_actor(), level=RatingLevel.VERY_SATISFIED), day(12, 5))

    escalated = Story("371600-20261203-000004", WHPJY, day(12, 3, 9), "clerk-02")
    escalated.act(Accept(actor=escalated.clerk), day(12, 3))
    for department in ("YJJ", "ZRZY", "XF"):
        escalated.act(approve(department), day(12, 4))
    escalated.act(approve("GA"), day(12, 16)).act(Deliver(actor=escalated.clerk), day(12, 17))

    noticed = Story("371600-20261207-000005", SPJY, day(12, 7, 9), "clerk-01", missing="JKZM")
    noticed.act(IssueNotice(actor=noticed.clerk), day(12, 7))
    noticed.act(Supplement(actor=noticed.clerk, materials=(material("JKZM"),)), day(12, 8))
    noticed.act(Accept(actor=noticed.clerk), day(12, 8, 11))
    noticed.act(approve("SCJG"), day(12, 9)).act(approve("CGJ"), day(12, 9))

    deemed = Story(CGJ_RED_MARKED[1], SPJY, day(12, 8, 9), "clerk-02").until(day(12, 14))
    complaint = Complain(actor=applicant_actor(), text="受理拖延", concerns=(WINDOW,))
    deemed.act(complaint, day(12, 14)).until(day(12, 28))

    # ZJJ and RFB wait for ZRZY, which rejects: they never receive a task, nor its rating
    never_dispatched = Story("371600-20261209-000007", SGXK, day(12, 9, 9), "clerk-01")
    never_dispatched.act(Accept(actor=never_dispatched.clerk), day(12, 9))
    never_dispatched.act(reject("ZRZY"), day(12, 10))
    never_dispatched.act(approve("CGJ"), day(12, 10)).act(approve("JJ"), day(12, 10))
    never_dispatched.act(Deliver(actor=never_dispatched.clerk), day(12, 11))
    great = Rate(actor=applicant_actor(), level=RatingLevel.VERY_SATISFIED)
    never_dispatched.act(great, day(12, 11, 15))
    return approved_at_once, silent, rejected, escalated, noticed, deemed, never_dispatched


def record_stories(sessions: sessionmaker[Session]) -> None:
    """Every case's steps into the store, each through record_step as the store activity
    writes it (each step from the tail the previous one left)."""
    for story in stories():
        tail: CaseTail | None = None
        with sessions.begin() as session:
            for step in story.steps:
                tail = record_step(session, DEVELOPMENT_AUDIT_KEY.encode(), step, tail)


# ---- the app ----------------------------------------------------------------------------------


def mounts(routes: Iterable[Any], router: APIRouter, path: str) -> bool:
    """Whether ``routes`` include ``router`` (at any depth) or a route of ``path``."""
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI keeps included routers
        if getattr(route, "path", None) == path or inner is router:
            return True
        if inner is not None and mounts(inner.routes, router, path):
            return True
    return False


def with_efficiency(app: FastAPI) -> FastAPI:
    """The app with the efficiency routes and the dashboard, unless it mounts them already
    (approval.api.app and approval.web.routes register them)."""
    if not mounts(app.routes, efficiency.router, "/supervision/efficiency"):
        app.include_router(efficiency.router)
    if not mounts(app.routes, dashboard.router, "/web/dashboard"):
        app.include_router(dashboard.router, prefix="/web", include_in_schema=False)
    return app


@pytest.fixture
async def figures_app(
    sessions: sessionmaker[Session], settings: Settings, catalogue: Catalogue
) -> FastAPI:
    """The API and console over the seven cases' store; its engine never connects."""
    record_stories(sessions)
    client = await Client.connect(NOWHERE, data_converter=DATA_CONVERTER, lazy=True)
    service = CaseService(client, settings, catalogue, sessions)
    return with_efficiency(create_app(service=service, sessions=sessions, settings=settings))


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[str, str]:
    """A token per person of PEOPLE."""
    accounts = [(name, role, department) for name, (role, department) in PEOPLE.items()]
    with sessions.begin() as session:
        return create_users_with_tokens(session, accounts, datetime.now(UTC))


@dataclass
class Api:
    """A client of the app and each person's Authorization header."""

    client: httpx.AsyncClient
    tokens: dict[str, str]

    async def get(self, caller: str, path: str, **query: Any) -> httpx.Response:
        """``GET path?query`` as ``caller`` (``none``: without a token)."""
        token = self.tokens.get(caller)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.get(path, params=query, headers=headers)


@pytest.fixture
async def api(figures_app: FastAPI, tokens: dict[str, str]) -> AsyncIterator[Api]:
    """A client of the app over the seven cases."""
    transport = httpx.ASGITransport(app=figures_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield Api(client, tokens)


def the_report(
    sessions: sessionmaker[Session], catalogue: Catalogue, period: ReportPeriod, **narrowed: str
) -> dict[str, Any]:
    """The store's own report, as JSON."""
    with sessions() as session:
        report = efficiency_report(session, catalogue, period, **narrowed)
    dumped: dict[str, Any] = report.model_dump(mode="json")
    return dumped


# ---- reading the files back -------------------------------------------------------------------


def csv_tables(content: bytes) -> dict[str, list[list[str]]]:
    """The tables of an efficiency CSV by name: its header row, then its rows."""
    text = content.decode("utf-8")
    assert text.startswith("\ufeff"), "a BOM, so that Excel reads the Chinese"
    tables: dict[str, list[list[str]]] = {}
    name = None
    for row in csv.reader(io.StringIO(text.removeprefix("\ufeff"))):
        if not row:
            name = None
        elif name is None:
            name = row[0]
            tables[name] = []
        else:
            tables[name].append(row)
    return tables


def xlsx_tables(content: bytes) -> dict[str, list[list[Any]]]:
    """The sheets of an efficiency workbook by name, as openpyxl reads them."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in book.worksheets
    }


def as_written(value: Any) -> str:
    """A JSON value as the CSV writes it."""
    return "" if value is None else str(value)


def records(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows each table of the report should hold, by table name."""
    parsed = exports.report_from_json(report)
    return {
        "部门排名": [flat(d) for d in parsed.departments],
        "事项": [flat(m) for m in parsed.matters],
        "窗口": exports.window_records(parsed),
    }


KEYS = {
    "部门排名": exports.DEPARTMENT_KEYS,
    "事项": exports.MATTER_KEYS,
    "窗口": exports.WINDOW_KEYS,
}


def assert_holds(tables: dict[str, list[list[Any]]], report: dict[str, Any], text: bool) -> None:
    """Each table has its Chinese headers and, row by row, the report's numbers (as the CSV
    writes them, when ``text``)."""
    for name, rows in records(report).items():
        keys = KEYS[name]
        headers, *body = tables[name]
        assert list(headers) == [exports.header(k) for k in keys]
        assert all(CJK.search(str(h)) for h in headers), headers
        expected = [[r.get(k) for k in keys] for r in rows]
        if text:
            expected = [[as_written(v) for v in row] for row in expected]
        assert [list(row) for row in body] == expected, name


# ---- the tests --------------------------------------------------------------------------------

ROUTES: tuple[tuple[str, dict[str, str]], ...] = (
    ("/supervision/efficiency", {}),
    ("/supervision/efficiency.csv", {}),
    ("/supervision/efficiency.xlsx", {}),
    ("/supervision/efficiency/drill", {"figure": "red_marks"}),
)
"""Every efficiency route, and what it needs besides the period."""


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_R22_only_the_supervisor_and_the_auditor_read_the_figures(api: Api) -> None:
    """R22: every efficiency route answers the supervisor and the auditor (200), refuses the
    clerk and a department's reviewer (403, naming the role) and a caller without a token
    (401)."""
    got, want = {}, {}
    for path, needed in ROUTES:
        for caller in (*PEOPLE, "none"):
            response = await api.get(caller, path, period="2026-12", **needed)
            got[(caller, path)] = response.status_code
            want[(caller, path)] = {"supervisor": 200, "auditor": 200, "none": 401}.get(caller, 403)
            if response.status_code == 403:
                assert response.json()["detail"]["field"] == "actor.role"
    assert got == want


async def test_R19_R20_the_report_is_the_stores_figures_of_the_period(
    api: Api, sessions: sessionmaker[Session], catalogue: Catalogue
) -> None:
    """R19, R20: GET /supervision/efficiency gives the store's report of the period asked for
    — a month, its quarter and year, the same days as start and end (both included), narrowed
    to a department or a matter. In December CGJ let two periods pass (two red marks, rank
    below every department without one); GA, escalated where silent consent is excluded
    (R9), answered late; the window received six cases, one deemed accepted; ZJJ, whose
    task on the seventh was never dispatched, has none of its rating."""
    month = (await api.get("supervisor", "/supervision/efficiency", period="2026-12")).json()
    assert month == the_report(sessions, catalogue, DECEMBER)
    days = {"start": "2026-12-01", "end": "2026-12-31"}
    assert (await api.get("auditor", "/supervision/efficiency", **days)).json() == month
    for period, expected in (
        ("2026-Q4", ReportPeriod.quarter(2026, 4)),
        ("2026", ReportPeriod.year(2026)),
        ("2026-11", ReportPeriod.month(2026, 11)),
    ):
        answer = await api.get("supervisor", "/supervision/efficiency", period=period)
        assert answer.json() == the_report(sessions, catalogue, expected)
    for narrowed in ({"department": "CGJ"}, {"matter": SPJY}):
        answer = await api.get(
            "supervisor", "/supervision/efficiency", period="2026-12", **narrowed
        )
        assert answer.json() == the_report(sessions, catalogue, DECEMBER, **narrowed)

    by_code = {d["department"]: d for d in month["departments"]}
    assert by_code["CGJ"]["marks"]["red_marks"] == 2
    assert by_code["CGJ"]["tasks"]["deemed_by_silence"] == 2
    assert (by_code["GA"]["tasks"]["escalations"], by_code["GA"]["tasks"]["on_time"]) == (1, 0)
    unmarked = [d["rank"] for d in month["departments"] if d["marks"]["red_marks"] == 0]
    assert by_code["CGJ"]["rank"] > max(unmarked)
    assert [d["rank"] for d in month["departments"]] == sorted(
        d["rank"] for d in month["departments"]
    )
    window = month["window"]
    assert (window["cases_received"], window["deemed_acceptances"]) == (6, 1)
    assert by_code["ZJJ"]["ratings"]["total"] == 1  # the third case's, not the seventh's
    assert window["intake_notices"] == 1 and window["complaints"]["total"] == 1


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_without_a_period_the_report_is_of_this_month_in_beijing(api: Api) -> None:
    """No period, no dates: the report of the current month in Asia/Shanghai."""
    before = datetime.now(SHANGHAI).date()
    answer = (await api.get("supervisor", "/supervision/efficiency")).json()
    after = datetime.now(SHANGHAI).date()
    months = [ReportPeriod.month(d.year, d.month).model_dump(mode="json") for d in (before, after)]
    assert answer["period"] in months


async def test_R19_the_excel_file_holds_the_numbers_of_the_json(
    api: Api, sessions: sessionmaker[Session], catalogue: Catalogue
) -> None:
    """R19, R20: the Excel download opens with openpyxl; its sheets 统计说明, 部门排名, 事项 and
    窗口 have Chinese headers and, row by row, the JSON report's numbers (rates as the
    fractions they are, shown as percentages); its file name is the period's."""
    response = await api.get("auditor", "/supervision/efficiency.xlsx", period="2026-12")
    assert response.status_code == 200
    assert response.headers["content-type"] == exports.MEDIA_TYPES["xlsx"]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "2026-12.xlsx" in disposition
    tables = xlsx_tables(response.content)
    assert list(tables) == ["统计说明", "部门排名", "事项", "窗口"]
    report = the_report(sessions, catalogue, DECEMBER)
    assert_holds(tables, report, text=False)
    summary = dict(row for row in tables["统计说明"][1:])
    assert (summary["统计期间"], summary["截止日（含）"]) == ("2026年12月", "2026-12-31")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rate = exports.DEPARTMENT_KEYS.index("tasks.on_time_rate") + 1
    assert book["部门排名"].cell(row=2, column=rate).number_format == "0.0%"


async def test_R19_the_csv_file_holds_the_numbers_of_the_json(
    api: Api, sessions: sessionmaker[Session], catalogue: Catalogue
) -> None:
    """R19, R20: the CSV download (UTF-8 with a BOM) holds every table under its name, with
    Chinese headers and the JSON report's numbers, narrowed as the JSON is."""
    for narrowed in ({}, {"department": "CGJ"}):
        response = await api.get(
            "supervisor", "/supervision/efficiency.csv", period="2026-12", **narrowed
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        tables = csv_tables(response.content)
        assert list(tables) == ["统计说明", "部门排名", "事项", "窗口"]
        assert_holds(tables, the_report(sessions, catalogue, DECEMBER, **narrowed), text=True)


async def test_R19_every_figure_drills_down_to_as_many_cases_as_it_counts(
    api: Api, sessions: sessionmaker[Session], catalogue: Catalogue
) -> None:
    """R19, R20: for each department, matter and the window, every figure that can be drilled
    into (tasks, reminders, red marks, follow-ups, ratings, cases) lists as many cases and
    tasks as the report counts, also in a report narrowed to one department; CGJ's red marks
    are its two silent tasks, each deemed approved (R9), and come a page at a time."""
    for narrowed in ({}, {"department": "CGJ"}):
        report = exports.report_from_json(the_report(sessions, catalogue, DECEMBER, **narrowed))
        rows: list[tuple[dict[str, str | None], dict[str, Any], exports.TableKind]] = [
            ({"department": d.department}, flat(d), "department") for d in report.departments
        ]
        rows += [({"matter": m.matter_code, **narrowed}, flat(m), "matter") for m in report.matters]
        rows += [({"department": WINDOW}, exports.window_records(report)[0], "window")]
        for query, figures, table in rows:
            for key, value in figures.items():
                figure = exports.drill_of(table, key)
                if figure is None:
                    continue
                path = "/supervision/efficiency/drill"
                page = await api.get("auditor", path, figure=figure, period="2026-12", **query)
                assert page.status_code == 200, page.text
                assert page.json()["total"] == value, (query, key)

    path = "/supervision/efficiency/drill"
    query = {"figure": "red_marks", "department": "CGJ", "period": "2026-12"}
    first = (await api.get("supervisor", path, limit=1, **query)).json()
    second = (await api.get("supervisor", path, limit=1, offset=1, **query)).json()
    items = [*first["items"], *second["items"]]
    assert (first["total"], first["label"]) == (2, "红牌")
    assert tuple(item["case_no"] for item in items) == CGJ_RED_MARKED
    assert {(i["party"], i["clock"], i["task_state"], i["overdue"]) for i in items} == {
        ("CGJ", "review", "deemed_approved", True)
    }


BAD_INPUT = [
    ({"period": "2026-13"}, "period", "invalid_period"),
    ({"period": "2026-Q5"}, "period", "invalid_period"),
    ({"period": "12-2026"}, "period", "invalid_period"),
    ({"period": "1999"}, "period", "invalid_period"),
    ({"period": "2026-12", "start": "2026-12-01"}, "period", "invalid_period"),
    ({"start": "2026-12-01"}, "end", "invalid_period"),
    ({"start": "2026-12-31", "end": "2026-12-01"}, "end", "invalid_period"),
    ({"start": "2026/12/01", "end": "2026-12-31"}, "start", "invalid_period"),
    ({"start": "2026-02-30", "end": "2026-12-31"}, "start", "invalid_period"),
    ({"period": "2026-12", "department": "NOPE"}, "department", "unknown_department"),
    ({"period": "2026-12", "matter": "NO-SUCH-001"}, "matter", "unknown_matter"),
    ({"period": "x" * 21}, "period", "invalid_period"),
    ({"matter": "M" * 41}, "matter", "invalid_input"),
]


@pytest.mark.parametrize("store_backend", ["sqlite"])
@pytest.mark.parametrize(("query", "field", "code"), BAD_INPUT)
async def test_bad_input_is_refused_naming_the_field_in_chinese(
    api: Api, query: dict[str, str], field: str, code: str
) -> None:
    """A malformed period, dates that are not one, an unknown department or matter: each
    route answers 422 ``{"detail": {"field", "reason", "code"}}`` naming the field, with a
    Chinese reason and the machine code."""
    for path, needed in ROUTES:
        response = await api.get("supervisor", path, **needed, **query)
        assert response.status_code == 422, (path, response.text)
        detail = response.json()["detail"]
        assert (detail["field"], detail["code"]) == (field, code), (path, detail)
        assert CJK.search(detail["reason"]), detail


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_the_window_is_a_party_of_the_drill_down_not_of_the_report(api: Api) -> None:
    """The report and its files are narrowed to a department of the catalogue only (the
    window is not one: 422 ``unknown_department``); the drill-down lists the window's too."""
    for path, _ in ROUTES[:3]:
        response = await api.get("auditor", path, period="2026-12", department=WINDOW)
        assert response.status_code == 422
        assert response.json()["detail"]["code"] == "unknown_department"
    query = {"period": "2026-12", "department": WINDOW, "figure": "red_marks"}
    drilled = await api.get("auditor", "/supervision/efficiency/drill", **query)
    assert {item["party"] for item in drilled.json()["items"]} == {WINDOW}


@pytest.mark.parametrize("store_backend", ["sqlite"])
@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({}, "figure", "unknown_figure"),
        ({"figure": "nothing"}, "figure", "unknown_figure"),
        ({"figure": "red_marks", "limit": "0"}, "limit", "invalid_input"),
        ({"figure": "red_marks", "department": "window", "period": "2026-1"}, "period", None),
    ],
)
async def test_a_drill_into_no_figure_is_refused_naming_it(
    api: Api, query: dict[str, str], field: str, code: str | None
) -> None:
    """The drill-down without a known figure, or with a bad page or period, is 422 naming
    the field in Chinese (the window is a party it knows)."""
    response = await api.get("auditor", "/supervision/efficiency/drill", **query)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["field"] == field and CJK.search(detail["reason"])
    assert detail["code"] == (code or "invalid_period")


# ---- the command line -------------------------------------------------------------------------


def starter() -> typer.Typer:
    """starter.py's identity options with the supervision group, as approval.cli.app adds it."""
    program = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    program.callback()(identity)
    program.add_typer(supervision.app, name="supervision")
    return program


@pytest.fixture
def served(figures_app: FastAPI) -> Iterator[str]:
    """The app over the seven cases, served for the command line; its base URL."""
    with serving(figures_app) as url:
        yield url


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_R22_the_cli_report_shows_the_ranking_and_writes_the_api_s_files(
    served: str,
    tokens: dict[str, str],
    tmp_path: Path,
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
) -> None:
    """R22: ``supervision report --period 2026-12`` with the supervisor's token prints the
    ranking (Chinese headers, every department by name) and the tables, and writes CSV and
    Excel files with the JSON report's numbers; ``--json`` prints the report as the API gives
    it; a file that cannot be written, and the clerk's token, are refused in one line (exit
    2)."""
    env = {"APPROVAL_API_URL": served, "APPROVAL_TOKEN": tokens["supervisor"]}
    files = tmp_path / "figures.csv", tmp_path / "figures.xlsx"
    args = ("supervision", "report", "--period", "2026-12")
    shown = invoke(
        starter(), "starter.py", (*args, "--csv", str(files[0]), "--xlsx", str(files[1])), env
    )
    assert shown.exited(0), shown
    report = the_report(sessions, catalogue, DECEMBER)
    assert "部门排名" in shown.stdout and "综合得分" in shown.stdout
    assert all(d["name"] in shown.stdout for d in report["departments"])
    assert_holds(csv_tables(files[0].read_bytes()), report, text=True)
    assert_holds(xlsx_tables(files[1].read_bytes()), report, text=False)

    as_json = invoke(starter(), "starter.py", (*args, "--department", "CGJ", "--json"), env)
    assert as_json.exited(0), as_json
    assert as_json.json() == the_report(sessions, catalogue, DECEMBER, department="CGJ")

    nowhere = str(tmp_path / "no-such-directory" / "figures.xlsx")
    unwritten = invoke(starter(), "starter.py", (*args, "--xlsx", nowhere), env)
    assert unwritten.exited(2) and unwritten.message_lines()[-1].startswith("错误 error: xlsx:")

    clerk_env = {**env, "APPROVAL_TOKEN": tokens["clerk"]}
    refused = invoke(starter(), "starter.py", args, clerk_env)
    assert refused.exited(2) and refused.message_lines()[0].startswith("错误 error: actor.role")


def test_the_cli_checks_the_period_before_it_sends_anything(tmp_path: Path) -> None:
    """A malformed period is refused in one Chinese line (exit 2) before any request: the
    API's address here has nothing listening, which would be exit 3."""
    env = {"APPROVAL_API_URL": f"http://{NOWHERE}", "APPROVAL_TOKEN": "t"}
    result = invoke(starter(), "starter.py", ("supervision", "report", "--period", "2026-13"), env)
    assert result.exited(2), result
    (line,) = result.message_lines()
    assert line.startswith("错误 error: period:") and CJK.search(line)


def test_the_supervision_report_help_is_in_chinese() -> None:
    """``supervision report --help`` names the period's forms and the files, in Chinese."""
    result = invoke(starter(), "starter.py", ("supervision", "report", "--help"), {})
    assert result.exited(0) and "--xlsx" in result.stdout and "默认本月" in result.stdout
