"""Public progress (办件进度查询) on the time-skipping Temporal server and a real store: the
applicant reads the stage and dates of a case with its number and check code, without a token;
no personal data is shown, and a wrong code is the same 404 as an unknown case. The code has 64
bits; a case numbered before it keeps its 8-character code; each client is rate-limited."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.api.routes import public
from approval.config import Settings
from approval.domain import check_code as codes
from approval.domain.catalogue import Catalogue
from approval.domain.check_code import check_code, legacy_check_code, matches, numbered_on
from approval.service import CaseService
from approval.store.users import create_user, issue_token
from tests.domain_fixtures import material

GHXK = "JS-GHXK-001"
APPLICANT = "滨州示例建设有限公司"
ID_NUMBER = "91371600MA3C000001"


OLD_CASE = "371600-20261128-000042"
NEW_CASE = "371600-20261202-000042"


def test_R22_the_check_code_is_sixteen_upper_hex_digits_of_an_hmac_of_the_case_number() -> None:
    """R22: 64 bits, deterministic for a case and key, different for another case or key,
    either letter case accepted when checking; not the old 8-digit code with 8 more digits."""
    code = check_code(OLD_CASE, b"key")
    assert len(code) == 16 and code == code.upper() and int(code, 16) >= 0
    assert code == check_code(OLD_CASE, b"key")
    assert code != check_code("371600-20261128-000043", b"key")
    assert code != check_code(OLD_CASE, b"other")
    assert not code.startswith(legacy_check_code(OLD_CASE, b"key"))
    assert matches(OLD_CASE, b"key", code.lower()) and matches(NEW_CASE, b"key", code) is False
    assert public.check_code is check_code


def test_R22_the_old_eight_digit_code_works_only_for_cases_numbered_before_the_change() -> None:
    """R22: a case numbered on or before the cut-over day is found with its old 32-bit code
    (and its 64-bit one); a case numbered after it only with the 64-bit code, so a 32-bit
    guess finds nothing new."""
    until = codes.LEGACY_CODES_UNTIL
    assert (numbered_on(OLD_CASE), numbered_on(NEW_CASE)) == (date(2026, 11, 28), date(2026, 12, 2))
    assert date(2026, 11, 28) <= until < date(2026, 12, 2)
    assert numbered_on("not-a-case") is None and numbered_on("371600-20261399-000001") is None
    for case_no, legacy_accepted in ((OLD_CASE, True), (NEW_CASE, False)):
        assert matches(case_no, b"key", legacy_check_code(case_no, b"key")) is legacy_accepted
        assert matches(case_no, b"key", check_code(case_no, b"key"))
    assert not matches(OLD_CASE, b"key", legacy_check_code(OLD_CASE, b"other"))
    assert not matches(OLD_CASE, b"key", "查询码" * 5 + "0") and not matches(OLD_CASE, b"key", "")
    assert not matches(OLD_CASE, b"key", legacy_check_code(OLD_CASE, b"key"), legacy_until=None)


UNLIMITED = "100000/minute"
"""The public rate limit of the tests that poll the read model."""


@pytest.fixture
async def client(
    engine: CaseService, sessions: sessionmaker[Session], settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """A client of the app (its public queries not rate-limited), and a clerk's
    Authorization header."""
    with sessions.begin() as session:
        user = create_user(session, name="clerk", role="clerk", department=None)
        token = issue_token(session, user.id, datetime.now(UTC))
    unlimited = settings.model_copy(update={"public_rate_limit": UNLIMITED})
    app = create_app(service=engine, sessions=sessions, settings=unlimited)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
        yield c, {"Authorization": f"Bearer {token}"}


async def submitted_case(
    client: httpx.AsyncClient, clerk: dict[str, str], catalogue: Catalogue, *, accept: bool
) -> str:
    """A GHXK case with every material, submitted (and accepted) by the clerk."""
    codes = [m.code for m in catalogue.matter(GHXK).demanded_materials]
    body = {
        "matter_code": GHXK,
        "applicant": {"name": APPLICANT, "id_number": ID_NUMBER},
        "materials": [material(c).model_dump(mode="json") for c in codes],
        "idempotency_key": f"k-{uuid.uuid4().hex}",
    }
    response = await client.post("/cases", json=body, headers=clerk)
    assert response.status_code == 201, response.text
    case_no: str = response.json()["case_no"]
    if accept:
        accepted = await client.post(f"/cases/{case_no}/accept", headers=clerk)
        assert accepted.status_code == 200, accepted.text
    return case_no


async def progress(http: httpx.AsyncClient, case_no: str, code: str) -> httpx.Response:
    """The public progress of a case, once the worker has recorded it in the read model
    (it does so just after the step; bounded wait for that process)."""
    for _ in range(200):
        response = await http.get(f"/public/cases/{case_no}", params={"check_code": code})
        if response.status_code != 404:
            break
        await asyncio.sleep(0.05)
    return response


async def test_the_right_check_code_shows_the_stage_and_dates_and_nothing_personal(
    client: tuple[httpx.AsyncClient, dict[str, str]], catalogue: Catalogue, settings: Settings
) -> None:
    """Without a token: the stage with its Chinese label and the dates of an accepted case,
    no applicant name or id number; a received case has no acceptance date yet."""
    http, clerk = client
    case_no = await submitted_case(http, clerk, catalogue, accept=True)
    code = check_code(case_no, settings.audit_key_bytes)
    response = await progress(http, case_no, code)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["case_no"] == case_no
    assert (body["stage"], body["stage_label"]) == ("in_review", "并联审查中")
    assert body["received_on"] and body["accepted_on"] and body["committed_completion_on"]
    assert body["committed_completion_on"] > body["accepted_on"] >= body["received_on"]
    assert (body["decided"], body["decided_on"]) == (False, None)
    assert APPLICANT not in response.text and ID_NUMBER not in response.text
    assert set(body) == {
        "case_no",
        "stage",
        "stage_label",
        "received_on",
        "accepted_on",
        "committed_completion_on",
        "decided_on",
        "decided",
    }
    lower = await http.get(f"/public/cases/{case_no}", params={"check_code": code.lower()})
    assert lower.status_code == 200

    received = await submitted_case(http, clerk, catalogue, accept=False)
    code = check_code(received, settings.audit_key_bytes)
    early = (await progress(http, received, code)).json()
    assert (early["stage"], early["accepted_on"], early["decided"]) == ("received", None, False)


async def test_a_wrong_code_and_an_unknown_case_are_the_same_404(
    client: tuple[httpx.AsyncClient, dict[str, str]], catalogue: Catalogue, settings: Settings
) -> None:
    """A wrong check code on a real case and the right-looking code of a case that does not
    exist answer the same status and body, naming case_no."""
    http, clerk = client
    case_no = await submitted_case(http, clerk, catalogue, accept=True)
    right = check_code(case_no, settings.audit_key_bytes)
    assert (await progress(http, case_no, right)).status_code == 200
    wrong = f"{(int(right, 16) + 1) % 16**16:016X}"
    unknown = "371600-20260101-999999"
    wrong_code = await http.get(f"/public/cases/{case_no}", params={"check_code": wrong})
    no_case = await http.get(
        f"/public/cases/{unknown}",
        params={"check_code": check_code(unknown, settings.audit_key_bytes)},
    )
    assert wrong_code.status_code == no_case.status_code == 404
    assert wrong_code.content == no_case.content
    assert wrong_code.json()["detail"]["field"] == "case_no"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/public/cases/371600-2026-1", {"check_code": "ABCDEF12"}, "case_no"),
        ("/public/cases/not-a-case", {"check_code": "ABCDEF12"}, "case_no"),
        ("/public/cases/371600-20260101-000001", {}, "check_code"),
        ("/public/cases/371600-20260101-000001", {"check_code": "XYZ"}, "check_code"),
    ],
)
async def test_a_malformed_case_number_or_check_code_is_a_422_naming_it(
    client: tuple[httpx.AsyncClient, dict[str, str]], path: str, params: dict[str, str], field: str
) -> None:
    """Malformed input is refused before any lookup, naming the field."""
    http, _clerk = client
    response = await http.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["field"] == field


async def test_R22_a_case_numbered_before_the_change_is_found_with_its_old_code(
    client: tuple[httpx.AsyncClient, dict[str, str]],
    catalogue: Catalogue,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """R22: with the cut-over on the case's own day its old 8-digit code shows its progress,
    as its 64-bit code does; with the cut-over the day before, the old code is the same 404
    as a wrong code."""
    http, clerk = client
    case_no = await submitted_case(http, clerk, catalogue, accept=False)
    key = settings.audit_key_bytes
    assert (await progress(http, case_no, check_code(case_no, key))).status_code == 200
    numbered = numbered_on(case_no)
    assert numbered is not None
    monkeypatch.setattr(codes, "LEGACY_CODES_UNTIL", numbered)
    old = await http.get(
        f"/public/cases/{case_no}", params={"check_code": legacy_check_code(case_no, key)}
    )
    assert old.status_code == 200, old.text
    assert old.json()["case_no"] == case_no
    monkeypatch.setattr(codes, "LEGACY_CODES_UNTIL", numbered - timedelta(days=1))
    refused = await http.get(
        f"/public/cases/{case_no}", params={"check_code": legacy_check_code(case_no, key)}
    )
    wrong = await http.get(f"/public/cases/{case_no}", params={"check_code": "0" * 16})
    assert refused.status_code == wrong.status_code == 404
    assert refused.content == wrong.content


async def test_R22_the_public_query_is_rate_limited_per_client(
    engine: CaseService, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """R22 (public query rate-limited): past APPROVAL_PUBLIC_RATE_LIMIT queries in the window,
    a client is refused with 429, a Retry-After in seconds and a Chinese reason with the
    machine code ``rate_limited``, found or not, well-formed or not; another client is still
    answered."""
    limited = settings.model_copy(update={"public_rate_limit": "3/minute"})
    app = create_app(service=engine, sessions=sessions, settings=limited)
    unknown = "371600-20260101-999999"
    path, params = f"/public/cases/{unknown}", {"check_code": "0" * 16}

    async def ask(address: str, query: dict[str, str]) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            return await http.get(path, params=query)

    answers = [await ask("10.0.0.1", params) for _ in range(3)]
    assert [a.status_code for a in answers] == [404, 404, 404]
    for query in (params, {"check_code": "XYZ"}):
        refused = await ask("10.0.0.1", query)
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        detail = refused.json()["detail"]
        assert (detail["field"], detail["code"]) == ("client", "rate_limited")
        assert "请求过于频繁" in detail["reason"]
    assert (await ask("10.0.0.2", params)).status_code == 404
