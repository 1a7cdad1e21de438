"""The web console (approval.web) on the time-skipping Temporal server and a real store: login
by API token into an HttpOnly cookie, each page for the roles that may see it and 403 for the
others (R22), form posts acting through the same engine as the API, refusals shown as one line
on the page again."""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from datetime import UTC, date, datetime
from http.cookies import SimpleCookie

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.calendar_source import configured_calendar_data
from approval.config import Settings
from approval.domain.calendar import SHANGHAI, WorkingCalendar
from approval.domain.labels import STAGE_LABELS, TASK_LABELS
from approval.domain.status import CaseStatus
from approval.service import CaseService
from approval.store.audit_log import events_of
from approval.store.users import create_users_with_tokens
from approval.web.security import COOKIE, CSRF_COOKIE, CSRF_HEADER, csrf_key, csrf_token
from tests.workflows.test_workflow import recorded

SPJY = "SC-SPJY-001"  # 食品经营许可: SCJG, CGJ; YYZZ and SFZ are 免提交
GHXK = "JS-GHXK-001"  # 建设工程规划许可: ZRZY has 8 WD
BDC = "BDC-ZYDJ-001"  # 不动产转移登记: SW and ZJJ, then ZRZY; a fee of 80 yuan
PEOPLE = {
    "clerk": ("clerk", None),
    "rev-SCJG": ("reviewer", "SCJG"),
    "rev-CGJ": ("reviewer", "CGJ"),
    "outsider": ("reviewer", "ZJJ"),
    "rev-SW": ("reviewer", "SW"),
    "rev-ZRZY": ("reviewer", "ZRZY"),
    "supervisor": ("supervisor", None),
    "auditor": ("auditor", None),
}
Login = Callable[[str], Awaitable[httpx.AsyncClient]]
SUPERVISION = {"exclude", "meeting"}
"""The supervisor's forms on a case in review besides the extension (R10, R12)."""


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[str, str]:
    """An API token per person of PEOPLE."""
    accounts = [(name, role, department) for name, (role, department) in PEOPLE.items()]
    with sessions.begin() as session:
        return create_users_with_tokens(session, accounts, datetime.now(UTC))


@pytest.fixture
def app(engine: CaseService, sessions: sessionmaker[Session], settings: Settings) -> FastAPI:
    """The API and console on the test's engine and store."""
    return create_app(service=engine, sessions=sessions, settings=settings)


class ConsoleForms(httpx.Auth):
    """Every POST carries the console's CSRF token as its page's forms do (here as the
    X-CSRF-Token header), made from the client's own cookies (approval.web.security)."""

    def __init__(self, settings: Settings) -> None:
        self.key = csrf_key(settings)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        if request.method == "POST" and CSRF_HEADER not in request.headers:
            cookies = SimpleCookie(request.headers.get("cookie", ""))
            secret, login = (
                cookies[n].value if n in cookies else "" for n in (CSRF_COOKIE, COOKIE)
            )
            request.headers[CSRF_HEADER] = csrf_token(self.key, secret, login)
        yield request


async def console_client(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A browser-like client of the console at ``address`` that opened its login page (so it
    holds its CSRF cookie); its posts carry the CSRF token."""
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url="http://console.test",
        auth=ConsoleForms(app.state.settings),
    )
    assert (await client.get("/web/login")).status_code == 200
    return client


@pytest.fixture
async def web(app: FastAPI, tokens: dict[str, str]) -> AsyncIterator[Login]:
    """``login(name)``: a browser-like client of the console logged in as ``name``."""
    clients: list[httpx.AsyncClient] = []

    async def login(name: str) -> httpx.AsyncClient:
        client = await console_client(app)
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
        "id_number": "91371600MA3C00000L",
        "idempotency_key": "web-test-0001",
        **{f"sha_{code}": sha(code) for code in ("PMT", "GLZD", "JKZM")},
    }
    files = {"file_SQS": ("申请书.txt", "食品经营许可申请书".encode(), "text/plain")}
    response = await clerk.post("/web/cases", data=data, files=files)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/web/cases/")
    return location.removeprefix("/web/cases/")


async def received_case(clerk: httpx.AsyncClient, matter: str, codes: tuple[str, ...]) -> str:
    """A case of ``matter`` received through the intake form with the materials ``codes``
    (as hashes): the case number."""
    response = await clerk.post(
        "/web/cases",
        data={
            "matter_code": matter,
            "applicant_name": "滨州示例餐饮有限公司",
            "id_number": "91371600MA3C00000L",
            "idempotency_key": f"web-{uuid.uuid4().hex}",
            **{f"sha_{code}": sha(code) for code in codes},
        },
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).removeprefix("/web/cases/")


async def accepted_case(clerk: httpx.AsyncClient) -> str:
    """A complete SPJY case received and accepted through the console."""
    case_no = await received_case(clerk, SPJY, ("SQS", "PMT", "GLZD", "JKZM"))
    accepted = await clerk.post(f"/web/cases/{case_no}/accept")
    assert accepted.status_code == 200, accepted.text
    return case_no


def actions_of(page: httpx.Response) -> set[str]:
    """The case-page forms offered on ``page``, by the last part of their action."""
    return set(re.findall(r'action="/web/cases/[0-9-]+/(\w+)"', page.text))


def alert(page: httpx.Response) -> str:
    """The refusal line shown on ``page``."""
    found = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', page.text, re.S)
    assert found, page.text
    return html.unescape(found.group(1))


async def test_R22_login_pages_by_role_and_logout(web: Login, app: FastAPI) -> None:
    """Without a cookie every page leads to the login; a bad token is refused on the form; each
    role sees its own pages and gets 403 for the others; logout forgets the token."""
    clerk = await web("clerk")
    anonymous = await console_client(app)
    try:
        for path in ("/web/inbox", "/web/board", "/web/cases/new", "/web/"):
            response = await anonymous.get(path)
            assert response.status_code == 303
            assert response.headers["location"] == "/web/login"
        bad = await anonymous.post("/web/login", data={"token": "nope"})
        assert bad.status_code == 401
        assert 'data-code="sign_in_failed"' in bad.text
        assert (await anonymous.get("/web/login")).status_code == 200
    finally:
        await anonymous.aclose()

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


BoardLine = tuple[str, str, str | None, list[tuple[str, str, str | None]]]
"""A line of the board: stage, last day, light, and each task's department, state, light."""


def board_lines(page: httpx.Response) -> dict[str, BoardLine]:
    """The board's lines by case: the stage (with 超期), the last day, the light, and each
    task's department, state and light, as shown."""
    table = page.text.split('id="board"')[1].split("</table>")[0]
    lines = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        found = re.search(r"371600-\d{8}-\d{6}", cells[0]) if len(cells) == 7 else None
        if found is None:
            continue
        tasks = []
        for part in filter(None, cells[6].split("；")):
            department, shown = part.split(" ", 1)
            tasks.append((department, shown.split(" <span")[0], _light(shown)))
        stage = html.unescape(re.sub(r"<[^>]+>", "", cells[3])).strip()
        lines[found.group(0)] = (stage, cells[4].strip(), _light(cells[5]), tasks)
    return lines


def _light(cell: str) -> str | None:
    found = re.search(r'class="light-(\w+)"', cell)
    return found.group(1) if found else None


def line_of(status: CaseStatus) -> BoardLine:
    """The board's line of a case as its status (the workflow's Query) tells it."""
    clock = status.case_clock or status.intake_clock
    stage = STAGE_LABELS[status.stage] + (" 超期" if status.case_overdue else "")
    last_day = str(clock.last_day) if clock and clock.last_day else "—"
    tasks = [
        (t.department, TASK_LABELS[t.state], t.clock.light.value if t.clock else None)
        for t in status.tasks
    ]
    return stage, last_day, clock.light.value if clock else None, tasks


async def no_workflow_query(case_no: str, as_of: datetime | None = None) -> CaseStatus:
    """In place of the engine's status Query where a page must not ask a workflow."""
    raise AssertionError(f"the page asked the workflow of {case_no}")


async def test_R19_the_board_shows_from_the_store_what_each_case_s_status_shows(
    web: Login, engine: CaseService
) -> None:
    """R19: the board reads the store, asking no case's workflow, and shows what the case's
    status (the workflow's Query) shows: received (the window's clock, also restarted by a
    supplement), told once (no clock), in review (the case's period; a waiting task without
    a light), extended (R13), in an excluded period and awaiting a supplement (paused, R12);
    tasks in the matter's order."""
    clerk = await web("clerk")
    supervisor = await web("supervisor")
    complete = ("SQS", "PMT", "GLZD", "JKZM")
    received = await received_case(clerk, SPJY, complete)
    noticed = await received_case(clerk, SPJY, complete[1:])
    await clerk.post(f"/web/cases/{noticed}/notice", data={"defective": ""})
    resupplied = await received_case(clerk, SPJY, complete[1:])
    await clerk.post(f"/web/cases/{resupplied}/notice", data={"defective": ""})
    await clerk.post(f"/web/cases/{resupplied}/supplement", data={"sha_SQS": sha("SQS")})
    in_review = await accepted_case(clerk)
    waiting = await received_case(clerk, BDC, ("SQS", "MMHT"))
    await clerk.post(f"/web/cases/{waiting}/accept")
    extended = await accepted_case(clerk)
    await supervisor.post(f"/web/cases/{extended}/extend", data={"reason": "需组织专家论证"})
    excluded = await accepted_case(clerk)
    form = {"procedure": "testing", "reason": "需检测样品", "expected_wd": "5"}
    await supervisor.post(f"/web/cases/{excluded}/exclude", data=form)
    asked = await accepted_case(clerk)
    for reviewer, data in (
        ("rev-SCJG", {"outcome": "request_supplement", "items": "SQS=申请书签章不全"}),
        ("rev-CGJ", {"outcome": "approve"}),
    ):
        decided = await (await web(reviewer)).post(f"/web/cases/{asked}/decision", data=data)
        assert decided.status_code == 200, decided.text

    cases = (received, noticed, resupplied, in_review, waiting, extended, excluded, asked)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "status", no_workflow_query)
        lines = board_lines(await supervisor.get("/web/board"))

    for case_no in cases:
        assert lines[case_no] == line_of(await engine.status(case_no)), case_no
    stages = {lines[case_no][0] for case_no in cases}
    assert {"已收件，待审查材料", "补正中（计时暂停）", "特别程序中（计时暂停）"} <= stages
    assert lines[waiting][3][0] == ("ZRZY", "等待前置审查", None)
    assert lines[asked][2] == "paused"


async def test_R3_the_clerk_issues_the_one_time_notice_from_the_case_page(web: Login) -> None:
    """R2, R3: with SQS missing the page previews the notice naming the material by its name
    and offers no 受理 (only the case's next possible actions); issuing it shows the notice as
    issued (printable) and the stage waits for the supplement; accepting anyway (a forged
    post) is refused (one line)."""
    clerk = await web("clerk")
    case_no = await received_case(clerk, SPJY, ("PMT", "GLZD", "JKZM"))
    page = await clerk.get(f"/web/cases/{case_no}")
    assert "一次性告知书（预览）" in page.text and "食品经营许可申请书：未提交" in page.text
    assert f"/web/cases/{case_no}/accept" not in page.text and "/notice" in page.text
    refused = await clerk.post(f"/web/cases/{case_no}/accept")
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    issued = await clerk.post(f"/web/cases/{case_no}/notice", data={"defective": "PMT=比例不符"})
    assert issued.status_code == 200, issued.text
    assert "已一次性告知" in issued.text and "已出具文书" in issued.text


async def test_R4_R12_the_clerk_records_the_supplement_of_the_asked_items(web: Login) -> None:
    """R4, R12: after the one-time notice the page offers the supplement form with a file
    input per asked item (and the accept form no more); an item not asked for is refused as
    one Chinese line naming 补正材料; uploading the asked file takes the case back to the
    window's check, and the supplement form is gone."""
    clerk = await web("clerk")
    case_no = await received_case(clerk, SPJY, ("PMT", "GLZD", "JKZM"))
    assert "supplement" not in actions_of(await clerk.get(f"/web/cases/{case_no}"))
    noticed = await clerk.post(f"/web/cases/{case_no}/notice", data={"defective": ""})
    assert noticed.status_code == 200, noticed.text
    assert actions_of(noticed) == {"supplement", "withdraw"}
    assert 'name="file_SQS"' in noticed.text and 'name="file_PMT"' not in noticed.text
    supervisor = await web("supervisor")
    assert actions_of(await supervisor.get(f"/web/cases/{case_no}")) == set()

    unasked = await clerk.post(f"/web/cases/{case_no}/supplement", data={"sha_PMT": sha("x")})
    assert unasked.status_code == 422
    assert alert(unasked).startswith("未能补正：补正材料") and "materials: " in alert(unasked)
    empty = await clerk.post(f"/web/cases/{case_no}/supplement", data={"sha_SQS": ""})
    assert empty.status_code == 422 and "materials: " in alert(empty)

    files = {"file_SQS": ("申请书.txt", "食品经营许可申请书".encode(), "text/plain")}
    done = await clerk.post(f"/web/cases/{case_no}/supplement", files=files)
    assert done.status_code == 200, done.text
    assert "已补正" in done.text and "已收件，待审查材料" in done.text
    assert "supplement" not in actions_of(done) and "accept" in actions_of(done)


async def test_R18_the_clerk_withdraws_the_application_with_a_reason(
    web: Login, sessions: sessionmaker[Session]
) -> None:
    """R18: during the review the clerk is offered 撤回 (not 收费 nor 送达); an empty reason is
    refused naming 理由; with a reason the case is withdrawn, the reason is recorded, and a
    second withdrawal is refused as one line (409), kept in the record (R21)."""
    clerk = await web("clerk")
    case_no = await accepted_case(clerk)
    page = await clerk.get(f"/web/cases/{case_no}")
    assert actions_of(page) == {"withdraw"}
    blank = await clerk.post(f"/web/cases/{case_no}/withdraw", data={"reason": " "})
    assert blank.status_code == 422
    assert alert(blank).startswith("未能撤回：理由") and "reason: " in alert(blank)

    done = await clerk.post(f"/web/cases/{case_no}/withdraw", data={"reason": "申请人另行选址"})
    assert done.status_code == 200, done.text
    assert "已撤回" in done.text and actions_of(done) == set()
    with sessions() as session:
        withdrawn = [e for e in events_of(session, case_no) if e.type == "CaseWithdrawn"]
    assert [e.payload["reason"] for e in withdrawn] == ["申请人另行选址"]

    again = await clerk.post(f"/web/cases/{case_no}/withdraw", data={"reason": "再次撤回"})
    assert again.status_code == 409 and "未能撤回" in alert(again)
    assert "Traceback" not in again.text
    await recorded(sessions, case_no, "ActionRefused", 1)


async def test_R15_the_fee_form_appears_only_when_the_case_awaits_the_fee(
    web: Login, sessions: sessionmaker[Session]
) -> None:
    """R15: a BDC case is approved by SW and ZJJ, then ZRZY; only then the clerk is offered
    收费, filled with the catalogue's amount; a wrong amount is refused naming 收费金额 (the
    case is unchanged); 80.00 with a receipt number takes the fee and the case awaits delivery."""
    clerk = await web("clerk")
    case_no = await received_case(clerk, BDC, ("SQS", "MMHT"))
    accepted = await clerk.post(f"/web/cases/{case_no}/accept")
    assert accepted.status_code == 200, accepted.text
    assert "fee" not in actions_of(accepted)
    for reviewer in ("rev-SW", "outsider", "rev-ZRZY"):
        decided = await (await web(reviewer)).post(
            f"/web/cases/{case_no}/decision", data={"outcome": "approve"}
        )
        assert decided.status_code == 200, (reviewer, decided.text)
    page = await clerk.get(f"/web/cases/{case_no}")
    assert "已准予，待缴费" in page.text
    assert actions_of(page) == {"fee"} and 'name="amount_yuan" required' in page.text
    assert 'value="80"' in page.text

    wrong = await clerk.post(
        f"/web/cases/{case_no}/fee", data={"amount_yuan": "8.00", "receipt_no": "R-1"}
    )
    assert wrong.status_code == 422
    assert alert(wrong).startswith("未能收费：收费金额") and "amount_yuan: " in alert(wrong)
    junk = await clerk.post(
        f"/web/cases/{case_no}/fee", data={"amount_yuan": "八十", "receipt_no": "R-1"}
    )
    assert junk.status_code == 422 and "amount_yuan: " in alert(junk)

    paid = await clerk.post(
        f"/web/cases/{case_no}/fee", data={"amount_yuan": "80.00", "receipt_no": "R-0001"}
    )
    assert paid.status_code == 200, paid.text
    assert "已收费" in paid.text and actions_of(paid) == {"deliver"}
    with sessions() as session:
        types = [e.type for e in events_of(session, case_no)]
    assert types.count("FeeCollected") == 1


async def test_R13_the_supervisor_extends_the_case_once_from_the_case_page(
    web: Login, sessions: sessionmaker[Session]
) -> None:
    """R13: the supervisor, and nobody else, is offered 延期 on a case in review; an empty
    reason is refused naming 理由; with a reason the case is extended and the form is gone; a
    second extension is refused as one line (409) and kept in the record (R21)."""
    clerk = await web("clerk")
    case_no = await accepted_case(clerk)
    supervisor = await web("supervisor")
    page = await supervisor.get(f"/web/cases/{case_no}")
    assert actions_of(page) == {"extend"} | SUPERVISION
    for name in ("clerk", "rev-SCJG", "auditor"):
        other = await (clerk if name == "clerk" else await web(name)).get(f"/web/cases/{case_no}")
        assert "extend" not in actions_of(other)

    blank = await supervisor.post(f"/web/cases/{case_no}/extend", data={"reason": ""})
    assert blank.status_code == 422 and alert(blank).startswith("未能延期：理由")
    done = await supervisor.post(f"/web/cases/{case_no}/extend", data={"reason": "需组织专家论证"})
    assert done.status_code == 200, done.text
    assert "已延期一次" in done.text and actions_of(done) == SUPERVISION
    again = await supervisor.post(f"/web/cases/{case_no}/extend", data={"reason": "再延"})
    assert again.status_code == 409 and "未能延期" in alert(again)
    found = await recorded(sessions, case_no, "ActionRefused", 1)
    assert [(e.actor_id, e.payload["action"]) for e in found] == [("supervisor", "extend")]


async def test_R17_the_inbox_counts_remaining_working_days_not_calendar_days(
    web: Login, app: FastAPI, tokens: dict[str, str], settings: Settings
) -> None:
    """R17: ZRZY's 8-WD task on a GHXK case spans a weekend whatever the day it starts; the
    console's inbox and the API's GET /inbox both show the working days left to its last day
    (8, as the configured calendar counts them), fewer than the calendar days."""
    clerk = await web("clerk")
    case_no = await received_case(clerk, GHXK, ("SQB", "XMPZ", "SJFA", "RFSJ"))
    assert (await clerk.post(f"/web/cases/{case_no}/accept")).status_code == 200
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {tokens['rev-ZRZY']}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as api:
        inbox = (await api.get("/inbox", headers=headers)).json()
    [task] = inbox["tasks"]
    last_day = date.fromisoformat(task["last_day"])
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    calendar = WorkingCalendar(configured_calendar_data(settings, today.year, last_day.year))
    working = calendar.working_days_between(today, last_day)
    assert task["remaining_days"] == working == 8
    assert working < (last_day - today).days

    page = await (await web("rev-ZRZY")).get("/web/inbox")
    row = page.text.split(f">{case_no}</a>")[1]
    assert f'<td class="remaining">{working}</td>' in row


async def test_R19_the_inbox_light_is_the_case_status_light(
    web: Login, app: FastAPI, tokens: dict[str, str], engine: CaseService
) -> None:
    """R19: each task's light in GET /inbox and on the console's inbox is the light the case's
    status gives that task (green with 8 WD of 8 left), read from the store, not the case."""
    clerk = await web("clerk")
    case_no = await received_case(clerk, GHXK, ("SQB", "XMPZ", "SJFA", "RFSJ"))
    assert (await clerk.post(f"/web/cases/{case_no}/accept")).status_code == 200
    status = await engine.status(case_no)
    expected = next(t.clock.light for t in status.tasks if t.department == "ZRZY" and t.clock)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {tokens['rev-ZRZY']}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as api:
        [task] = (await api.get("/inbox", headers=headers)).json()["tasks"]

    assert task["light"] == expected.value == "green"
    page = await (await web("rev-ZRZY")).get("/web/inbox")
    assert 'class="light-green"' in page.text.split(f">{case_no}</a>")[1]


async def test_the_inbox_and_the_board_are_paged(web: Login) -> None:
    """Three accepted cases, one a page: the inbox and the board show 共 3 条, one case per
    page, and 下一页/上一页 walk through all three; the flagged list is empty (共 0 条)."""
    clerk = await web("clerk")
    cases = {await accepted_case(clerk) for _ in range(3)}
    for name, path, table in (
        ("rev-CGJ", "/web/inbox", "inbox"),
        ("supervisor", "/web/board", "board"),
        ("auditor", "/web/board", "board"),
    ):
        client = await web(name)
        seen: list[str] = []
        url: str | None = f"{path}?limit=1"
        while url:
            page = await client.get(url)
            assert page.status_code == 200, page.text
            assert "共 3 条" in page.text
            listed = set(re.findall(r"371600-\d{8}-\d{6}", page.text.split(f'id="{table}"')[1]))
            seen.extend(sorted(listed & cases))
            found = re.search(r'<a href="([^"]+)" rel="next">下一页</a>', page.text)
            url = html.unescape(found.group(1)) if found else None
        assert sorted(seen) == sorted(cases), name
        assert "上一页" in page.text
        if table == "board":
            assert "共 0 条" in page.text
    bad = await (await web("supervisor")).get("/web/board?limit=0")
    assert bad.status_code == 422 and alert(bad).startswith("limit: ")


async def test_R12_the_supervisor_opens_and_closes_an_excluded_period_from_the_case_page(
    web: Login,
) -> None:
    """R12 (art. 45): the supervisor picks 检测 with its expected length and reason; the page
    shows the procedure, the stage and paused clocks, and only the form that ends it; a bad
    length is refused naming 预计工作日; closing it resumes the review."""
    clerk = await web("clerk")
    case_no = await accepted_case(clerk)
    supervisor = await web("supervisor")
    form = {"procedure": "testing", "reason": "需检测样品", "expected_wd": "5"}

    bad = await supervisor.post(f"/web/cases/{case_no}/exclude", data={**form, "expected_wd": "0"})
    assert bad.status_code == 422 and alert(bad).startswith("未能特别程序：预计工作日")
    opened = await supervisor.post(f"/web/cases/{case_no}/exclude", data=form)
    assert opened.status_code == 200, opened.text
    assert "检测：需检测样品" in opened.text and "特别程序中（计时暂停）" in opened.text
    assert actions_of(opened) == {"resume"}
    closed = await supervisor.post(f"/web/cases/{case_no}/resume", data={"result": "检测合格"})
    assert closed.status_code == 200, closed.text
    assert "并联审查中" in closed.text and "resume" not in actions_of(closed)


async def test_R10_the_meeting_form_marks_unticked_departments_absent(web: Login) -> None:
    """R10: SCJG is ticked present and CGJ is not: CGJ is deemed to agree by absence, shown as
    缺席默认同意 on the case page, and the decision waits for SCJG."""
    clerk = await web("clerk")
    case_no = await accepted_case(clerk)
    supervisor = await web("supervisor")
    form = {"departments": ["SCJG", "CGJ"], "present_SCJG": "1", "minutes": "会议纪要"}

    recorded_page = await supervisor.post(f"/web/cases/{case_no}/meeting", data=form)

    assert recorded_page.status_code == 200, recorded_page.text
    assert recorded_page.text.count("<td>缺席默认同意</td>") == 1  # CGJ's row of the tasks
    assert "尚未作出" in recorded_page.text


async def test_R23_a_case_page_form_sent_twice_has_one_effect(
    web: Login, sessions: sessionmaker[Session]
) -> None:
    """R23 (an outage is never a refusal): the accept form of one rendering of the case page,
    sent twice (a double click, a resend after an outage), is answered 已受理 both times and
    recorded once, with no refusal kept; the page it answers with is a new rendering with a
    key of its own, and accepting again from it is refused and kept (R21)."""
    clerk = await web("clerk")
    case_no = await received_case(clerk, SPJY, ("SQS", "PMT", "GLZD", "JKZM"))
    page = await clerk.get(f"/web/cases/{case_no}")
    keys = set(re.findall(r'name="page_key" value="(web-[0-9a-f]{32})"', page.text))
    assert len(keys) == 1, keys
    (key,) = keys
    for _ in range(2):
        answer = await clerk.post(f"/web/cases/{case_no}/accept", data={"page_key": key})
        assert answer.status_code == 200 and "已受理" in answer.text, answer.text
    with sessions() as session:
        types = [e.type for e in events_of(session, case_no)]
    assert types.count("ApplicationAccepted") == 1 and "ActionRefused" not in types
    (fresh,) = set(re.findall(r'name="page_key" value="(web-[0-9a-f]{32})"', answer.text))
    assert fresh != key
    again = await clerk.post(f"/web/cases/{case_no}/accept", data={"page_key": fresh})
    assert again.status_code >= 400 and alert(again)
    (refused,) = await recorded(sessions, case_no, "ActionRefused", 1)
    assert refused.payload["action"] == "accept"
