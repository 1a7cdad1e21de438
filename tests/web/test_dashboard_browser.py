"""The efficiency dashboard in a real browser (issue 11, the supervisor's "done when"): Debian's
Chromium driven by Playwright (tests/web/test_web_browser.py's browser and login) against the
app served by uvicorn on a free localhost port, with the engine on the time-skipping Temporal
server. A GHXK case is accepted; three departments approve and CGJ stays silent past its
period, so the workflow records a red mark against it (R19). The supervisor signs in, opens the
dashboard of that month, sees the ranking and the SVG charts, follows CGJ's red mark to the task
and on to its case's page, and downloads the Excel file, which openpyxl opens and which holds
the numbers the page shows — with the console's Content Security Policy blocking nothing.

Needs /usr/bin/chromium, as tests/web/test_web_browser.py does (skipped without it, except
under CI=true)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
import uvicorn
from playwright.async_api import Browser, expect
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from approval.api.app import create_app
from approval.config import Settings
from approval.domain.calendar import SHANGHAI
from approval.domain.catalogue import Catalogue
from approval.http import exports
from approval.service import CaseService
from approval.store.users import create_users_with_tokens
from tests.api.test_efficiency_api import with_efficiency
from tests.domain_fixtures import approve
from tests.web.test_web_browser import browser, login
from tests.workflows.test_workflow import accepted, recorded

__all__ = ["browser"]  # Debian's Chromium, shared with tests/web/test_web_browser.py

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("store_backend", ["sqlite"])]


@pytest.fixture
async def served(
    engine: CaseService, sessions: sessionmaker[Session], settings: Settings
) -> AsyncIterator[str]:
    """The app with the dashboard, on a free localhost port, served by uvicorn in this event
    loop (the engine's Temporal client lives here); its base URL."""
    app = with_efficiency(create_app(service=engine, sessions=sessions, settings=settings))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)  # uvicorn's start-up, not time of the case
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


def as_cell(value: object) -> exports.Cell:
    """A cell as openpyxl read it, as the report's tables hold it."""
    assert value is None or isinstance(value, str | int | float), value
    return value


async def red_marked_case(
    engine: CaseService,
    catalogue: Catalogue,
    env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
) -> tuple[str, datetime]:
    """A GHXK case on which CGJ let its period pass: the case number and the red mark's
    instant, as the workflow recorded it (R19)."""
    case_no = await accepted(engine, catalogue)
    for department in ("ZRZY", "ZJJ", "RFB"):
        await engine.act(case_no, approve(department))
    status = await engine.status(case_no)
    (cgj,) = [t for t in status.tasks if t.department == "CGJ"]
    assert cgj.clock is not None and cgj.clock.due is not None
    await env.sleep(cgj.clock.due - await env.get_current_time() + timedelta(hours=1))
    (red,) = await recorded(sessions, case_no, "RedMarkRecorded", 1)
    assert red.payload["party"] == "CGJ"
    return case_no, red.occurred_at


async def test_R19_R22_the_supervisor_ranks_drills_into_a_red_mark_and_downloads_the_excel(
    browser: Browser,
    served: str,
    engine: CaseService,
    catalogue: Catalogue,
    time_skipping_env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    """R19, R22: the supervisor signs in → the dashboard of the red mark's month: the ranking
    lists 城市管理局 with one red mark, below the departments without one, and the score and
    trend charts are SVG → CGJ's red mark → its list names the case's CGJ task → the case's page
    → back, the Excel download: openpyxl opens it, and its 部门排名 sheet holds, department by
    department, the rank, score, on-time rate and red marks the page shows. The Content
    Security Policy blocked nothing (the charts carry no inline style or script)."""
    case_no, marked_at = await red_marked_case(engine, catalogue, time_skipping_env, sessions)
    month = f"{marked_at.astimezone(SHANGHAI):%Y-%m}"
    with sessions.begin() as session:
        accounts = [("sup-dashboard", "supervisor", None)]
        token = create_users_with_tokens(session, accounts, datetime.now(UTC))["sup-dashboard"]
    blocked: list[str] = []
    page = await login(browser, served, token, blocked)

    await page.goto(f"/web/dashboard?period={month}")
    await expect(page.locator("h1")).to_have_text("效能评估")
    ranking = page.locator("#ranking tbody tr")
    cgj = ranking.filter(has_text="城市管理局")
    await expect(cgj.locator('td[data-key="marks.red_marks"]')).to_have_text("1")
    await expect(page.locator("svg#score-chart")).to_be_visible()
    await expect(page.locator("svg#trend-chart")).to_be_visible()
    await expect(page.locator("svg#score-chart")).to_contain_text("城市管理局")
    shown = []
    for row in await ranking.all():
        cells = {
            key: await row.locator(f'td[data-key="{key}"]').inner_text()
            for key in ("rank", "name", "score", "tasks.on_time_rate", "marks.red_marks")
        }
        shown.append(cells)
    ranks = {row["name"]: int(row["rank"]) for row in shown}
    unmarked = [ranks[row["name"]] for row in shown if row["marks.red_marks"] == "0"]
    assert ranks["城市管理局"] > max(unmarked)

    await cgj.locator('td[data-key="marks.red_marks"] a').click()
    await expect(page.locator("h1")).to_have_text("红牌明细")
    task = page.locator("#drill tbody tr")
    await expect(task).to_have_count(1)
    await expect(task).to_contain_text("CGJ")
    await expect(task).to_contain_text("部门审查期限")
    await task.get_by_role("link", name=case_no).click()
    await expect(page.locator("h1")).to_have_text(f"办件 {case_no}")
    await expect(page.locator("#tasks tr", has_text="CGJ")).to_contain_text("超期")

    await page.goto(f"/web/dashboard?period={month}")
    async with page.expect_download() as downloading:
        await page.locator("#download-xlsx").click()
    download = await downloading.value
    assert download.suggested_filename == f"效能评估-{month}.xlsx"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    book = openpyxl.load_workbook(saved)
    headers, *rows = book["部门排名"].iter_rows(values_only=True)
    keys = exports.DEPARTMENT_KEYS
    assert list(headers) == [exports.header(key) for key in keys]
    in_excel = [
        {key: exports.shown(key, as_cell(value)) for key, value in zip(keys, row, strict=True)}
        for row in rows
    ]
    assert [
        {k: row[k] for k in ("rank", "name", "score", "tasks.on_time_rate", "marks.red_marks")}
        for row in in_excel
    ] == shown
    assert blocked == []
    await page.context.close()
