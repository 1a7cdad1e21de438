"""The public progress page (/web/progress) on the time-skipping Temporal server and a real
store: the applicant, without a login, types the case number and the check code into a form
(posted with its CSRF token, as a browser does), and sees the stage, the dates, the outcome
and each department's state, nothing personal; on a completed case, rates it once (R20). A
wrong code and an unknown case are the same page; the page shares the JSON route's public
rate limit; an outage is "try again later", never a refusal."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from approval.api.app import create_app
from approval.config import Settings
from approval.contracts import DATA_CONVERTER
from approval.domain.calendar import SHANGHAI
from approval.domain.catalogue import Catalogue
from approval.domain.check_code import PROGRESS_PATH, check_code
from approval.domain.labels import STAGE_LABELS
from approval.domain.models import RATING_LABELS
from approval.domain.state import Stage
from approval.environments import running_worker
from approval.service import CaseService
from approval.store.audit_log import events_of
from tests.api.test_public import GHXK, completed_case
from tests.processes import new_namespace
from tests.web.test_web import app
from tests.workflows.test_workflow import accepted, recorded
from workflows.case_workflow import CaseWorkflow

__all__ = ["app"]  # the console's fixture, shared with tests/web/test_web.py

PERSONAL = ("李四", "37160219900101123X", "rev-", "clerk-7", "不符合审查标准")
"""What the page never shows: the applicant's name and id number (tests.workflows.
test_workflow.submit), the reviewers' and the clerk's ids, a department's reasons."""


def hidden(page: str, name: str) -> str:
    """The value of the page's hidden input ``name``."""
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert found is not None, f"no hidden {name} in the page"
    return html.unescape(found[1])


def alert(page: str) -> tuple[str, str | None]:
    """The page's one line (``field: reason``) and its machine code."""
    found = re.search(r'<p class="error" role="alert"(?: data-code="([^"]+)")?>([^<]*)</p>', page)
    assert found is not None, "no alert in the page"
    return html.unescape(found[2]), found[1]


class Browser:
    """A browser-like client of the public page: it opens the form (getting its CSRF cookie)
    and posts each form with the token the page put in it, and with the page's Origin."""

    def __init__(self, app: FastAPI, address: str = "127.0.0.1") -> None:
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 40000)),
            base_url="http://console.test",
        )
        self.page = ""

    async def open(self) -> httpx.Response:
        """The lookup form."""
        response = await self.http.get(PROGRESS_PATH)
        self.page = response.text
        return response

    async def post(self, path: str, form: dict[str, str | list[str]]) -> httpx.Response:
        """Post ``form`` with the current page's CSRF token and the site's Origin."""
        data = {"csrf_token": hidden(self.page, "csrf_token"), **form}
        headers = {"Origin": "http://console.test"}
        response = await self.http.post(path, data=data, headers=headers)
        self.page = response.text
        return response

    async def look_up(self, case_no: str, code: str) -> httpx.Response:
        """Open the form and ask for the case."""
        await self.open()
        return await self.post(PROGRESS_PATH, {"case_no": case_no, "check_code": code})

    async def rate(self, **fields: str | list[str]) -> httpx.Response:
        """Post the rating form of the current page, with ``fields``."""
        form: dict[str, str | list[str]] = {
            name: hidden(self.page, name) for name in ("case_no", "check_code", "request_id")
        }
        return await self.post(f"{PROGRESS_PATH}/rating", {**form, **fields})


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[Browser]:
    """A browser of the public page, not logged in."""
    opened = Browser(app)
    yield opened
    await opened.http.aclose()


def code_of(settings: Settings, case_no: str) -> str:
    return check_code(case_no, settings.audit_key_bytes)


async def test_R20_the_public_page_shows_stage_dates_outcome_and_departments_nothing_personal(
    browser: Browser, engine: CaseService, catalogue: Catalogue, settings: Settings
) -> None:
    """R20, R22: without a login, the form (with its CSRF token) → the completed case's page:
    its stage, received, accepted, decided and completed dates, 准予许可 with its day, each
    department by name with its state in Chinese, and the rating form with the five levels and
    the departments and the window by name; no applicant, id number, reviewer or reason, and
    no case number or code in the address. A case in review: 尚未作出决定, no rating form."""
    form = await browser.open()
    assert form.status_code == 200 and 'name="check_code"' in form.text
    assert hidden(form.text, "csrf_token")
    case_no = await completed_case(engine, catalogue)
    found = await browser.look_up(case_no, code_of(settings, case_no).lower())
    assert found.status_code == 200, found.text
    assert found.url.path == PROGRESS_PATH and not found.url.query
    page = found.text
    status = await engine.status(case_no)
    assert status.decision is not None and status.accepted_at is not None
    assert f'<td id="stage">{STAGE_LABELS[Stage.COMPLETED]}</td>' in page
    assert 'data-outcome="approved">准予许可' in page
    moments = {
        "received": status.received_at,
        "accepted": status.accepted_at,
        "decided": status.decision.decided_at,
    }
    for label, moment in moments.items():
        assert f'<td id="{label}">{moment.astimezone(SHANGHAI).date()}</td>' in page
    assert re.search(r'<td id="completed">\d{4}-\d\d-\d\d</td>', page)
    tasks = page.split('id="tasks"')[1].split("</table>")[0]
    for review in catalogue.matter(GHXK).reviews:
        assert f"<td>{review.name}</td><td>同意</td>" in tasks
    rating = page.split('id="rating"')[1]
    assert 'id="rating-form"' in rating
    for label in RATING_LABELS.values():
        assert f"> {label}</label>" in rating
    assert "窗口（首问负责）" in rating and 'maxlength="500"' in rating
    for personal in PERSONAL:
        assert personal not in page

    in_review = await accepted(engine, catalogue)
    open_case = (await browser.look_up(in_review, code_of(settings, in_review))).text
    assert "尚未作出决定" in open_case and 'id="rating-form"' not in open_case
    assert "办结后可在本页面对办理服务作出评价" in open_case


async def test_a_wrong_code_and_an_unknown_case_are_the_same_chinese_page(
    browser: Browser, engine: CaseService, catalogue: Catalogue, settings: Settings
) -> None:
    """No oracle: a wrong code on a real case and the right-looking code of a case that does
    not exist give the same 404 page and line (but for the number typed, shown again); a
    malformed code is a 422 naming the field in Chinese."""
    case_no = await accepted(engine, catalogue)
    right = code_of(settings, case_no)
    wrong = f"{(int(right, 16) + 1) % 16**16:016X}"
    unknown = "371600-20260101-999999"
    on_case = await browser.look_up(case_no, wrong)
    no_case = await browser.look_up(unknown, code_of(settings, unknown))
    assert on_case.status_code == no_case.status_code == 404
    assert alert(on_case.text) == alert(no_case.text)
    assert alert(on_case.text)[0].startswith("case_no: 没有与该办件编号和查询码相符的办件")
    token = hidden(on_case.text, "csrf_token")
    assert on_case.text.replace(case_no, "N") == no_case.text.replace(unknown, "N")
    assert token == hidden(no_case.text, "csrf_token")
    malformed = await browser.look_up(case_no, "XYZ")
    assert malformed.status_code == 422
    line, machine = alert(malformed.text)
    assert line.startswith("check_code: 查询码应为") and machine == "invalid_input"


async def test_R20_one_rating_through_the_form_the_second_refused_in_chinese(
    browser: Browser,
    engine: CaseService,
    catalogue: Catalogue,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    """R20, R23, R21: the applicant rates 不满意 about ZJJ with a comment: thanked, the page
    shows the rating and no form; the same form sent again (a double submit: its request id)
    is thanked again and the record holds one CaseRated by ``applicant:<case>`` and one
    follow-up; another rating is the page with the Chinese refusal naming the level
    (``already_rated``), kept in the record."""
    case_no = await completed_case(engine, catalogue)
    await browser.look_up(case_no, code_of(settings, case_no))
    form_page = browser.page
    fields: dict[str, str | list[str]] = {
        "level": "dissatisfied",
        "concerns": ["ZJJ"],
        "comment": "补正要求前后不一",
    }
    thanked = await browser.rate(**fields)
    assert thanked.status_code == 200, thanked.text
    assert "感谢您的评价：不满意" in thanked.text
    assert "已评价：不满意" in thanked.text and 'id="rating-form"' not in thanked.text
    browser.page = form_page
    twice = await browser.rate(**fields)
    assert twice.status_code == 200, twice.text
    (rated,) = await recorded(sessions, case_no, "CaseRated", 1)
    assert rated.actor_id == f"applicant:{case_no}"
    assert (rated.payload["level"], rated.payload["concerns"]) == ("dissatisfied", ["ZJJ"])
    assert rated.payload["comment"] == "补正要求前后不一"
    assert len(await recorded(sessions, case_no, "FollowUpOpened", 1)) == 1

    browser.page = form_page.replace(hidden(form_page, "request_id"), f"web-{uuid.uuid4().hex}")
    refused = await browser.rate(level="very_satisfied")
    assert refused.status_code == 409, refused.text
    line, machine = alert(refused.text)
    assert line.startswith("level: 本案已于") and "每案只能评价一次" in line
    assert machine == "already_rated"
    with sessions() as session:
        assert len(events_of(session, case_no, types=("CaseRated",))) == 1
    (kept,) = await recorded(sessions, case_no, "ActionRefused", 1)
    assert (kept.actor_id, kept.payload["action"]) == (f"applicant:{case_no}", "rate")


async def test_R20_a_good_rating_ends_the_case_and_a_later_one_is_refused_in_chinese(
    browser: Browser,
    engine: CaseService,
    catalogue: Catalogue,
    settings: Settings,
    sessions: sessionmaker[Session],
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """R20, R23: 非常满意 ends the case's workflow; the same form sent again after that still
    has one effect and is thanked; another rating is refused with the rule's Chinese reason
    (the day it was rated), not the engine's "closed"."""
    case_no = await completed_case(engine, catalogue)
    await browser.look_up(case_no, code_of(settings, case_no))
    form_page = browser.page
    assert (await browser.rate(level="very_satisfied")).status_code == 200
    handle = time_skipping_env.client.get_workflow_handle_for(CaseWorkflow.run, case_no)
    await handle.result()
    browser.page = form_page
    again = await browser.rate(level="very_satisfied")
    assert again.status_code == 200 and "感谢您的评价：非常满意" in again.text
    browser.page = form_page.replace(hidden(form_page, "request_id"), "web-another")
    refused = await browser.rate(level="satisfied", comment="再评一次")
    assert refused.status_code == 409
    line, machine = alert(refused.text)
    assert line.startswith("level: 本案已于") and "每案只能评价一次" in line
    assert machine == "already_rated"
    with sessions() as session:
        (rated,) = events_of(session, case_no, types=("CaseRated",))
    assert rated.payload["level"] == "very_satisfied"


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        ({"level": ""}, "level: 请选择评价等级"),
        ({"level": "satisfied", "comment": "慢" * 501}, "comment: 评价意见不能超过500字"),
        ({"level": "satisfied", "concerns": ["ZZZ"]}, "concerns: ZZZ 不是本案的审查部门"),
    ],
)
async def test_R20_a_bad_rating_form_is_the_page_again_naming_the_field(
    browser: Browser,
    engine: CaseService,
    catalogue: Catalogue,
    settings: Settings,
    sessions: sessionmaker[Session],
    fields: dict[str, str | list[str]],
    line: str,
) -> None:
    """R20: no level, a comment past 500 characters, a department not on the case: the page
    again with the Chinese line naming the field and the form to correct it; nothing rated."""
    case_no = await completed_case(engine, catalogue)
    await browser.look_up(case_no, code_of(settings, case_no))
    response = await browser.rate(**fields)
    assert response.status_code in (409, 422), response.text
    assert alert(response.text)[0].startswith(line)
    assert 'id="rating-form"' in response.text
    with sessions() as session:
        assert events_of(session, case_no, types=("CaseRated",)) == []


async def test_R22_the_rating_form_needs_its_csrf_token(
    browser: Browser,
    app: FastAPI,
    engine: CaseService,
    catalogue: Catalogue,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    """R22: the rating posted without the page's CSRF token, with another browser's token,
    or from another site is the 403 page (``csrf_invalid``, ``foreign_origin``); nothing is
    rated."""
    case_no = await completed_case(engine, catalogue)
    await browser.look_up(case_no, code_of(settings, case_no))
    form = {n: hidden(browser.page, n) for n in ("case_no", "check_code", "request_id")}
    path = f"{PROGRESS_PATH}/rating"
    origin = {"Origin": "http://console.test"}
    without = await browser.http.post(path, data={**form, "level": "satisfied"}, headers=origin)
    other = Browser(app, "127.0.0.2")
    await other.open()
    theirs = {**form, "level": "satisfied", "csrf_token": hidden(other.page, "csrf_token")}
    foreign = await browser.http.post(
        path,
        data={**form, "level": "satisfied", "csrf_token": hidden(browser.page, "csrf_token")},
        headers={"Origin": "http://evil.test"},
    )
    crossed = await browser.http.post(path, data=theirs, headers=origin)
    await other.http.aclose()
    for response, machine in ((without, "csrf_invalid"), (crossed, "csrf_invalid")):
        assert response.status_code == 403
        assert alert(response.text)[1] == machine
    assert foreign.status_code == 403 and alert(foreign.text)[1] == "foreign_origin"
    with sessions() as session:
        assert events_of(session, case_no, types=("CaseRated",)) == []


async def test_R22_the_page_shares_the_public_rate_limit_with_the_json_route(
    engine: CaseService, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """R22: each look-up and rating of the page counts against APPROVAL_PUBLIC_RATE_LIMIT
    with the JSON route's queries, per client address: past it, the page is 429 with
    Retry-After and the Chinese line (``rate_limited``); the form itself is not counted, and
    another address is still answered."""
    limited = settings.model_copy(update={"public_rate_limit": "3/minute"})
    app = create_app(service=engine, sessions=sessions, settings=limited)
    unknown = "371600-20260101-999999"
    async with AsyncExitStack() as stack:
        one = Browser(app, "10.0.0.5")
        stack.push_async_callback(one.http.aclose)
        answers = [(await one.look_up(unknown, "0" * 16)).status_code for _ in range(2)]
        query = await one.http.get(f"/public/cases/{unknown}", params={"check_code": "0" * 16})
        refused = await one.look_up(unknown, "0" * 16)
        json_refused = await one.http.get(
            f"/public/cases/{unknown}", params={"check_code": "0" * 16}
        )
        rating = await one.post(
            f"{PROGRESS_PATH}/rating",
            {"case_no": unknown, "check_code": "0" * 16, "level": "satisfied"},
        )
        two = Browser(app, "10.0.0.6")
        stack.push_async_callback(two.http.aclose)
        elsewhere = await two.look_up(unknown, "0" * 16)
    assert [*answers, query.status_code] == [404, 404, 404]
    for response in (refused, rating):
        assert response.status_code == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        line, machine = alert(response.text)
        assert "请求过于频繁" in line and machine == "rate_limited"
    assert json_refused.status_code == 429
    assert elsewhere.status_code == 404


@pytest.fixture
async def own_namespace(dev_env: WorkflowEnvironment) -> Client:
    """A client of a namespace of the test's own on the session's dev server: every test's
    store numbers its cases from 000001, and a case number is its workflow's id (as
    tests/e2e/test_end_to_end.py does)."""
    namespace = await new_namespace(dev_env.client, "public")
    return await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=namespace,
        data_converter=DATA_CONVERTER,
    )


async def test_R20_an_outage_is_try_again_later_never_a_refusal(
    own_namespace: Client,
    settings: Settings,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
) -> None:
    """R20, R23, on the dev server (a real Temporal: the time-skipping server does not hand
    a stopped worker's case to the next one in time): with the worker stopped the engine does
    not answer in time: the page is 503 "请稍后重试" (``engine_unavailable``, Retry-After) with
    the same form (its request id), nothing is kept as a refusal; once the worker is back, the
    same form sent again is thanked, and the case is rated once."""
    client, queue = own_namespace, settings.task_queue
    async with running_worker(client, sessions, task_queue=queue):
        service = CaseService(client, settings, catalogue, sessions)
        case_no = await completed_case(service, catalogue)
    impatient = CaseService(client, settings, catalogue, sessions, answer_within_s=0.5)
    down_app = create_app(service=impatient, sessions=sessions, settings=settings)
    up_app = create_app(service=service, sessions=sessions, settings=settings)
    down, up = Browser(down_app), Browser(up_app)
    try:
        await down.look_up(case_no, code_of(settings, case_no))
        request_id = hidden(down.page, "request_id")
        refused = await down.rate(level="satisfied")
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        line, machine = alert(refused.text)
        assert line.startswith("engine: 请稍后重试") and machine == "engine_unavailable"
        assert hidden(refused.text, "request_id") == request_id
        with sessions() as session:
            assert events_of(session, case_no, types=("ActionRefused", "CaseRated")) == []
        up.http.cookies = down.http.cookies
        up.page = down.page
        async with running_worker(client, sessions, task_queue=queue):
            back = await up.rate(level="satisfied")
            assert back.status_code == 200, back.text
            assert "感谢您的评价：满意" in back.text
    finally:
        await down.http.aclose()
        await up.http.aclose()
    with sessions() as session:
        assert len(events_of(session, case_no, types=("CaseRated",))) == 1
        assert events_of(session, case_no, types=("ActionRefused",)) == []
