"""The API's and the console's edges: paging parameters bounded on every paged list (a 422
naming ``offset`` or ``limit``, never a 500), the security headers on every answer, the
framework's 401 and 405 with their WWW-Authenticate and Allow. The lists need no Temporal
server: the engine is the stand-in of tests/api/test_edges_outages.py."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.http.paging import MAX_LIMIT, MAX_OFFSET
from approval.store.users import create_users_with_tokens
from tests.api.test_edges_outages import stand_in
from tests.web.test_web import alert, console_client

PEOPLE = (("reviewer", "reviewer", "ZRZY"), ("supervisor", "supervisor", None))
API_LISTS = (
    ("reviewer", "/inbox", "offset"),
    ("supervisor", "/supervision/escalations", "offset"),
    ("supervisor", "/supervision/overdue", "offset"),
)
CONSOLE_LISTS = (
    ("reviewer", "/web/inbox", "offset"),
    ("supervisor", "/web/board", "offset"),
    ("supervisor", "/web/board", "flagged_offset"),
)
OUT_OF_RANGE = (
    ("offset", "9223372036854775808"),
    ("offset", "-1"),
    ("offset", str(MAX_OFFSET + 1)),
    ("offset", "1e3"),
    ("limit", "0"),
    ("limit", str(MAX_LIMIT + 1)),
    ("limit", "1" + "0" * 30),
)
SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


@pytest.fixture
async def app(
    sessions: sessionmaker[Session], settings: Settings, catalogue: Catalogue
) -> AsyncIterator[FastAPI]:
    """The app on a real store, the engine a stand-in (the lists read the store only)."""
    yield create_app(stand_in(settings, catalogue), sessions, settings)


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[str, str]:
    """A token per person of PEOPLE."""
    with sessions.begin() as session:
        return create_users_with_tokens(session, PEOPLE, datetime.now(UTC))


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_R22_api_offsets_and_limits_are_bounded_on_every_paged_list(
    api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    """Offsets bounded: every paged API list refuses an offset past 1,000,000 (a 64-bit
    overflow included), a negative or non-integer one, a limit of 0 or past 200, as a 422
    naming the parameter; the bounds themselves are answered (an empty page)."""
    for caller, path, offset in API_LISTS:
        for name, value in OUT_OF_RANGE:
            parameter = offset if name == "offset" else name
            response = await api.get(
                path, params={parameter: value}, headers=bearer(tokens[caller])
            )
            assert response.status_code == 422, (path, parameter, value, response.text)
            assert response.json()["detail"]["field"] == parameter
        edge = {"offset": str(MAX_OFFSET), "limit": str(MAX_LIMIT)}
        page = await api.get(path, params=edge, headers=bearer(tokens[caller]))
        assert page.status_code == 200, page.text
        assert (page.json()["offset"], page.json()["limit"]) == (MAX_OFFSET, MAX_LIMIT)


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_R22_console_offsets_and_limits_are_bounded_on_every_paged_list(
    app: FastAPI, tokens: dict[str, str]
) -> None:
    """Offsets bounded: the console's inbox and board (both of its lists) refuse the same
    values as the API with a 422 page whose line names the parameter; the bounds are shown."""
    for caller, path, offset in CONSOLE_LISTS:
        console = await console_client(app)
        try:
            assert (
                await console.post("/web/login", data={"token": tokens[caller]})
            ).status_code == 303
            for name, value in OUT_OF_RANGE:
                parameter = offset if name == "offset" else name
                response = await console.get(path, params={parameter: value})
                assert response.status_code == 422, (path, parameter, value, response.text)
                assert alert(response).startswith(f"{parameter}: ")
                assert "Traceback" not in response.text
            edge = await console.get(path, params={offset: str(MAX_OFFSET), "limit": "200"})
            assert edge.status_code == 200, edge.text
        finally:
            await console.aclose()


def check_security_headers(response: httpx.Response) -> None:
    """The headers every answer carries, and a policy that allows no inline script."""
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "script-src 'self'" in policy


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_R22_security_headers_on_every_answer_of_the_api_and_the_console(
    app: FastAPI, api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    """Headers present: API answers (authenticated, refused, public, not found) and console
    pages carry the CSP, X-Frame-Options, nosniff and the referrer policy; authenticated ones
    are never stored (no-store); only the stylesheet may be cached; the API documentation
    page has its own policy (its viewer's CDN), framing still refused."""
    answers = [
        await api.get("/inbox", headers=bearer(tokens["reviewer"])),
        await api.get("/inbox"),
        await api.get("/public/cases/371600-20260101-000001", params={"check_code": "0" * 16}),
        await api.get("/no-such-route"),
    ]
    console = await console_client(app)
    try:
        answers.append(await console.get("/web/login"))
        assert (
            await console.post("/web/login", data={"token": tokens["reviewer"]})
        ).status_code == 303
        answers.append(await console.get("/web/inbox"))
        stylesheet = await console.get("/web/static/console.css")
    finally:
        await console.aclose()
    assert [a.status_code for a in answers] == [200, 401, 404, 404, 200, 200]
    for answer in answers:
        check_security_headers(answer)
        assert answer.headers["cache-control"] == "no-store"
    check_security_headers(stylesheet)
    assert stylesheet.headers["cache-control"].startswith("public")
    docs = await api.get("/docs")
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
    assert docs.headers["x-frame-options"] == "DENY"


def test_R22_the_console_templates_have_no_inline_script_or_style() -> None:
    """The console's policy allows no inline script or style: no template has a <script>, an
    on* handler, a style attribute or a <style> element."""
    templates = Path(__file__).parents[2] / "approval" / "web" / "templates"
    inline = re.compile(r"<script|<style|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.I)
    found = {p.name: inline.findall(p.read_text()) for p in sorted(templates.glob("*.html"))}
    assert found and all(hits == [] for hits in found.values()), found


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_R22_a_401_challenges_and_a_405_names_the_allowed_methods(
    app: FastAPI, api: httpx.AsyncClient
) -> None:
    """R22: an API call without a valid token is a 401 with ``WWW-Authenticate: Bearer``, as
    is a failed console login; a method a path does not have is a 405 whose Allow lists every
    method the path has, in the usual refusal body (the console's: its page)."""
    for headers in ({}, {"Authorization": "Bearer nope"}):
        refused = await api.get("/inbox", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert refused.json()["detail"]["field"] == "authorization"
    for method, path, allowed in (
        ("PUT", "/inbox", "GET"),
        ("GET", "/cases", "POST"),
        ("DELETE", "/cases/371600-20260101-000001", "GET"),
    ):
        response = await api.request(method, path)
        assert response.status_code == 405, (method, path)
        assert response.headers["allow"] == allowed
        assert response.json()["detail"]["field"] == "path"
    console = await console_client(app)
    try:
        failed = await console.post("/web/login", data={"token": "nope"})
        assert failed.status_code == 401 and failed.headers["www-authenticate"].startswith("Bearer")
        other = await console.delete("/web/login")
        assert other.status_code == 405 and other.headers["allow"] == "GET, POST"
        assert (
            other.headers["content-type"].startswith("text/html") and 'role="alert"' in other.text
        )
    finally:
        await console.aclose()


def test_a_rate_limit_setting_that_is_no_rate_stops_the_app_naming_it(settings: Settings) -> None:
    """A rate limit setting such as ``lots`` is refused when the app is made, naming the
    environment variable, rather than at the first query."""
    for name, variable in (
        ("public_rate_limit", "APPROVAL_PUBLIC_RATE_LIMIT"),
        ("login_failure_rate_limit", "APPROVAL_LOGIN_FAILURE_RATE_LIMIT"),
    ):
        with pytest.raises(ValueError, match=f"^{variable}: 'lots'"):
            create_app(settings=settings.model_copy(update={name: "lots"}))
