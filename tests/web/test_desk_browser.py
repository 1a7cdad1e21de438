"""The window and the desk in Debian's Chromium (issue 13's acceptance): the clerk signs in
with a password, finds the case on the desk and uploads the missing material; the reviewer
signs in, opens that material (the same bytes, the same SHA-256), writes an opinion and
approves; the clerk downloads the decision as a PDF whose text holds the case number and the
查询码 (read with pdftotext)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Browser, FilePayload, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from approval.config import Settings
from approval.domain.check_code import check_code
from tests.web.test_sign_in import give_password
from tests.web.test_web_browser import SPJY, browser, served, tokens
from tests.workflows.test_workflow import recorded

__all__ = ["browser", "served", "tokens"]

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("store_backend", ["sqlite"])]

PASSWORDS = {"clerk": "窗口收件-2026", "rev-SCJG": "市场监管-审查-1", "rev-CGJ": "城管局-审查-2026"}
APPLICANT = "滨州示例餐饮有限公司"
DRAWING = "经营场所平面图".encode() + bytes(range(256)) * 512  # 128 KiB and a little


async def signed_in(browser: Browser, base: str, name: str) -> Page:
    """A fresh browser context signed in with ``name``'s user name and password."""
    context = await browser.new_context(base_url=base, accept_downloads=True)
    page = await context.new_page()
    await page.goto("/web/login")
    await page.get_by_label("用户名").fill(name)
    await page.get_by_label("密码").fill(PASSWORDS[name])
    await page.get_by_role("button", name="登录", exact=True).click()
    await page.wait_for_load_state()
    return page


async def received_without_the_drawing(clerk: Page) -> str:
    """A SPJY case received at the intake form with every material but the floor plan (PMT),
    typed in as hashes: its number."""
    await clerk.get_by_role("link", name="收件（新申请）").click()
    await clerk.select_option("#matter", SPJY)
    await clerk.get_by_role("button", name="选择").click()
    await clerk.fill('input[name="applicant_name"]', APPLICANT)
    await clerk.fill('input[name="id_number"]', "91371600MA3C00000L")
    for code in ("SQS", "GLZD", "JKZM"):
        await clerk.fill(f'input[name="sha_{code}"]', hashlib.sha256(code.encode()).hexdigest())
    await clerk.get_by_role("button", name="收件").click()
    await expect(clerk.locator("h1")).to_contain_text("办件 371600-")
    return (await clerk.locator("h1").inner_text()).removeprefix("办件 ").strip()


async def downloaded(page: Page, link_name: str, into: Path) -> bytes:
    """The bytes of the file the link called ``link_name`` downloads."""
    async with page.expect_download() as started:
        await page.get_by_role("link", name=link_name).first.click()
    download = await started.value
    target = into / download.suggested_filename
    await download.save_as(target)
    return target.read_bytes()


async def test_R7_R14_R22_sign_in_search_upload_review_and_print_the_decision(
    browser: Browser,
    served: str,
    tokens: dict[str, str],
    sessions: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    """R7, R14, R22: password sign-in; the desk's search finds the case; the floor plan
    uploaded with the supplement is the file the reviewer downloads (same bytes and SHA-256);
    the reviewer's written opinion is recorded with its approval; the decision's PDF names
    the case and its 查询码."""
    for name in PASSWORDS:
        give_password(sessions, name, PASSWORDS[name])
    clerk = await signed_in(browser, served, "clerk")
    await expect(clerk.locator("h1")).to_have_text("窗口工作台")
    case_no = await received_without_the_drawing(clerk)

    await clerk.goto("/web/cases")
    await clerk.get_by_label("办件编号或申请人").fill(case_no[-6:])
    await clerk.get_by_role("button", name="查询").click()
    await expect(clerk.locator("#cases tr")).to_have_count(2)  # the heading and the case
    await clerk.get_by_role("link", name=case_no).click()
    await expect(clerk.locator("#actions")).not_to_contain_text("受理")
    await clerk.get_by_role("button", name="出具一次性告知书").click()
    await expect(clerk.locator("#stage")).to_contain_text("待补正")
    await clerk.set_input_files(
        '#supplement input[name="file_PMT"]',
        files=FilePayload(name="平面图.pdf", mimeType="application/pdf", buffer=DRAWING),
    )
    await clerk.get_by_role("button", name="记录补正").click()
    await expect(clerk.locator(".ok")).to_have_text("已补正")
    await clerk.get_by_role("button", name="受理").click()
    await expect(clerk.locator("#stage")).to_have_text("并联审查中")

    digest = hashlib.sha256(DRAWING).hexdigest()
    reviewer = await signed_in(browser, served, "rev-SCJG")
    await reviewer.goto(f"/web/cases/{case_no}")
    row = reviewer.locator("#material-files tr", has_text="PMT")
    await expect(row).to_contain_text(digest)
    async with reviewer.expect_download() as started:
        await row.get_by_role("link", name="下载").click()
    opened = Path(await (await started.value).path()).read_bytes()
    assert opened == DRAWING and hashlib.sha256(opened).hexdigest() == digest
    opinion = "平面图与现场一致，同意"
    await reviewer.locator("#decide").get_by_label("审查意见").fill(opinion)
    await reviewer.locator("#decide").get_by_role("button", name="同意", exact=True).click()
    await expect(reviewer.locator(".ok")).to_contain_text("已提交审查意见（同意）")
    [approved] = await recorded(sessions, case_no, "ReviewApproved", 1)
    assert approved.actor_id == "rev-SCJG"
    assert approved.payload.get("opinion") == opinion

    other = await signed_in(browser, served, "rev-CGJ")
    row = other.locator("#inbox tr", has_text=case_no)
    await row.get_by_role("button", name="同意", exact=True).click()
    await expect(other.locator(".ok")).to_contain_text("已提交审查意见（同意）")

    await clerk.goto(f"/web/cases/{case_no}")
    await expect(clerk.locator("#decision")).to_contain_text("准予")
    pdf = await downloaded(clerk, "下载 准予行政许可决定书 PDF（打印盖章）", tmp_path)
    assert pdf.startswith(b"%PDF-")
    (tmp_path / "decision.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(tmp_path / "decision.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert case_no in text
    assert check_code(case_no, settings.audit_key_bytes) in text
