"""Forged posts and guessing, on the time-skipping Temporal server and a real store: a console
post without the CSRF token of its page, or from another site (its Origin or Referer), is
refused with 403 and, on a case by a logged-in person, kept in the case's record (R21, R22);
a token is bound to the browser and its login; failed console logins are rate-limited (429);
a decision naming another department than the reviewer's own is refused and kept."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.service import CaseService
from approval.store.audit_log import events_of
from tests.api import test_api
from tests.api.test_api import Api, accepted_case
from tests.web.test_web import SPJY, Login, alert, app, console_client, received_case, tokens, web
from tests.workflows.test_workflow import recorded

__all__ = ["app", "tokens", "web"]  # the console's fixtures, shared with tests/web/test_web.py
api = test_api.api  # the API's fixture: its users and their tokens
FOREIGN = "http://evil.example"
AS_TYPED = httpx.Auth()
"""A post as the test wrote it: without the CSRF header the console clients add."""


def page_token(page: httpx.Response) -> str:
    """The CSRF token the page's forms carry."""
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
    assert found, page.text
    return found.group(1)


def refused_as(response: httpx.Response, code: str) -> str:
    """A console refusal before the route: 403, its machine code; its line."""
    assert response.status_code == 403, response.text
    assert f'data-code="{code}"' in response.text and "Traceback" not in response.text
    return alert(response)


async def stage_of(clerk: httpx.AsyncClient, case_no: str) -> str:
    """The stage the case page shows."""
    found = re.search(r'<td id="stage">(.*?)</td>', (await clerk.get(f"/web/cases/{case_no}")).text)
    assert found
    return found.group(1)


async def test_R22_R21_a_console_post_without_its_pages_csrf_token_is_refused_and_kept(
    web: Login, sessions: sessionmaker[Session]
) -> None:
    """CSRF refused (R22): a clerk's accept posted with no token, or another token (not even
    ASCII), is the 403 page and the case is not accepted; each attempt is an ActionRefused
    naming csrf_token under the action's name (R21). The token the case page's form carries
    is accepted."""
    clerk = await web("clerk")
    case_no = await received_case(clerk, SPJY, ("SQS", "PMT", "GLZD", "JKZM"))
    path = f"/web/cases/{case_no}/accept"
    line = refused_as(await clerk.post(path, auth=AS_TYPED), "csrf_invalid")
    assert line.startswith("csrf_token: ")
    for forged in ("0" * 64, "令牌" * 32):
        refused_as(
            await clerk.post(path, data={"csrf_token": forged}, auth=AS_TYPED), "csrf_invalid"
        )
    assert await stage_of(clerk, case_no) == "已收件，待审查材料"
    found = await recorded(sessions, case_no, "ActionRefused", 3)
    assert [(e.actor_id, e.payload["action"], e.payload["field"]) for e in found] == [
        ("clerk", "accept", "csrf_token")
    ] * 3

    token = page_token(await clerk.get(f"/web/cases/{case_no}"))
    accepted = await clerk.post(path, data={"csrf_token": token}, auth=AS_TYPED)
    assert accepted.status_code == 200, accepted.text
    assert "已受理" in accepted.text


async def test_R22_R21_a_post_from_another_site_is_refused_and_kept(
    web: Login, sessions: sessionmaker[Session]
) -> None:
    """R22: with a valid token, a post whose Origin is another site, or ``null``, or without
    an Origin but with another site's Referer, is refused 403 naming origin or referer, and
    kept (R21); the console's own Origin passes."""
    clerk = await web("clerk")
    case_no = await received_case(clerk, SPJY, ("SQS", "PMT", "GLZD", "JKZM"))
    path = f"/web/cases/{case_no}/accept"
    for headers, field in (
        ({"Origin": FOREIGN}, "origin"),
        ({"Origin": "null"}, "origin"),
        ({"Origin": "http://console.test.evil.example"}, "origin"),
        ({"Referer": f"{FOREIGN}/form.html"}, "referer"),
    ):
        line = refused_as(await clerk.post(path, headers=headers), "foreign_origin")
        assert line.startswith(f"{field}: "), line
    found = await recorded(sessions, case_no, "ActionRefused", 4)
    assert [e.payload["field"] for e in found] == ["origin", "origin", "origin", "referer"]
    own = {"Origin": "http://console.test", "Referer": "http://console.test/web/cases/x"}
    accepted = await clerk.post(path, headers=own)
    assert accepted.status_code == 200, accepted.text


async def test_R22_the_login_form_needs_its_token_and_a_token_is_bound_to_the_login(
    app: FastAPI, tokens: dict[str, str]
) -> None:
    """R22: the login form posted without its token is refused (login CSRF); its own token
    logs in; the token of the page before login no longer works after it (bound to the
    login cookie), the token of a page after login does (logout)."""
    browser = await console_client(app)
    try:
        before = page_token(await browser.get("/web/login"))
        refused_as(
            await browser.post("/web/login", data={"token": tokens["clerk"]}, auth=AS_TYPED),
            "csrf_invalid",
        )
        form = {"token": tokens["clerk"], "csrf_token": before}
        assert (await browser.post("/web/login", data=form, auth=AS_TYPED)).status_code == 303
        stale = await browser.post("/web/logout", data={"csrf_token": before}, auth=AS_TYPED)
        refused_as(stale, "csrf_invalid")
        after = page_token(await browser.get("/web/cases/new"))
        assert after != before
        out = await browser.post("/web/logout", data={"csrf_token": after}, auth=AS_TYPED)
        assert out.status_code == 303
    finally:
        await browser.aclose()


async def test_R22_failed_console_logins_are_rate_limited_per_client(
    engine: CaseService, sessions: sessionmaker[Session], settings: Settings, tokens: dict[str, str]
) -> None:
    """R22: successful logins do not count; past APPROVAL_LOGIN_FAILURE_RATE_LIMIT failed ones
    a client's next login, even with a good token, is the 429 page with Retry-After and a
    Chinese line; another client may still log in."""
    limited = settings.model_copy(update={"login_failure_rate_limit": "2/minute"})
    app = create_app(service=engine, sessions=sessions, settings=limited)
    browser = await console_client(app)
    try:
        for _ in range(3):
            assert (
                await browser.post("/web/login", data={"token": tokens["clerk"]})
            ).status_code == 303
        for _ in range(2):
            failed = await browser.post("/web/login", data={"token": "guess"})
            assert failed.status_code == 401
        refused = await browser.post("/web/login", data={"token": tokens["clerk"]})
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert 'data-code="rate_limited"' in refused.text and "请求过于频繁" in alert(refused)
    finally:
        await browser.aclose()
    other = await console_client(app, "10.0.0.9")
    try:
        assert (await other.post("/web/login", data={"token": tokens["clerk"]})).status_code == 303
    finally:
        await other.aclose()


async def test_R21_R22_a_decision_naming_another_department_is_refused_and_kept(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R22: a ZRZY reviewer's decision whose body names ZJJ is a 403 naming the department
    and the task stays open; the attempt is an ActionRefused in the reviewer's name (R21).
    Naming its own department is the same as naming none: the decision is taken."""
    case_no = await accepted_case(api, catalogue)
    path = f"/cases/{case_no}/decision"
    forged = await api.call("reviewer", "POST", path, {"outcome": "approve", "department": "ZJJ"})
    assert forged.status_code == 403, forged.text
    assert forged.json()["detail"]["field"] == "department"
    [refusal] = await recorded(sessions, case_no, "ActionRefused", 1)
    assert (refusal.actor_id, refusal.actor_department) == ("reviewer", "ZRZY")
    assert (refusal.payload["action"], refusal.payload["field"]) == ("decide", "department")
    with sessions() as session:
        assert "ReviewApproved" not in [e.type for e in events_of(session, case_no)]
    own = await api.call("reviewer", "POST", path, {"outcome": "approve", "department": "ZRZY"})
    assert own.status_code == 200, own.text
    assert await recorded(sessions, case_no, "ReviewApproved", 1)


async def test_R21_R22_a_console_decision_form_naming_another_department_is_refused_and_kept(
    web: Login, sessions: sessionmaker[Session]
) -> None:
    """R22: an SCJG reviewer's inbox form posted with ``department=CGJ`` added is the 403 page
    naming the department; the attempt is kept in the case's record (R21) and CGJ's task is
    still open."""
    clerk = await web("clerk")
    case_no = await received_case(clerk, SPJY, ("SQS", "PMT", "GLZD", "JKZM"))
    assert (await clerk.post(f"/web/cases/{case_no}/accept")).status_code == 200
    reviewer = await web("rev-SCJG")
    form = {"outcome": "approve", "department": "CGJ", "request_id": "forged-dept-1"}
    forged = await reviewer.post(f"/web/cases/{case_no}/decision", data=form)
    assert forged.status_code == 403, forged.text
    assert alert(forged).startswith("department: 部门审批人员只能代表本部门 SCJG")
    [refusal] = await recorded(sessions, case_no, "ActionRefused", 1)
    assert (refusal.actor_id, refusal.payload["field"]) == ("rev-SCJG", "department")
    with sessions() as session:
        assert "ReviewApproved" not in [e.type for e in events_of(session, case_no)]
