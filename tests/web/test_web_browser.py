"""The web console in a real browser: Debian's Chromium driven by Playwright against the app
served by uvicorn on a free localhost port, with the engine on the time-skipping Temporal
server. A clerk submits a two-department case, supplements what was missing and accepts it,
each department's reviewer approves in its inbox, and the case page shows the decision and
the timeline — with the console's Content Security Policy on and every form carrying its CSRF
token, as the browser posts it (with its Origin). The applicant, without a login, finds the
completed case on the public progress page and rates it (R20).

Needs /usr/bin/chromium (``apt-get install chromium``; ``.ci/run`` installs it); skipped
without it, except under CI=true, where it fails."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, FilePayload, Page, Route, async_playwright, expect
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.domain.check_code import PROGRESS_PATH, check_code
from approval.service import CaseService
from approval.store.audit_log import events_of
from approval.store.users import create_users_with_tokens
from tests.api.test_public import completed_case

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SPJY = "SC-SPJY-001"  # 食品经营许可: SCJG, CGJ
PEOPLE = {
    "clerk": ("clerk", None),
    "rev-SCJG": ("reviewer", "SCJG"),
    "rev-CGJ": ("reviewer", "CGJ"),
}

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("store_backend", ["sqlite"])]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, through Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true never skips the browser test", pytrace=False)
        pytest.skip(reason)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def served(
    engine: CaseService, sessions: sessionmaker[Session], settings: Settings
) -> AsyncIterator[str]:
    """The app on a free localhost port, served by uvicorn in this event loop (the engine's
    Temporal client lives here); its base URL."""
    app = create_app(service=engine, sessions=sessions, settings=settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[str, str]:
    """An API token per person of the story."""
    accounts = [(name, role, department) for name, (role, department) in PEOPLE.items()]
    with sessions.begin() as session:
        return create_users_with_tokens(session, accounts, datetime.now(UTC))


async def login(browser: Browser, base: str, token: str, blocked: list[str]) -> Page:
    """A fresh browser context logged in with ``token``; what the Content Security Policy
    blocks on its pages is added to ``blocked``."""
    context = await browser.new_context(base_url=base)
    page = await context.new_page()
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    opened = await page.goto("/web/login")
    assert opened is not None
    assert "default-src 'self'" in opened.headers["content-security-policy"]
    await page.get_by_text("以系统令牌登录").click()
    await page.fill('input[name="token"]', token)
    await page.get_by_role("button", name="以令牌登录").click()
    await page.wait_for_load_state()
    return page


async def test_a_two_department_case_in_the_browser(
    browser: Browser, served: str, tokens: dict[str, str]
) -> None:
    """Clerk: intake form (one file uploaded, two as hashes, one left out) → case page →
    one-time notice → the supplement form (the missing file uploaded) → 受理.
    Each reviewer: inbox → 同意. Clerk: the case page shows 准予 and the timeline. The
    Content Security Policy blocked nothing on the way (R22: the forms' CSRF tokens and
    Origin passed)."""
    blocked: list[str] = []
    clerk = await login(browser, served, tokens["clerk"], blocked)
    await expect(clerk.locator("h1")).to_have_text("窗口工作台")
    await clerk.get_by_role("link", name="收件（新申请）").click()
    await expect(clerk.locator("h1")).to_have_text("收件登记")
    await clerk.select_option("#matter", SPJY)
    await clerk.get_by_role("button", name="选择").click()
    await expect(clerk.locator("h2")).to_contain_text("食品经营许可")
    await expect(clerk.locator("tr.shared")).to_have_count(2)  # 营业执照, 身份证件: 免提交
    await clerk.fill('input[name="applicant_name"]', "滨州示例餐饮有限公司")
    await clerk.fill('input[name="id_number"]', "91371600MA3C00000L")
    await clerk.set_input_files(
        'input[name="file_SQS"]',
        files=FilePayload(name="申请书.txt", mimeType="text/plain", buffer="申请书".encode()),
    )
    for code in ("PMT", "GLZD"):  # JKZM left out: told once, then supplemented
        await clerk.fill(f'input[name="sha_{code}"]', f"{ord(code[0]):02x}" * 32)
    await clerk.get_by_role("button", name="收件").click()
    await expect(clerk.locator("h1")).to_contain_text("办件 371600-")
    case_no = (await clerk.locator("h1").inner_text()).removeprefix("办件 ").strip()
    await expect(clerk.locator("#stage")).to_contain_text("已收件")

    await clerk.get_by_role("button", name="出具一次性告知书").click()
    await expect(clerk.locator("#stage")).to_contain_text("待补正")
    await clerk.set_input_files(
        '#supplement input[name="file_JKZM"]',
        files=FilePayload(name="健康证明.txt", mimeType="text/plain", buffer="健康证".encode()),
    )
    await clerk.get_by_role("button", name="记录补正").click()
    await expect(clerk.locator(".ok")).to_have_text("已补正")
    await expect(clerk.locator("#stage")).to_contain_text("已收件")

    await clerk.get_by_role("button", name="受理").click()
    await expect(clerk.locator("#stage")).to_have_text("并联审查中")

    for department in ("SCJG", "CGJ"):
        reviewer = await login(browser, served, tokens[f"rev-{department}"], blocked)
        await expect(reviewer.locator("h1")).to_have_text(f"待办审查（{department}）")
        row = reviewer.locator("#inbox tr", has_text=case_no)
        await expect(row).to_contain_text("● 绿")
        await row.get_by_role("button", name="同意", exact=True).click()
        await expect(reviewer.locator(".ok")).to_contain_text("已提交审查意见（同意）")
        await expect(reviewer.locator("#inbox tr", has_text=case_no)).to_have_count(0)

    await clerk.goto(f"/web/cases/{case_no}")
    await expect(clerk.locator("#decision")).to_contain_text("准予")
    timeline = clerk.locator("#timeline")
    await expect(timeline).to_contain_text("收件")
    await expect(timeline).to_contain_text("rev-SCJG")
    await expect(timeline).to_contain_text("rev-CGJ")
    assert blocked == []


@pytest.mark.parametrize(
    ("path", "shown"), [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")]
)
async def test_the_api_docs_render_with_the_network_cut_off(
    browser: Browser, served: str, path: str, shown: str
) -> None:
    """/docs (Swagger UI) and /redoc (ReDoc) render the API's title in Chromium when every
    request that leaves this machine's server is refused: their viewers come from the server
    itself, and the Content Security Policy blocks no script or style of theirs (it does
    block ReDoc's remote logo image, as it should)."""
    context = await browser.new_context(base_url=served)
    page = await context.new_page()
    left: list[str] = []
    blocked: list[str] = []

    async def only_this_server(route: Route) -> None:
        if route.request.url.startswith(served):
            await route.continue_()
        else:
            left.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_this_server)
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    await page.goto(path)
    await expect(page.locator(shown).first).to_contain_text("并联审批引擎 API", timeout=20_000)
    assert left == []
    assert [m for m in blocked if not m.startswith("Loading the image")] == []
    await context.close()


async def test_R20_the_applicant_rates_a_completed_case_on_the_public_page_in_the_browser(
    browser: Browser,
    served: str,
    engine: CaseService,
    catalogue: Catalogue,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    """R20, R22: without a login, the public progress page (its address as the notices print
    it): the case number and check code typed in → 已办结, 准予许可, each department 同意 → the
    rating form: 满意, about 住房和城乡建设局 by name, a comment → thanked, the page shows the
    rating and no more form; the store holds the one rating. The posts carried their CSRF
    token and Origin; the Content Security Policy blocked nothing."""
    case_no = await completed_case(engine, catalogue)
    context = await browser.new_context(base_url=served)
    page = await context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    await page.goto(PROGRESS_PATH)
    await expect(page.locator("h1")).to_have_text("办件进度查询")
    await page.fill('input[name="case_no"]', case_no)
    await page.fill('input[name="check_code"]', check_code(case_no, settings.audit_key_bytes))
    await page.get_by_role("button", name="查询").click()
    await expect(page.locator("#stage")).to_have_text("已办结")
    await expect(page.locator("#outcome")).to_contain_text("准予许可")
    await expect(page.locator("#tasks")).to_contain_text("住房和城乡建设局")
    await expect(page.locator("#tasks")).not_to_contain_text("rev-")
    await page.get_by_label("满意", exact=True).check()
    await page.get_by_label("住房和城乡建设局").check()
    await page.fill('textarea[name="comment"]', "材料一次性告知，很方便")
    await page.get_by_role("button", name="提交评价").click()
    await expect(page.locator(".ok")).to_have_text("感谢您的评价：满意")
    await expect(page.locator("#rating")).to_contain_text("已评价：满意")
    await expect(page.locator("#rating-form")).to_have_count(0)
    with sessions() as session:
        (rated,) = events_of(session, case_no, types=("CaseRated",))
    assert (rated.payload["level"], rated.payload["concerns"]) == ("satisfied", ["ZJJ"])
    assert rated.payload["comment"] == "材料一次性告知，很方便"
    assert blocked == []
    await context.close()
