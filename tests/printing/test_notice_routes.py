"""The printed notices over HTTP, on the time-skipping Temporal server and a real store: the API's
``GET /cases/{case_no}/notices/{notice_no}.pdf`` and the console's
``GET /web/cases/{case_no}/notices/{notice_no}.pdf`` print each recorded notice of a case
(一次性告知书, 受理通知书, 准予行政许可决定书 …) with the centre's header, the case number and the
check code (查询码), under the text route's access rules (R22, refusals kept: R21); a case
without that notice is a 404 with a Chinese reason and a machine code."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.domain.check_code import check_code, progress_address
from approval.printing.recorded import NOTICE_NOT_FOUND
from tests.api.test_api import application
from tests.domain_fixtures import material
from tests.printing.test_sheet import compact, pdf_text
from tests.web import test_web
from tests.web.test_web import SPJY, Login
from tests.workflows.test_workflow import recorded

app, tokens, web = test_web.app, test_web.tokens, test_web.web  # the console's fixtures
DEPARTMENTS = ("SCJG", "CGJ")  # SPJY's reviewers; the outsider is ZJJ's
LEFT_OUT = "JKZM"


@dataclass
class Api:
    """A client of the API with the bearer tokens of test_web's people."""

    client: httpx.AsyncClient
    tokens: dict[str, str]

    async def call(self, caller: str, method: str, path: str, body: Any = None) -> httpx.Response:
        """``method path`` as ``caller``, with ``body`` as JSON when given."""
        headers = {"Authorization": f"Bearer {self.tokens[caller]}"}
        return await self.client.request(method, path, json=body, headers=headers)


@pytest.fixture
async def api(app: FastAPI, tokens: dict[str, str]) -> AsyncIterator[Api]:
    """The API of the console's app, called with its people's tokens."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield Api(client, tokens)


async def decided_case(api: Api, catalogue: Catalogue) -> str:
    """An SPJY case told once to supplement JKZM, supplemented, accepted and approved by both
    departments: a one-time notice, an acceptance voucher, an approval decision and (no fee)
    the certificate."""
    body = application(catalogue, matter=SPJY, leave_out=(LEFT_OUT,))
    submitted = await api.call("clerk", "POST", "/cases", body)
    assert submitted.status_code == 201, submitted.text
    case_no: str = submitted.json()["case_no"]
    supplement = {"materials": [material(LEFT_OUT).model_dump(mode="json")]}
    for step, step_body in (("notice", None), ("supplement", supplement), ("accept", None)):
        done = await api.call("clerk", "POST", f"/cases/{case_no}/{step}", step_body)
        assert done.status_code == 200, done.text
    for department in DEPARTMENTS:
        decision = {"outcome": "approve"}
        done = await api.call(f"rev-{department}", "POST", f"/cases/{case_no}/decision", decision)
        assert done.status_code == 200, done.text
    return case_no


def assert_printed(content: bytes, centre: str, notice: dict[str, Any], *facts: str) -> None:
    """The PDF's text names the centre, the notice's title and ``facts``, and holds every
    line of the notice's recorded text after its centre and title, in order."""
    flat = compact(pdf_text(content))
    for fact in (centre, notice["title"], *facts):
        assert compact(fact) in flat, fact
    position = 0
    for line in notice["body"].splitlines()[2:]:
        if line.strip():
            position = flat.find(compact(line), position)
            assert position >= 0, line


def assert_pdf_download(response: httpx.Response, notice_no: str) -> None:
    """A PDF to download, named by the notice's number (and its title, in UTF-8)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; ") and f"{notice_no}-" in disposition
    assert response.content.startswith(b"%PDF-")


async def refused_reads(
    sessions: sessionmaker[Session], case_no: str, expected: int
) -> list[tuple[str, str, str]]:
    """The case's refused attempts (actor, action and field), once ``expected`` are recorded
    (a running case records a refusal signalled to it just after)."""
    rows = await recorded(sessions, case_no, "ActionRefused", expected)
    return [(e.actor_id, e.payload["action"], e.payload["field"]) for e in rows]


async def test_R22_R21_each_recorded_notice_prints_for_those_who_read_the_case(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """R5, R22: every notice of a decided case (the one-time notice naming JKZM by its name,
    the acceptance voucher, the approval decision, the certificate) prints for the clerk as a
    PDF with the centre, the title, the case number, the check code, the progress page's
    address and the notice's text as recorded; a department's reviewer on the case reads the
    same text. R21, R22: the reviewer of a department without a task is refused (403) and the
    attempt kept; a notice the case does not have is 404 (notice_not_found, in Chinese); so
    is an unknown case."""
    case_no = await decided_case(api, catalogue)
    notices = (await api.call("clerk", "GET", f"/cases/{case_no}/notices")).json()
    assert [n["kind"] for n in notices] == [
        "one_time_notice",
        "acceptance_voucher",
        "approval_decision",
        "certificate",
    ]
    (name,) = [m.name for m in catalogue.matter(SPJY).materials if m.code == LEFT_OUT]
    assert LEFT_OUT in notices[0]["body"] and name in notices[0]["body"]
    code = check_code(case_no, settings.audit_key_bytes)
    address = progress_address(settings.public_base_url)
    named = {notices[0]["notice_no"]: (LEFT_OUT, name)}  # the material to supplement
    for notice in notices:
        path = f"/cases/{case_no}/notices/{notice['notice_no']}.pdf"
        printed = await api.call("clerk", "GET", path)
        assert_pdf_download(printed, notice["notice_no"])
        facts = (case_no, code, address, *named.get(notice["notice_no"], ()))
        assert_printed(printed.content, catalogue.centre, notice, *facts)
    decision = notices[2]
    path = f"/cases/{case_no}/notices/{decision['notice_no']}.pdf"
    by_reviewer = await api.call("rev-SCJG", "GET", path)
    assert_pdf_download(by_reviewer, decision["notice_no"])
    assert pdf_text(by_reviewer.content) == pdf_text((await api.call("clerk", "GET", path)).content)

    outsider = await api.call("outsider", "GET", path)
    assert outsider.status_code == 403
    assert outsider.json()["detail"]["field"] == "case_no"
    assert await refused_reads(sessions, case_no, 1) == [("outsider", "read_notices", "case_no")]
    missing = await api.call("clerk", "GET", f"/cases/{case_no}/notices/{case_no}-N99.pdf")
    assert missing.status_code == 404
    detail = missing.json()["detail"]
    assert (detail["field"], detail["code"]) == ("notice_no", NOTICE_NOT_FOUND)
    assert "没有编号为" in detail["reason"] and f"{case_no}-N99" in detail["reason"]
    unknown = await api.call("clerk", "GET", "/cases/371600-20260101-999999/notices/x.pdf")
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["field"] == "case_no"


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_R22_the_clerk_downloads_the_decision_pdf_from_the_console(
    api: Api, web: Login, catalogue: Catalogue, settings: Settings
) -> None:
    """R22: in the console the clerk downloads the case's decision as a PDF whose text holds
    the case number and the check code; the reviewer of a department without a task gets the
    403 page; a notice the case does not have is the 404 page with its Chinese line and its
    machine code."""
    case_no = await decided_case(api, catalogue)
    notices = (await api.call("clerk", "GET", f"/cases/{case_no}/notices")).json()
    decision = next(n for n in notices if n["kind"] == "approval_decision")
    path = f"/web/cases/{case_no}/notices/{decision['notice_no']}.pdf"
    clerk = await web("clerk")
    downloaded = await clerk.get(path)
    assert_pdf_download(downloaded, decision["notice_no"])
    code = check_code(case_no, settings.audit_key_bytes)
    assert_printed(downloaded.content, catalogue.centre, decision, case_no, code)

    outsider = await (await web("outsider")).get(path)
    assert outsider.status_code == 403
    assert "application/pdf" not in outsider.headers["content-type"]
    missing = await clerk.get(f"/web/cases/{case_no}/notices/{case_no}-N99.pdf")
    assert missing.status_code == 404
    assert f'data-code="{NOTICE_NOT_FOUND}"' in missing.text
    assert "没有编号为" in missing.text


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_R1_R5_a_refused_applications_non_acceptance_voucher_prints(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R1, R5: an application for a matter outside the catalogue gets a 不予受理通知书 and no
    case history; it prints for the clerk with the centre, its title, the case number and the
    reason, but without a check code (the public progress page does not know the case); a
    reviewer (no department has a task) is refused (403) and the attempt kept (R21, R22)."""
    body = {**application(catalogue), "matter_code": "XX-NONE-001"}
    refused = await api.call("clerk", "POST", "/cases", body)
    assert refused.status_code == 422
    found = re.search(r"不予受理通知书 (\S+)-N01", refused.json()["detail"]["reason"])
    assert found, refused.text
    case_no = found[1]
    (notice,) = (await api.call("clerk", "GET", f"/cases/{case_no}/notices")).json()
    assert notice["kind"] == "non_acceptance_voucher"
    path = f"/cases/{case_no}/notices/{notice['notice_no']}.pdf"
    printed = await api.call("clerk", "GET", path)
    assert_pdf_download(printed, notice["notice_no"])
    assert_printed(printed.content, catalogue.centre, notice, case_no, "XX-NONE-001")
    assert "查询码" not in pdf_text(printed.content)
    assert (await api.call("rev-SCJG", "GET", path)).status_code == 403
    assert await refused_reads(sessions, case_no, 1) == [("rev-SCJG", "read_notices", "case_no")]
