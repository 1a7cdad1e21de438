"""R19, R20, R22: the supervisor's efficiency dashboard in the console
(approval.web.pages.dashboard) over the seven cases of tests/api/test_efficiency_api.py: only the
supervisor and the auditor open it; it shows the ranking, the charts as inline SVG without
style or script (the Content Security Policy allows neither), each department's, matter's and
the window's figures, every count linked to the cases behind it, the downloads and the
printable monthly report; bad input is the page again with the refusal's line."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from approval.domain.catalogue import Catalogue
from tests.api.test_efficiency_api import (
    CGJ_RED_MARKED,
    DECEMBER,
    PEOPLE,
    assert_holds,
    csv_tables,
    figures_app,
    the_report,
    tokens,
    xlsx_tables,
)
from tests.web.test_web import console_client

__all__ = ["figures_app", "tokens"]  # the seven cases' app and tokens, shared with the API's tests

pytestmark = pytest.mark.parametrize("store_backend", ["sqlite"])
Login = Callable[[str], Awaitable[httpx.AsyncClient]]
CALLERS = (*PEOPLE, "anonymous")
PAGES = (
    "/web/dashboard?period=2026-12",
    "/web/dashboard/drill?figure=red_marks&period=2026-12",
    "/web/dashboard/monthly?month=2026-12",
    "/web/dashboard/efficiency.csv?period=2026-12",
    "/web/dashboard/efficiency.xlsx?period=2026-12",
)


@pytest.fixture
async def web(figures_app: FastAPI, tokens: dict[str, str]) -> AsyncIterator[Login]:
    """``login(name)``: a browser-like client of the console logged in as ``name``
    (``anonymous``: not logged in)."""
    clients: list[httpx.AsyncClient] = []

    async def login(name: str) -> httpx.AsyncClient:
        client = await console_client(figures_app)
        clients.append(client)
        if name != "anonymous":
            response = await client.post("/web/login", data={"token": tokens[name]})
            assert response.status_code == 303, response.text
        return client

    yield login
    for client in clients:
        await client.aclose()


class Tables(HTMLParser):
    """Every table of a page by its id: its rows, each cell's text and link."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str | None]]]] = {}
        self._table: list[list[tuple[str, str | None]]] | None = None
        self._cell: list[str] | None = None
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(named.get("id") or "", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell, self._href = [], None
        elif tag == "a" and self._cell is not None:
            self._href = named.get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table is not None and self._cell is not None:
            self._table[-1].append(("".join(self._cell).strip(), self._href))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, list[list[tuple[str, str | None]]]]:
    """The page's tables by id."""
    parser = Tables()
    parser.feed(html)
    return parser.tables


def drill_links(html: str) -> list[tuple[str, str]]:
    """Every drill-down link of a page: its count and its address."""
    return [
        (text, href)
        for rows in tables_of(html).values()
        for row in rows
        for text, href in row
        if href and href.startswith("/web/dashboard/drill?")
    ]


async def test_R22_only_the_supervisor_and_the_auditor_open_the_dashboard(web: Login) -> None:
    """R22: the dashboard, its drill-down, its monthly report and its downloads are the
    supervisor's and the auditor's (200); the clerk and a department's reviewer get the 403
    page without a case on it; a visitor without a login is sent to the login page. The
    stylesheet, which holds no figure, is anyone's."""
    by = {caller: await web(caller) for caller in CALLERS}
    got, want = {}, {}
    for path in PAGES:
        for caller, client in by.items():
            response = await client.get(path)
            got[(caller, path)] = response.status_code
            want[(caller, path)] = {"supervisor": 200, "auditor": 200, "anonymous": 303}.get(
                caller, 403
            )
            if response.status_code == 403:
                assert "403 无权访问" in response.text and 'role="alert"' in response.text
                assert "371600-" not in response.text
            if response.status_code == 303:
                assert response.headers["location"] == "/web/login"
    assert got == want
    css = await by["anonymous"].get("/web/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_R19_R20_the_dashboard_shows_the_ranking_the_charts_and_every_figure(
    web: Login, sessions: sessionmaker[Session], catalogue: Catalogue
) -> None:
    """R19, R20: the dashboard of December ranks the departments as the report does (rank,
    name, score, rates as percentages, red marks), draws the score chart and the year's
    month-by-month trend as inline SVG with neither style nor script (nor a style
    attribute), and shows each department's, matter's and the window's figures under Chinese
    headers; every count on it links to a list of just as many cases."""
    supervisor = await web("supervisor")
    page = await supervisor.get("/web/dashboard", params={"period": "2026-12"})
    assert page.status_code == 200
    html = page.text
    report = the_report(sessions, catalogue, DECEMBER)
    tables = tables_of(html)
    headers, *rows = tables["ranking"]
    assert [h for h, _ in headers][:3] == ["排名", "部门名称", "综合得分"]
    assert [(r[0][0], r[1][0], r[2][0]) for r in rows] == [
        (str(d["rank"]), d["name"], f"{d['score']:.2f}") for d in report["departments"]
    ]
    on_time = [h for h, _ in headers].index("按时办结率")
    assert [r[on_time][0] for r in rows] == [
        f"{d['tasks']['on_time_rate']:.1%}" for d in report["departments"]
    ]
    for chart in ("score-chart", "trend-chart"):
        assert re.search(rf'<svg [^>]*id="{chart}"[^>]*class="pygal-chart"', html) or re.search(
            rf'<svg [^>]*class="pygal-chart"[^>]*id="{chart}"', html
        ), chart
    assert all(d["name"] in html.split('id="score-chart"')[1] for d in report["departments"])
    assert all(f"{n}月" in html.split('id="trend-chart"')[1] for n in range(1, 13))
    assert "<script" not in html and "<style" not in html and " style=" not in html
    assert tables["department-figures"][1][0][0] == "综合得分"
    assert tables["matter-figures"][1][0][0] == "收件"
    assert tables["window-figures"][0][1][0] == "合计"
    links = drill_links(html)
    assert len(links) > 20
    for count, href in links:
        drilled = await supervisor.get(href)
        assert drilled.status_code == 200, href
        assert f"共 {count} 条" in drilled.text, href


async def test_R19_a_red_mark_drills_down_to_the_tasks_and_their_case_pages(web: Login) -> None:
    """R19: CGJ's red marks of December link to their list: its two silent tasks, each
    deemed approved and overdue, each linked to its case's page; the list leads back to the
    dashboard of the same period."""
    auditor = await web("auditor")
    page = await auditor.get("/web/dashboard", params={"period": "2026-12"})
    (row,) = [r for r in tables_of(page.text)["ranking"] if r[1][0] == "城市管理局"]
    headers = [h for h, _ in tables_of(page.text)["ranking"][0]]
    count, href = row[headers.index("红牌")]
    assert count == "2" and href is not None
    query = parse_qs(urlsplit(href).query)
    assert query == {"period": ["2026-12"], "department": ["CGJ"], "figure": ["red_marks"]}
    drilled = await auditor.get(href)
    assert "红牌明细" in drilled.text and "城市管理局" in drilled.text
    _, *items = tables_of(drilled.text)["drill"]
    assert [(i[0][0], i[0][1]) for i in items] == [
        (case_no, f"/web/cases/{case_no}") for case_no in CGJ_RED_MARKED
    ]
    assert all(i[4][0] == "超时默认同意" and i[10][0] == "超期" for i in items)
    assert 'href="/web/dashboard?period=2026-12"' in drilled.text


async def test_the_monthly_report_is_a_printable_page(web: Login) -> None:
    """The monthly report (效能评估月报) of December names the centre and the month, states
    the scoring rule, ranks the departments and draws their chart; its stylesheet has the
    print rules (A4 landscape, no filters or links) and pygal's chart styles, for the
    charts' class."""
    supervisor = await web("supervisor")
    page = await supervisor.get("/web/dashboard/monthly", params={"month": "2026-12"})
    assert page.status_code == 200
    assert "滨州市政务服务中心" in page.text and "2026年12月效能评估月报" in page.text
    assert "一、评分规则" in page.text and 'id="ranking"' in page.text
    assert 'id="score-chart"' in page.text
    assert '<link rel="stylesheet" href="/web/static/dashboard.css">' in page.text
    css = (await supervisor.get("/web/static/dashboard.css")).text
    assert "@media print" in css and "@page { size: A4 landscape" in css
    assert "svg.pygal-chart .color-0" in css and "#chart-" not in css


@pytest.mark.parametrize(
    ("path", "line", "code"),
    [
        ("/web/dashboard?period=2026-13", "period: 统计期间应为", "invalid_period"),
        ("/web/dashboard?department=NOPE", "department: ", "unknown_department"),
        ("/web/dashboard?start=2026-12-09&end=2026-12-01", "end: 结束日期", "invalid_period"),
        ("/web/dashboard/drill?figure=nothing", "figure: 指标应为", "unknown_figure"),
        ("/web/dashboard/monthly?month=2026", "month: 月报的月份", "invalid_period"),
    ],
)
async def test_bad_input_shows_the_page_again_with_the_refusal(
    web: Login, path: str, line: str, code: str
) -> None:
    """A malformed period, an unknown department or figure, a month that is not one: the page
    again (422) with the refusal's one line naming the field in Chinese, and its code."""
    supervisor = await web("supervisor")
    response = await supervisor.get(path)
    assert response.status_code == 422
    assert f'role="alert" data-code="{code}">{line}' in response.text
    assert "Traceback" not in response.text


async def test_the_console_downloads_hold_the_numbers_of_the_report(
    web: Login, sessions: sessionmaker[Session], catalogue: Catalogue
) -> None:
    """The dashboard's CSV and Excel links give the report of the period and department
    shown, with the same numbers as the API's JSON."""
    auditor = await web("auditor")
    page = await auditor.get("/web/dashboard", params={"period": "2026-12", "department": "CGJ"})
    hrefs = dict(re.findall(r'id="download-(csv|xlsx)" href="([^"]+)"', page.text))
    report = the_report(sessions, catalogue, DECEMBER, department="CGJ")
    files: dict[str, Any] = {}
    for kind, href in hrefs.items():
        response = await auditor.get(href.replace("&amp;", "&"))
        assert response.status_code == 200
        files[kind] = response.content
    assert_holds(csv_tables(files["csv"]), report, text=True)
    assert_holds(xlsx_tables(files["xlsx"]), report, text=False)
    (ranked,) = tables_of(page.text)["ranking"][1:]
    assert ranked[1][0] == "城市管理局"


async def test_a_period_without_cases_shows_empty_tables_and_charts(web: Login) -> None:
    """A month with nothing to count: the ranking says so, the charts are drawn without
    data (暂无数据), and no count links anywhere."""
    supervisor = await web("supervisor")
    page = await supervisor.get("/web/dashboard", params={"period": "2025-01"})
    assert page.status_code == 200
    assert "本期没有可统计的部门" in page.text
    assert page.text.count("暂无数据") == 2 and drill_links(page.text) == []
