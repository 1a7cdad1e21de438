"""Public progress (办件进度查询) on the time-skipping Temporal server and a real store: the
applicant reads the stage and dates of a case with its number and check code, without a token;
no personal data is shown, and a wrong code is the same 404 as an unknown case."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.api.routes import public
from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.domain.check_code import check_code, matches
from approval.service import CaseService
from approval.store.repository import create_user, issue_token
from tests.domain_fixtures import material

GHXK = "JS-GHXK-001"
APPLICANT = "滨州示例建设有限公司"
ID_NUMBER = "91371600MA3C000001"


def test_the_check_code_is_eight_upper_hex_digits_of_an_hmac_of_the_case_number() -> None:
    """Deterministic for a case and key, different for another case or key, either case
    accepted when checking."""
    code = check_code("371600-20261128-000042", b"key")
    assert len(code) == 8 and code == code.upper() and int(code, 16) >= 0
    assert code == check_code("371600-20261128-000042", b"key")
    assert code != check_code("371600-20261128-000043", b"key")
    assert code != check_code("371600-20261128-000042", b"other")
    assert matches("371600-20261128-000042", b"key", code.lower())
    assert public.check_code is check_code


@pytest.fixture
async def client(
    engine: CaseService, sessions: sessionmaker[Session]
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """A client of the app, and a clerk's Authorization header."""
    with sessions.begin() as session:
        user = create_user(session, name="clerk", role="clerk", department=None)
        token = issue_token(session, user.id, datetime.now(UTC))
    app = create_app(service=engine, sessions=sessions)
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
    wrong = f"{(int(right, 16) + 1) % 16**8:08X}"
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
