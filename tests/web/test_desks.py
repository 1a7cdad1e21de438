"""The clerk's desk and the reviewer's desk in the console: the case list finds cases by part
of the number or the applicant's name, the stage and the clerk who received them (首问负责);
a department's inbox lists only accepted cases; a reviewer decides from the case page, beside
the case's materials, with a written opinion that the record keeps."""

from __future__ import annotations

import hashlib
import re
import uuid

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tests.web.test_web import SPJY, Login, app, sha, tokens, web
from tests.workflows.test_workflow import recorded

__all__ = ["app", "tokens", "web"]

ALL = ("SQS", "PMT", "GLZD", "JKZM")


async def case_of(clerk: httpx.AsyncClient, applicant: str, codes: tuple[str, ...] = ALL) -> str:
    """A SPJY case of ``applicant`` received through the intake form: its number."""
    response = await clerk.post(
        "/web/cases",
        data={
            "matter_code": SPJY,
            "applicant_name": applicant,
            "id_number": "91371600MA3C00000L",
            "idempotency_key": f"web-{uuid.uuid4().hex}",
            **{f"sha_{code}": sha(code) for code in codes},
        },
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).removeprefix("/web/cases/")


def listed(page: httpx.Response) -> list[str]:
    """The case numbers of the desk's list, in its order."""
    assert page.status_code == 200, page.text
    table = page.text.split('id="cases"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/web/cases/([0-9-]+)">', table)


async def test_the_clerks_desk_finds_cases_by_applicant_number_stage_and_first_responsible(
    web: Login,
) -> None:
    """The desk lists the newest case first; part of an applicant's name or of a case number
    finds exactly those cases; the stage filter keeps the accepted one; 只看我收件的 keeps the
    clerk's own (首问负责), which the case page names."""
    clerk = await web("clerk")
    first = await case_of(clerk, "滨州示例餐饮有限公司")
    second = await case_of(clerk, "惠民县鲜味小吃店", codes=("PMT", "GLZD", "JKZM"))
    assert (await clerk.post(f"/web/cases/{first}/accept")).status_code == 200
    assert listed(await clerk.get("/web/cases")) == [second, first]
    assert listed(await clerk.get("/web/cases", params={"q": "鲜味"})) == [second]
    assert listed(await clerk.get("/web/cases", params={"q": first[-6:]})) == [first]
    assert listed(await clerk.get("/web/cases", params={"stage": "in_review"})) == [first]
    assert listed(await clerk.get("/web/cases", params={"q": "%"})) == []
    assert listed(await clerk.get("/web/cases", params={"mine": "1"})) == [second, first]
    page = await clerk.get(f"/web/cases/{first}")
    assert re.search(r'id="first-responsible">clerk<', page.text)


async def test_R7_R22_an_inbox_lists_a_case_only_once_the_window_accepted_it(web: Login) -> None:
    """R7, R22: a complete case received but not accepted is not in its departments' inboxes;
    once the clerk accepts it, it is, with the decision form."""
    clerk, reviewer = await web("clerk"), await web("rev-SCJG")
    case_no = await case_of(clerk, "滨州示例餐饮有限公司")
    assert case_no not in (await reviewer.get("/web/inbox")).text
    assert (await clerk.post(f"/web/cases/{case_no}/accept")).status_code == 200
    inbox = await reviewer.get("/web/inbox")
    assert case_no in inbox.text and 'name="reasons"' in inbox.text


async def test_R14_R22_a_reviewer_decides_from_the_case_page_with_a_written_opinion(
    web: Login, sessions: sessionmaker[Session]
) -> None:
    """R14, R22: the reviewer's case page shows the materials by name and the decision form;
    不同意 with its opinion is recorded with those reasons, the page answers with its done line
    and offers the form no more; the other department's reviewer still has it."""
    clerk, reviewer = await web("clerk"), await web("rev-SCJG")
    case_no = await case_of(clerk, "滨州示例餐饮有限公司")
    assert (await clerk.post(f"/web/cases/{case_no}/accept")).status_code == 200
    page = await reviewer.get(f"/web/cases/{case_no}")
    assert 'id="material-files"' in page.text and "食品经营许可申请书（SQS）" in page.text
    assert 'id="decide"' in page.text
    opinion = "经营场所与平面图不符，不予同意"
    form = {"outcome": "reject", "reasons": opinion, "from_page": "case", "request_id": "r-1"}
    answered = await reviewer.post(f"/web/cases/{case_no}/decision", data=form)
    assert answered.status_code == 200, answered.text
    assert "已提交审查意见（不同意）" in answered.text and 'id="decide"' not in answered.text
    [rejected] = await recorded(sessions, case_no, "ReviewRejected", 1)
    assert (rejected.actor_id, rejected.payload["reasons"]) == ("rev-SCJG", opinion)
    other = await web("rev-CGJ")
    assert 'id="decide"' in (await other.get(f"/web/cases/{case_no}")).text


async def test_R7_R22_a_file_the_clerk_uploads_is_the_file_the_reviewer_downloads(
    web: Login, sessions: sessionmaker[Session]
) -> None:
    """R7, R22: a drawing uploaded on the intake form is kept by its content hash; the case
    records that hash, and the reviewer of a department on the case downloads the same bytes
    with the same SHA-256 and its original Chinese name; a reviewer of another department is
    refused (403, kept in the record, R21)."""
    clerk = await web("clerk")
    drawing = b"%PDF-1.4 \xe5\xb9\xb3\xe9\x9d\xa2\xe5\x9b\xbe" + bytes(range(256)) * 64
    digest = hashlib.sha256(drawing).hexdigest()
    response = await clerk.post(
        "/web/cases",
        data={
            "matter_code": SPJY,
            "applicant_name": "滨州示例餐饮有限公司",
            "id_number": "91371600MA3C00000L",
            "idempotency_key": f"web-{uuid.uuid4().hex}",
            **{f"sha_{code}": sha(code) for code in ("SQS", "GLZD", "JKZM")},
        },
        files={"file_PMT": ("经营场所平面图.pdf", drawing, "application/pdf")},
    )
    assert response.status_code == 303, response.text
    case_no = str(response.headers["location"]).removeprefix("/web/cases/")
    [received] = await recorded(sessions, case_no, "ApplicationReceived", 1)
    assert received.payload["documents"]["PMT"]["sha256"] == digest
    assert (await clerk.post(f"/web/cases/{case_no}/accept")).status_code == 200
    reviewer = await web("rev-SCJG")
    page = await reviewer.get(f"/web/cases/{case_no}")
    assert f"/web/cases/{case_no}/materials/PMT/file" in page.text and digest in page.text
    got = await reviewer.get(f"/web/cases/{case_no}/materials/PMT/file")
    assert got.status_code == 200 and got.content == drawing
    assert got.headers["x-content-sha256"] == digest
    assert "filename*=UTF-8''" in got.headers["content-disposition"]
    outsider = await web("outsider")
    assert (await outsider.get(f"/web/cases/{case_no}/materials/PMT/file")).status_code == 403
    await recorded(sessions, case_no, "ActionRefused", 1)
