"""The web console (approval.web) on the time-skipping Temporal server and a real store: login
by API token into an HttpOnly cookie, each page for the roles that may see it and 403 for the
others (R22), form posts acting through the same engine as the API, refusals shown as one line
on the page again."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.config import Settings
from approval.service import CaseService
from approval.store.repository import create_user, events_of, issue_token
from tests.test_workflow import recorded

SPJY = "SC-SPJY-001"  # 食品经营许可: SCJG, CGJ; YYZZ and SFZ are 免提交
PEOPLE = {
    "clerk": ("clerk", None),
    "rev-SCJG": ("reviewer", "SCJG"),
    "rev-CGJ": ("reviewer", "CGJ"),
    "outsider": ("reviewer", "ZJJ"),
    "supervisor": ("supervisor", None),
    "auditor": ("auditor", None),
}
Login = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def web(
    engine: CaseService, sessions: sessionmaker[Session], settings: Settings
) -> AsyncIterator[Login]:
    """``login(name)``: a browser-like client of the console logged in as ``name``."""
    tokens: dict[str, str] = {}
    with sessions.begin() as session:
        for name, (role, department) in PEOPLE.items():
            user = create_user(session, name=name, role=role, department=department)
            tokens[name] = issue_token(session, user.id, datetime.now(UTC))
    app = create_app(service=engine, sessions=sessions, settings=settings)
    clients: list[httpx.AsyncClient] = []

    async def login(name: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://console.test"
        )
        clients.append(client)
        response = await client.post("/web/login", data={"token": tokens[name]})
        assert response.status_code == 303, response.text
        assert "httponly" in response.headers["set-cookie"].lower()
        return client

    yield login
    for client in clients:
        await client.aclose()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def submitted_case(clerk: httpx.AsyncClient) -> str:
    """A SPJY case submitted through the intake form: SQS uploaded, the rest as hashes."""
    form = await clerk.get("/web/cases/new", params={"matter": SPJY})
    assert form.status_code == 200
    assert "免提交" in form.text and "营业执照" in form.text
    assert 'name="sha_YYZZ"' not in form.text  # a shared item is never asked for (R2)
    data = {
        "matter_code": SPJY,
        "applicant_name": "滨州示例餐饮有限公司",
        "id_number": "91371600MA3C000002",
        "idempotency_key": "web-test-0001",
        **{f"sha_{code}": sha(code) for code in ("PMT", "GLZD", "JKZM")},
    }
    files = {"file_SQS": ("申请书.txt", "食品经营许可申请书".encode(), "text/plain")}
    response = await clerk.post("/web/cases", data=data, files=files)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/web/cases/")
    return location.removeprefix("/web/cases/")


async def test_R22_login_pages_by_role_and_logout(web: Login) -> None:
    """Without a cookie every page leads to the login; a bad token is refused on the form; each
    role sees its own pages and gets 403 for the others; logout forgets the token."""
    clerk = await web("clerk")
    anonymous = httpx.AsyncClient(transport=clerk._transport, base_url="http://console.test")
    async with anonymous:
        for path in ("/web/inbox", "/web/board", "/web/cases/new", "/web/"):
            response = await anonymous.get(path)
            assert response.status_code == 303
            assert response.headers["location"] == "/web/login"
        bad = await anonymous.post("/web/login", data={"token": "nope"})
        assert bad.status_code == 401
        assert "token: " in bad.text
        assert (await anonymous.get("/web/login")).status_code == 200

    expected = {
        "clerk": {"/web/cases/new": 200, "/web/inbox": 403, "/web/board": 403},
        "rev-SCJG": {"/web/cases/new": 403, "/web/inbox": 200, "/web/board": 403},
        "supervisor": {"/web/cases/new": 403, "/web/inbox": 403, "/web/board": 200},
        "auditor": {"/web/cases/new": 403, "/web/inbox": 403, "/web/board": 200},
    }
    for name, pages in expected.items():
        client = clerk if name == "clerk" else await web(name)
        for path, code in pages.items():
            response = await client.get(path)
            assert response.status_code == code, (name, path, response.text)
            if code == 403:
                assert "actor.role: " in response.text and "Traceback" not in response.text

    out = await clerk.post("/web/logout")
    assert out.status_code == 303
    assert (await clerk.get("/web/cases/new")).status_code == 303


async def test_R22_a_case_from_intake_form_to_decision_through_the_console(
    web: Login, sessions: sessionmaker[Session]
) -> None:
    """The clerk submits through the form and accepts on the case page; a reviewer outside
    the case gets 403 (kept in the record, R21); each department approves from its inbox form;
    the case page shows 准予许可 and the timeline; the auditor sees the compliance check;
    a refused action (deliver twice) comes back as one line on the page."""
    clerk = await web("clerk")
    case_no = await submitted_case(clerk)
    page = await clerk.get(f"/web/cases/{case_no}")
    assert page.status_code == 200
    assert "已收件" in page.text and "食品经营许可" in page.text

    early = await clerk.post(f"/web/cases/{case_no}/deliver", data={"method": "窗口领取"})
    assert early.status_code == 409
    assert 'role="alert"' in early.text and "Traceback" not in early.text

    accepted = await clerk.post(f"/web/cases/{case_no}/accept")
    assert accepted.status_code == 200, accepted.text
    assert "并联审查中" in accepted.text and "已受理" in accepted.text

    outsider = await web("outsider")
    assert (await outsider.get(f"/web/cases/{case_no}")).status_code == 403
    await recorded(sessions, case_no, "ActionRefused", 2)  # the early delivery and this

    for department in ("SCJG", "CGJ"):
        reviewer = await web(f"rev-{department}")
        inbox = await reviewer.get("/web/inbox")
        assert case_no in inbox.text
        decided = await reviewer.post(
            f"/web/cases/{case_no}/decision",
            data={"outcome": "approve", "request_id": f"web-{department}-1"},
        )
        assert decided.status_code == 200, decided.text
        assert "已提交审查意见（同意）" in decided.text
        assert case_no not in decided.text.split('id="inbox"')[1]
        again = await reviewer.post(
            f"/web/cases/{case_no}/decision", data={"outcome": "reject", "reasons": "x"}
        )
        assert again.status_code == 409  # the task is closed: one line, the page again
        assert 'role="alert"' in again.text

    page = await clerk.get(f"/web/cases/{case_no}")
    assert "准予许可" in page.text
    assert "rev-SCJG" in page.text and "rev-CGJ" in page.text
    timeline_html = page.text.split('id="timeline"')[1]
    assert "收件" in timeline_html and "受理" in timeline_html

    auditor = await web("auditor")
    audit = await auditor.get(f"/web/cases/{case_no}")
    assert audit.status_code == 200
    assert 'id="compliance"' in audit.text and "不符合" not in audit.text
    assert "/accept" not in audit.text  # read-only: no window actions

    delivered = await clerk.post(f"/web/cases/{case_no}/deliver", data={"method": "邮寄送达"})
    assert delivered.status_code == 200, delivered.text
    assert "已办结" in delivered.text
    with sessions() as session:
        approvals = {e.actor_id for e in events_of(session, case_no) if e.type == "ReviewApproved"}
    assert approvals == {"rev-SCJG", "rev-CGJ"}


async def test_intake_refusals_render_the_form_again(web: Login) -> None:
    """A malformed ID number is one line naming the field, with what was typed kept."""
    clerk = await web("clerk")
    response = await clerk.post(
        "/web/cases",
        data={
            "matter_code": SPJY,
            "applicant_name": "张三",
            "id_number": "12",
            "idempotency_key": "web-test-0002",
        },
    )
    assert response.status_code == 422
    assert "applicant.id_number: " in response.text
    assert 'value="张三"' in response.text
    assert "Traceback" not in response.text


async def test_supervisor_board_lists_open_cases_with_lights(web: Login) -> None:
    """The board lists an accepted case with its light."""
    clerk = await web("clerk")
    case_no = await submitted_case(clerk)
    await clerk.post(f"/web/cases/{case_no}/accept")
    board = await (await web("supervisor")).get("/web/board")
    assert board.status_code == 200
    assert case_no in board.text and "● 绿" in board.text


async def test_R3_the_clerk_issues_the_one_time_notice_from_the_case_page(web: Login) -> None:
    """R3: with SQS missing the page previews the notice; issuing it shows the notice as
    issued (printable) and the stage waits for the supplement; accepting is refused (one line)."""
    clerk = await web("clerk")
    response = await clerk.post(
        "/web/cases",
        data={
            "matter_code": SPJY,
            "applicant_name": "滨州示例餐饮有限公司",
            "id_number": "91371600MA3C000004",
            "idempotency_key": "web-test-0003",
            **{f"sha_{code}": sha(code) for code in ("PMT", "GLZD", "JKZM")},
        },
    )
    case_no = response.headers["location"].removeprefix("/web/cases/")
    page = await clerk.get(f"/web/cases/{case_no}")
    assert "一次性告知书（预览）" in page.text and "SQS：未提交" in page.text
    refused = await clerk.post(f"/web/cases/{case_no}/accept")
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    issued = await clerk.post(f"/web/cases/{case_no}/notice", data={"defective": "PMT=比例不符"})
    assert issued.status_code == 200, issued.text
    assert "已一次性告知" in issued.text and "已出具文书" in issued.text
