"""Public progress (办件进度查询) on the time-skipping Temporal server and a real store: the
applicant reads the stage and dates of a case with its number and check code, without a token;
no personal data is shown, and a wrong code is the same 404 as an unknown case. The code has 64
bits; a case numbered before it keeps its 8-character code; each client is rate-limited."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from approval.api.app import create_app
from approval.api.routes import public
from approval.auditing.integrity import case_histories, differences, rebuild, verify_store
from approval.config import Settings
from approval.domain import check_code as codes
from approval.domain.calendar import SHANGHAI
from approval.domain.catalogue import Catalogue
from approval.domain.check_code import (
    check_code,
    legacy_check_code,
    matches,
    numbered_on,
    progress_address,
)
from approval.domain.models import Deliver, Withdraw
from approval.domain.state import Stage
from approval.service import CaseService
from approval.store.audit_log import events_of, notices_of
from approval.store.users import create_user, issue_token
from tests.domain_fixtures import approve, material
from tests.domain_fixtures import reject as rejection
from tests.workflows.test_workflow import CLERK, accepted, recorded

Json = Any
GHXK = "JS-GHXK-001"
APPLICANT = "滨州示例建设有限公司"
ID_NUMBER = "91371600MA3C00000L"


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
    assert (body["outcome"], body["outcome_on"], body["completed_on"]) == ("pending", None, None)
    assert (body["rating"], body["rating_open"]) == (None, False)
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
        "outcome",
        "outcome_label",
        "outcome_on",
        "completed_on",
        "rating",
        "rated_on",
        "rating_open",
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


# ---- the outcome, the check code on the notices, the rating (issue 11, R20) ------------------

DEPARTMENTS = ("ZRZY", "ZJJ", "RFB", "CGJ")
"""GHXK's reviewing departments."""


async def completed_case(engine: CaseService, catalogue: Catalogue, *, reject: bool = False) -> str:
    """A GHXK case every department decided at once (one rejecting, if ``reject``), its
    decision delivered: completed, awaiting the applicant's rating."""
    case_no = await accepted(engine, catalogue)
    for department in DEPARTMENTS:
        decide = rejection(department) if reject and department == "RFB" else approve(department)
        await engine.act(case_no, decide)
    status = await engine.act_and_read(case_no, Deliver(actor=CLERK))
    assert status.stage is Stage.COMPLETED
    return case_no


def day_of(sessions: sessionmaker[Session], case_no: str, event_type: str) -> str:
    """The Beijing day of the case's (only) recorded event of ``event_type``, as JSON says it."""
    with sessions() as session:
        (event,) = events_of(session, case_no, types=(event_type,))
    return event.occurred_at.astimezone(SHANGHAI).date().isoformat()


async def test_R20_the_json_progress_says_the_outcome_and_the_decision_date(
    client: tuple[httpx.AsyncClient, dict[str, str]],
    engine: CaseService,
    catalogue: Catalogue,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    """R20: an approved, delivered case answers outcome ``approved`` with the decision's day
    and the day it was completed, and awaits its rating; a rejected one ``rejected``; a
    withdrawn one ``withdrawn``, its day the withdrawal's; none tells a person or an opinion."""
    http, _clerk = client
    key = settings.audit_key_bytes
    approved = await completed_case(engine, catalogue)
    rejected = await completed_case(engine, catalogue, reject=True)
    withdrawn = await accepted(engine, catalogue)
    await engine.act(withdrawn, Withdraw(actor=CLERK, reason="申请人经营计划调整"))
    bodies = {}
    for case_no in (approved, rejected, withdrawn):
        response = await progress(http, case_no, check_code(case_no, key))
        assert response.status_code == 200, response.text
        bodies[case_no] = response.json()
        for personal in ("李四", "37160219900101123X", "rev-", "clerk-7", "不符合审查标准"):
            assert personal not in response.text
    done = bodies[approved]
    assert (done["outcome"], done["outcome_label"], done["stage"]) == (
        "approved",
        "准予许可",
        "completed",
    )
    assert done["decided_on"] == done["outcome_on"] == day_of(sessions, approved, "CaseApproved")
    assert done["completed_on"] == day_of(sessions, approved, "CaseClosed")
    assert (done["decided"], done["rating"], done["rating_open"]) == (True, None, True)
    assert (bodies[rejected]["outcome"], bodies[rejected]["outcome_label"]) == (
        "rejected",
        "不予许可",
    )
    assert bodies[rejected]["decided_on"] == day_of(sessions, rejected, "CaseRejected")
    gone = bodies[withdrawn]
    assert (gone["outcome"], gone["outcome_label"], gone["decided_on"]) == (
        "withdrawn",
        "撤回",
        None,
    )
    assert gone["outcome_on"] == gone["completed_on"] == day_of(sessions, withdrawn, "CaseClosed")
    assert gone["rating_open"] is False


async def test_R20_the_voucher_of_a_new_case_states_its_check_code_and_the_rebuild_agrees(
    engine: CaseService,
    catalogue: Catalogue,
    settings: Settings,
    sessions: sessionmaker[Session],
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """R20, R5, R21: the stored acceptance voucher and approval decision of a new case state
    its case number, its check code (under the audit key) and the public progress page under
    APPROVAL_PUBLIC_BASE_URL; the store rebuilt from the histories alone (the auditor's
    rebuild) has the same bodies, and the chain verifies."""
    case_no = await completed_case(engine, catalogue)
    key = settings.audit_key_bytes
    code = check_code(case_no, key)
    with sessions() as session:
        bodies = {n.kind: n.body for n in notices_of(session, case_no)}
    address = progress_address(settings.public_base_url)
    assert address == "http://127.0.0.1:8000/web/progress"
    for kind in ("acceptance_voucher", "approval_decision"):
        assert f"办件编号：{case_no}" in bodies[kind]
        assert f"查询码：{code}" in bodies[kind]
        assert f"凭办件编号 {case_no} 和查询码，可在 {address} 查询办理进度" in bodies[kind]
    histories = await case_histories(time_skipping_env.client, [case_no])
    assert differences(sessions, rebuild(histories, key), histories) == []
    assert verify_store(sessions, key, [case_no])[1] == []


def rating_body(case_no: str, key: bytes, **fields: Json) -> dict[str, Json]:
    """A rating's body with the case's check code."""
    return {"check_code": check_code(case_no, key), "level": "satisfied", **fields}


async def test_R20_one_rating_through_the_json_route_the_second_refused_in_chinese(
    client: tuple[httpx.AsyncClient, dict[str, str]],
    engine: CaseService,
    catalogue: Catalogue,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    """R20, R23, R21: the applicant rates the completed case 满意 about ZJJ with a comment
    and an Idempotency-Key: the answer shows the rating and no more rating open; the same key
    again is the same answer and still one CaseRated, by ``applicant:<case>``; another
    rating is 409 ``already_rated`` with the Chinese reason, naming the level, and kept in the
    record; a wrong code is the GET's own 404."""
    http, _clerk = client
    key = settings.audit_key_bytes
    case_no = await completed_case(engine, catalogue)
    path = f"/public/cases/{case_no}/rating"
    body = rating_body(case_no, key, comment="窗口服务热情", concerns=["ZJJ"])
    first = await http.post(path, json=body, headers={"Idempotency-Key": "r-1"})
    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["rating"], answer["rating_open"]) == ("satisfied", False)
    assert answer["rated_on"] == day_of(sessions, case_no, "CaseRated")
    again = await http.post(path, json=body, headers={"Idempotency-Key": "r-1"})
    assert again.status_code == 200, again.text
    assert again.json() == answer
    (rated,) = await recorded(sessions, case_no, "CaseRated", 1)
    assert rated.actor_id == f"applicant:{case_no}" and rated.actor_role == "applicant"
    assert (rated.payload["level"], rated.payload["comment"]) == ("satisfied", "窗口服务热情")

    second = await http.post(path, json=rating_body(case_no, key, level="very_dissatisfied"))
    assert second.status_code == 409, second.text
    detail = second.json()["detail"]
    assert (detail["field"], detail["code"]) == ("level", "already_rated")
    assert "每案只能评价一次" in detail["reason"]
    assert len(await recorded(sessions, case_no, "CaseRated", 1)) == 1
    (kept,) = await recorded(sessions, case_no, "ActionRefused", 1)
    assert (kept.actor_id, kept.payload["action"]) == (f"applicant:{case_no}", "rate")

    wrong = await http.post(path, json={**body, "check_code": "0" * 16})
    missing = await http.get(f"/public/cases/{case_no}", params={"check_code": "0" * 16})
    assert wrong.status_code == missing.status_code == 404
    assert wrong.content == missing.content


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"level": "great"}, "level", "请选择评价等级"),
        ({"comment": "好" * 501}, "comment", "不能超过500字"),
        ({"check_code": "XYZ"}, "check_code", "查询码"),
        ({"concerns": ["not a code"]}, "concerns", "部门或窗口"),
    ],
)
async def test_R20_a_malformed_rating_is_a_422_naming_the_field_in_chinese(
    client: tuple[httpx.AsyncClient, dict[str, str]],
    fields: dict[str, Json],
    field: str,
    words: str,
) -> None:
    """R20: bad input is refused before any look-up: 422 naming the field, a Chinese reason
    and the machine code ``invalid_input``."""
    http, _clerk = client
    body = {"check_code": "0" * 16, "level": "satisfied", **fields}
    response = await http.post("/public/cases/371600-20260101-000001/rating", json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert (detail["field"].split(".")[0], detail["code"]) == (field, "invalid_input")
    assert words in detail["reason"]


async def test_R20_a_case_not_yet_completed_takes_no_rating(
    client: tuple[httpx.AsyncClient, dict[str, str]],
    engine: CaseService,
    catalogue: Catalogue,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    """R20: a case in review is refused with 409 ``not_rateable`` and the rule's Chinese
    reason; the attempt is kept in its record (R21)."""
    http, _clerk = client
    case_no = await accepted(engine, catalogue)
    body = rating_body(case_no, settings.audit_key_bytes)
    response = await http.post(f"/public/cases/{case_no}/rating", json=body)
    assert response.status_code == 409, response.text
    detail = response.json()["detail"]
    assert (detail["field"], detail["code"]) == ("stage", "not_rateable")
    assert "只有办结的案件可以评价" in detail["reason"]
    assert await recorded(sessions, case_no, "ActionRefused", 1)


async def test_R22_the_rating_route_counts_against_the_public_rate_limit(
    engine: CaseService, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """R22: the progress query and the rating share the public limit per client address:
    past it the rating is 429 ``rate_limited`` before anything is looked up."""
    limited = settings.model_copy(update={"public_rate_limit": "2/minute"})
    app = create_app(service=engine, sessions=sessions, settings=limited)
    unknown = "371600-20260101-999999"
    transport = httpx.ASGITransport(app=app, client=("10.0.0.3", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        asked = await http.get(f"/public/cases/{unknown}", params={"check_code": "0" * 16})
        body = {"check_code": "0" * 16, "level": "satisfied"}
        rated = await http.post(f"/public/cases/{unknown}/rating", json=body)
        refused = await http.post(f"/public/cases/{unknown}/rating", json=body)
    assert (asked.status_code, rated.status_code, refused.status_code) == (404, 404, 429)
    assert refused.json()["detail"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
