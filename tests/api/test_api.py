"""The HTTP API (approval.api) on the time-skipping Temporal server and a real store (SQLite
and PostgreSQL): people act through bearer tokens in their roles (R22), every refused attempt
is kept in the case's record (R21), retries have one effect (R23), bad input is a 4xx that
names the field, never a 500."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from approval.api.app import create_app
from approval.auditing.integrity import verify_store
from approval.cli import users
from approval.config import Settings, get_settings
from approval.domain.catalogue import Catalogue
from approval.service import CaseService
from approval.store.audit_log import events_of
from approval.store.engine import open_store
from approval.store.schema import ApiTokenRow, CaseEventRow, CaseRow
from approval.store.users import create_user, create_users_with_tokens, hash_token, issue_token
from tests.domain_fixtures import material
from tests.workflows.test_workflow import messages_of, recorded

GHXK = "JS-GHXK-001"  # 4 departments: ZRZY, ZJJ, RFB, CGJ; no fee
DEPARTMENTS = ("ZRZY", "ZJJ", "RFB", "CGJ")
# Who calls: a reviewer of a department on the case (ZRZY) and of one that is not (SCJG).
PEOPLE = {
    "clerk": ("clerk", None),
    "reviewer": ("reviewer", "ZRZY"),
    "outsider": ("reviewer", "SCJG"),
    "supervisor": ("supervisor", None),
    "auditor": ("auditor", None),
}
CALLERS = (*PEOPLE, "none", "bad")


@dataclass
class Api:
    """A client of the API and the Authorization headers of its users, by caller."""

    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]]

    async def call(
        self, caller: str, method: str, path: str, body: Any = None, **headers: str
    ) -> httpx.Response:
        """``method path`` as ``caller``, with ``body`` as JSON when given."""
        merged = {**self.headers[caller], **headers}
        return await self.client.request(method, path, json=body, headers=merged)


@pytest.fixture
async def api(engine: CaseService, sessions: sessionmaker[Session]) -> AsyncIterator[Api]:
    """The app on the test's engine and store, with a user and a token per caller, plus one
    reviewer per department of the demo matter (``rev-<DEPT>``)."""
    headers: dict[str, dict[str, str]] = {"none": {}, "bad": {"Authorization": "Bearer nope"}}
    people = {**PEOPLE, **{f"rev-{d}": ("reviewer", d) for d in DEPARTMENTS}}
    accounts = [(name, role, department) for name, (role, department) in people.items()]
    with sessions.begin() as session:
        tokens = create_users_with_tokens(session, accounts, datetime.now(UTC))
    headers |= {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
    app = create_app(service=engine, sessions=sessions)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield Api(client, headers)


def application(
    catalogue: Catalogue, *, matter: str = GHXK, leave_out: tuple[str, ...] = ()
) -> dict[str, Any]:
    """An application for ``matter`` (GHXK by default) as JSON, with every demanded material
    but ``leave_out``."""
    codes = [m.code for m in catalogue.matter(matter).demanded_materials if m.code not in leave_out]
    return {
        "matter_code": matter,
        "applicant": {"name": "滨州示例建设有限公司", "id_number": "91371600MA3C00000L"},
        "materials": [material(c).model_dump(mode="json") for c in codes],
        "idempotency_key": f"k-{uuid.uuid4().hex}",
    }


async def accepted_case(api: Api, catalogue: Catalogue, matter: str = GHXK) -> str:
    """A case of ``matter`` (GHXK by default) submitted and accepted by the clerk through the
    API."""
    submitted = await api.call("clerk", "POST", "/cases", application(catalogue, matter=matter))
    assert submitted.status_code == 201, submitted.text
    case_no: str = submitted.json()["case_no"]
    accept = await api.call("clerk", "POST", f"/cases/{case_no}/accept")
    assert accept.status_code == 200, accept.text
    return case_no


async def closed(env: WorkflowEnvironment, case_no: str) -> None:
    """Once the case's workflow has ended: every event it recorded is in the store, and a
    refused attempt goes straight into the store's chain."""
    await env.client.get_workflow_handle(case_no).result()


async def test_R22_a_four_department_case_is_decided_by_each_departments_reviewer(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R22, R23: the clerk submits (a repeat of the same idempotency key gives the same case,
    200 not 201) and accepts; each department's reviewer approves through POST /decision in its
    own name; the status shows the case approved, every task decided by its reviewer; the clerk
    delivers. Each reviewer's inbox lists the case until it decides."""
    body = application(catalogue)
    first = await api.call("clerk", "POST", "/cases", body)
    again = await api.call("clerk", "POST", "/cases", body)
    assert (first.status_code, again.status_code) == (201, 200)
    case_no = first.json()["case_no"]
    assert again.json() == {"case_no": case_no, "created": False}
    assert (await api.call("clerk", "POST", f"/cases/{case_no}/accept")).status_code == 200

    for department in DEPARTMENTS:
        reviewer = f"rev-{department}"
        inbox = (await api.call(reviewer, "GET", "/inbox")).json()
        assert inbox["department"] == department
        assert [t["case_no"] for t in inbox["tasks"]] == [case_no]
        assert inbox["tasks"][0]["state"] == "pending"
        decided = await api.call(
            reviewer, "POST", f"/cases/{case_no}/decision", {"outcome": "approve"}
        )
        assert decided.status_code == 200, decided.text
        assert (await api.call(reviewer, "GET", "/inbox")).json()["tasks"] == []

    status = (await api.call("auditor", "GET", f"/cases/{case_no}")).json()
    assert status["decision"]["approved"] is True
    assert {t["department"]: (t["state"], t["decided_by"]) for t in status["tasks"]} == {
        d: ("approved", f"rev-{d}") for d in DEPARTMENTS
    }
    delivered = await api.call("clerk", "POST", f"/cases/{case_no}/deliver")
    assert delivered.status_code == 200, delivered.text
    with sessions() as session:
        approvals = [e for e in events_of(session, case_no) if e.type == "ReviewApproved"]
    assert sorted((e.actor_id, e.actor_department) for e in approvals) == sorted(
        (f"rev-{d}", d) for d in DEPARTMENTS
    )


CLERK = frozenset({"clerk"})
REVIEWERS = frozenset({"reviewer", "outsider"})
CASE_READERS = frozenset({"clerk", "reviewer", "supervisor", "auditor"})
AUDIT_READERS = frozenset({"auditor", "supervisor"})
AUDITOR = frozenset({"auditor"})
SUPERVISOR = frozenset({"supervisor"})
SUPERVISION_READERS = frozenset({"supervisor", "auditor"})


@dataclass(frozen=True)
class Endpoint:
    """One row of the authorization matrix: ``method path`` (``{case}`` stands for the case
    under test), the callers allowed past the role check, the status an allowed caller gets,
    the body (or a function of the catalogue giving it) and, for an endpoint on the case, the
    action its refusals are recorded under (R21)."""

    method: str
    path: str
    allowed: frozenset[str]
    success: int = 200
    body: Any = None
    action: str | None = None

    def body_for(self, catalogue: Catalogue, case_no: str = "") -> Any:
        """The request's body; ``{case}`` in a value stands for the case under test."""
        if callable(self.body):
            return self.body(catalogue)
        if isinstance(self.body, dict):
            return {
                k: v.replace("{case}", case_no) if isinstance(v, str) else v
                for k, v in self.body.items()
            }
        return self.body


SUPPLEMENT = {"materials": [material("RFSJ").model_dump(mode="json")]}
FEE = {"amount_yuan": "0.00", "receipt_no": "R-1"}
REFUSE = {"reason": "不属于本机关职权范围", "competent_organ": "省自然资源厅"}
# Every endpoint, in an order that walks the case (GHXK without RFSJ) forward. An allowed
# caller gets past the role check; refuse (the case is accepted by then), fee and deliver are
# then refused by the case's stage (409).
# The reviewer of a department on the case (ZRZY) has a task once the case is accepted.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/cases/{case}/notice", CLERK, action="issue_notice"),
    Endpoint("POST", "/cases/{case}/supplement", CLERK, body=SUPPLEMENT, action="supplement"),
    Endpoint("POST", "/cases/{case}/accept", CLERK, action="accept"),
    Endpoint("POST", "/cases/{case}/refuse", CLERK, 409, body=REFUSE, action="refuse"),
    Endpoint("GET", "/cases/{case}", CASE_READERS, action="read_status"),
    Endpoint("GET", "/cases/{case}/materials", CASE_READERS, action="read_materials"),
    # a material's file: "{code}" is no material of the case (404 past the role check); the
    # upload without a file (or a code) is 422 past the role check
    Endpoint(
        "GET",
        "/cases/{case}/materials/{code}/file",
        CASE_READERS,
        404,
        action="download_material",
    ),
    Endpoint("POST", "/materials", CLERK, 422),
    Endpoint("GET", "/cases/{case}/notices", CASE_READERS, action="read_notices"),
    # a notice printed as a PDF: "{notice_no}" is no notice of the case (404 past the role
    # check; the PDFs themselves: tests/printing/)
    Endpoint(
        "GET", "/cases/{case}/notices/{notice_no}.pdf", CASE_READERS, 404, action="read_notices"
    ),
    Endpoint("GET", "/audit/cases/{case}/timeline", AUDIT_READERS, action="audit_timeline"),
    Endpoint("GET", "/audit/cases/{case}/check", AUDIT_READERS, action="audit_check"),
    Endpoint("GET", "/audit/cases/{case}/verify", AUDITOR, action="audit_verify"),
    Endpoint("GET", "/audit/cases/{case}/export", AUDITOR, action="audit_export"),
    Endpoint(
        "POST",
        "/cases/{case}/decision",
        frozenset({"reviewer"}),
        body={"outcome": "approve"},
        action="decide",
    ),
    Endpoint(
        "POST",
        "/cases/{case}/extend",
        SUPERVISOR,
        body={"reason": "需组织专家论证"},
        action="extend",
    ),
    Endpoint(
        "POST",
        "/cases/{case}/excluded-period",
        SUPERVISOR,
        body={"procedure": "expert_review", "reason": "方案涉及重大安全事项", "expected_wd": 10},
        action="open_excluded_period",
    ),
    Endpoint(
        "POST",
        "/cases/{case}/excluded-period/close",
        SUPERVISOR,
        body={"result": "方案可行"},
        action="close_excluded_period",
    ),
    Endpoint(
        "POST",
        "/cases/{case}/meetings",
        SUPERVISOR,
        body={"present": list(DEPARTMENTS), "minutes": "联合审查会议，各部门均到会"},
        action="record_meeting",
    ),
    Endpoint(
        "POST", "/cases/{case}/rating", CLERK, 409, body={"level": "satisfied"}, action="rate"
    ),
    Endpoint(
        "POST",
        "/cases/{case}/complaints",
        CLERK,
        body={"text": "多次催问无人答复"},
        action="complain",
    ),
    Endpoint(
        "POST",
        "/cases/{case}/follow-ups/answer",
        CLERK,
        body={"follow_up_no": "{case}-F01", "explanation": "已核实", "remedy": "已整改"},
        action="answer_follow_up",
    ),
    Endpoint("POST", "/cases/{case}/fee", CLERK, 409, body=FEE, action="collect_fee"),
    Endpoint("POST", "/cases/{case}/deliver", CLERK, 409, action="deliver"),
    Endpoint("POST", "/cases/{case}/withdraw", CLERK, action="withdraw"),
    Endpoint("POST", "/cases", CLERK, 201, body=application),
    Endpoint("GET", "/inbox", REVIEWERS),
    Endpoint("GET", "/follow-ups", CASE_READERS | REVIEWERS),
    Endpoint("GET", "/supervision/escalations", SUPERVISION_READERS),
    Endpoint("GET", "/supervision/overdue", SUPERVISION_READERS),
    Endpoint("GET", "/supervision/efficiency", SUPERVISION_READERS),
    Endpoint("GET", "/supervision/efficiency.csv", SUPERVISION_READERS),
    Endpoint("GET", "/supervision/efficiency.xlsx", SUPERVISION_READERS),
    # without ?figure=: past the role check, the drill-down names the missing figure (422)
    Endpoint("GET", "/supervision/efficiency/drill", SUPERVISION_READERS, 422),
)


def expected_status(caller: str, allowed: frozenset[str], success: int) -> int:
    """401 without a valid token, 403 for a role (or department) that may not, else
    ``success``."""
    if caller in ("none", "bad"):
        return 401
    return success if caller in allowed else 403


async def test_R22_R21_every_endpoint_by_every_role_and_every_refusal_is_recorded(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """R22: every endpoint × every caller (clerk, reviewer of a department on the case,
    reviewer of another department, supervisor, auditor, no token, a bad token) gets its
    expected status: 2xx only where the role (and department) may act. R21: every refused
    attempt on the case by an authenticated caller is an ActionRefused event in the store,
    in the refused actor's name, also once the case is closed, and the case's audit chain still
    verifies; callers without a valid token leave nothing."""
    submitted = await api.call(
        "clerk", "POST", "/cases", application(catalogue, leave_out=("RFSJ",))
    )
    case_no = submitted.json()["case_no"]
    got: dict[tuple[str, str], int] = {}
    want: dict[tuple[str, str], int] = {}
    refusals: list[tuple[str, str]] = []
    for endpoint in ENDPOINTS:
        path = endpoint.path.replace("{case}", case_no)
        # the refused callers first: the allowed one moves the case on
        for caller in sorted(CALLERS, key=lambda c: c in endpoint.allowed):
            body = endpoint.body_for(catalogue, case_no)
            response = await api.call(caller, endpoint.method, path, body)
            assert response.status_code < 500, response.text
            key = (caller, f"{endpoint.method} {endpoint.path}")
            got[key] = response.status_code
            want[key] = expected_status(caller, endpoint.allowed, endpoint.success)
            if endpoint.action and want[key] in (403, 409):
                refusals.append((caller, endpoint.action))
    assert got == want

    # the case is withdrawn now: a refused attempt is still kept (straight into the store)
    late = await api.call("auditor", "POST", f"/cases/{case_no}/accept")
    assert late.status_code == 403
    refusals.append(("auditor", "accept"))
    found = await recorded(sessions, case_no, "ActionRefused", len(refusals))
    assert sorted((e.actor_id, e.payload["action"]) for e in found) == sorted(refusals)
    assert all(e.actor_role == PEOPLE[e.actor_id][0] for e in found)
    assert all(e.actor_department == PEOPLE[e.actor_id][1] for e in found)
    assert verify_store(sessions, settings.audit_key_bytes, [case_no])[1] == []


async def test_R22_the_matrix_lists_every_route_of_the_api(api: Api) -> None:
    """R22: the authorization matrix has a row for every route of the OpenAPI document but
    the public progress query and rating (/public: the check code instead of a token; they
    tell no person, tests/api/test_public.py), the health probes and the Prometheus metrics
    (no token by design: they tell no case and no person, tests/api/test_health.py,
    tests/api/test_metrics.py), so a new endpoint cannot go untested."""
    document = (await api.client.get("/openapi.json")).json()
    routes = {
        (method.upper(), path.replace("{case_no}", "{case}"))
        for path, item in document["paths"].items()
        for method in item
        if not path.startswith(("/public", "/healthz", "/readyz", "/metrics"))
    }
    assert routes == {(e.method, e.path) for e in ENDPOINTS}


async def test_R22_a_department_sees_the_materials_submitted_and_supplemented(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R2, R22: a case submitted without RFSJ, told to supplement it and then accepted lists
    each material once, with its catalogue name and the event that brought it (RFSJ by the
    supplement) and the document's reference and SHA-256 as the record states them from
    receipt on; the 免提交 items nobody brought are marked shared, not submitted. The reviewer
    of a department on the case reads them; one of another department is refused."""
    submitted = await api.call(
        "clerk", "POST", "/cases", application(catalogue, leave_out=("RFSJ",))
    )
    case_no = submitted.json()["case_no"]
    assert await recorded(sessions, case_no, "ApplicationReceived", 1)
    before = (await api.call("clerk", "GET", f"/cases/{case_no}/materials")).json()
    assert [m["code"] for m in before["materials"] if m["submitted"]] == [
        "SJFA",
        "SQB",
        "XMPZ",
    ]
    assert {m["code"]: m["sha256"] for m in before["materials"] if m["submitted"]} == {
        code: material(code).sha256 for code in ("SJFA", "SQB", "XMPZ")
    }
    for step, body in (("/notice", None), ("/supplement", SUPPLEMENT), ("/accept", None)):
        done = await api.call("clerk", "POST", f"/cases/{case_no}{step}", body)
        assert done.status_code == 200, done.text
    assert await messages_of(sessions, case_no, "task", len(DEPARTMENTS))

    response = await api.call("reviewer", "GET", f"/cases/{case_no}/materials")
    assert response.status_code == 200, response.text
    materials = {m["code"]: m for m in response.json()["materials"]}
    names = {r.code: r.name for r in catalogue.matter(GHXK).materials}
    assert {c: m["name"] for c, m in materials.items()} == names
    brought = {c: [d["type"] for d in m["deliveries"]] for c, m in materials.items()}
    assert brought == {
        "SQB": ["ApplicationReceived"],
        "XMPZ": ["ApplicationReceived"],
        "SJFA": ["ApplicationReceived"],
        "RFSJ": ["SupplementReceived"],
        "BDCQZ": [],
        "YYZZ": [],
    }
    shared = {c for c, m in materials.items() if m["shared"] and not m["submitted"]}
    assert shared == {"BDCQZ", "YYZZ"}
    assert materials["YYZZ"]["shared_from"] == "市场监督管理局"
    for code in ("SQB", "XMPZ", "SJFA", "RFSJ"):
        sent = material(code)
        assert (materials[code]["document_ref"], materials[code]["sha256"]) == (
            sent.document_ref,
            sent.sha256,
        )
    refused = await api.call("outsider", "GET", f"/cases/{case_no}/materials")
    assert refused.status_code == 403
    assert refused.json()["detail"]["field"] == "case_no"
    unknown = await api.call("clerk", "GET", "/cases/371600-20260101-999999/materials")
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["field"] == "case_no"


async def test_R23_the_same_decision_with_the_same_idempotency_key_has_one_effect(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R23: a decision posted twice with the same Idempotency-Key answers 200 both times and
    records one ReviewRejected and no refusal; a third post under another key is a new attempt,
    refused because the task is closed (R8, 409) and recorded (R21)."""
    case_no = await accepted_case(api, catalogue)
    decision = {"outcome": "reject", "reasons": "未按规定配建人防工程"}
    path = f"/cases/{case_no}/decision"
    first = await api.call("reviewer", "POST", path, decision, **{"Idempotency-Key": "d-1"})
    retry = await api.call("reviewer", "POST", path, decision, **{"Idempotency-Key": "d-1"})
    assert (first.status_code, retry.status_code) == (200, 200)
    with sessions() as session:
        types = [e.type for e in events_of(session, case_no)]
    assert types.count("ReviewRejected") == 1
    assert "ActionRefused" not in types

    other = await api.call("reviewer", "POST", path, decision, **{"Idempotency-Key": "d-2"})
    assert other.status_code == 409
    assert other.json()["detail"]["field"] == "department"
    assert len(await recorded(sessions, case_no, "ActionRefused", 1)) == 1


@pytest.mark.parametrize(
    ("caller", "method", "path", "body", "status", "field"),
    [
        ("clerk", "GET", "/cases/371600-2026-1", None, 422, "case_no"),
        ("clerk", "POST", "/cases/not-a-case/accept", None, 422, "case_no"),
        ("clerk", "POST", "/cases/371600-20260101-999999/accept", None, 404, "case_no"),
        ("clerk", "POST", "/cases", {"idempotency_key": "k-12345678"}, 422, "matter_code"),
        ("clerk", "POST", "/cases", "not an object", 422, "body"),
        ("reviewer", "GET", "/inbox?limit=0", None, 422, "limit"),
        ("reviewer", "GET", "/inbox?state=lost", None, 422, "state.0"),
        (
            "clerk",
            "POST",
            "/cases/{case}/fee",
            {"amount_yuan": "abc", "receipt_no": "R"},
            422,
            "amount_yuan",
        ),
        ("reviewer", "POST", "/cases/{case}/decision", {"outcome": "maybe"}, 422, "outcome"),
        ("reviewer", "POST", "/cases/{case}/decision", {"outcome": "reject"}, 422, "reasons"),
        ("reviewer", "POST", "/cases/{case}/decision", {}, 422, "outcome"),
        ("supervisor", "POST", "/cases/{case}/extend", {"reason": ""}, 422, "reason"),
    ],
)
async def test_R22_bad_input_is_a_4xx_naming_the_field_never_a_500(
    api: Api,
    catalogue: Catalogue,
    caller: str,
    method: str,
    path: str,
    body: Any,
    status: int,
    field: str,
) -> None:
    """Malformed case numbers, unknown cases, missing or malformed fields and impossible
    decisions are refused with a 4xx whose detail names the field; nothing is a 500."""
    if "{case}" in path:
        path = path.replace("{case}", await accepted_case(api, catalogue))
    if isinstance(body, str):
        response = await api.client.request(
            method,
            path,
            content=body,
            headers={**api.headers[caller], "content-type": "application/json"},
        )
    else:
        response = await api.call(caller, method, path, body)
    assert response.status_code == status, response.text
    assert response.json()["detail"]["field"] == field


async def test_R1_an_unknown_matter_is_refused_naming_the_matter_code(
    api: Api, catalogue: Catalogue
) -> None:
    """R1, R22: a submission for a matter outside the catalogue is a 422 naming matter_code,
    and its reason names the non-acceptance voucher the applicant gets (R5)."""
    body = {**application(catalogue), "matter_code": "XX-NONE-001"}
    response = await api.call("clerk", "POST", "/cases", body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["field"] == "matter_code" and "不予受理通知书" in detail["reason"]


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_the_app_opens_its_own_client_and_store_at_start_up(
    time_skipping_env: WorkflowEnvironment, settings: Settings, store_url: str
) -> None:
    """Without an injected engine, start-up (the lifespan) connects to Temporal and opens the
    store the settings name: a token from that store works, and an unknown case is a 404
    that Temporal answered."""
    config = settings.model_copy(
        update={
            "temporal_address": time_skipping_env.client.service_client.config.target_host,
            "database_url": store_url,
        }
    )
    sessions = open_store(store_url)
    with sessions.begin() as session:
        user = create_user(session, name="clerk-1", role="clerk", department=None)
        token = issue_token(session, user.id, datetime.now(UTC))
    sessions.kw["bind"].dispose()
    app = create_app(settings=config)
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.get("/cases/371600-20260101-000001", headers=headers)
    assert response.status_code == 404, response.text
    assert response.json()["detail"]["field"] == "case_no"


async def test_the_openapi_document_lists_every_route(api: Api) -> None:
    """The API describes itself at /openapi.json (no token needed)."""
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    paths = set(response.json()["paths"])
    assert {"/cases", "/cases/{case_no}", "/cases/{case_no}/decision", "/inbox"} <= paths


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_R22_the_users_command_creates_a_user_and_shows_its_token_once(
    store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """R22: ``python -m approval.cli.users create`` adds a user and prints a token of which
    only the keyed hash (HMAC-SHA256, hash_token) is stored; a reviewer without a department,
    an unknown role or a taken name is one line and exit status 2."""
    monkeypatch.setenv("APPROVAL_DATABASE_URL", store_url)
    monkeypatch.setenv("APPROVAL_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(
            users.app, ["create", "zj-01", "--role", "reviewer", "--department", "ZJJ"]
        )
        assert created.exit_code == 0, created.output
        token = created.stdout.strip()
        for args in (
            ["create", "zj-02", "--role", "reviewer"],
            ["create", "x-01", "--role", "mayor"],
            ["create", "zj-01", "--role", "reviewer", "--department", "ZJJ"],
        ):
            refused = runner.invoke(users.app, args)
            assert refused.exit_code == 2
            assert len(refused.stderr.strip().splitlines()) == 1
    finally:
        get_settings.cache_clear()
    sessions = open_store(store_url)
    with sessions() as session:
        stored = [row.token_hash for row in session.query(ApiTokenRow)]
    sessions.kw["bind"].dispose()
    assert stored == [hash_token(token)] and token not in stored


async def test_R23_a_window_action_resent_with_its_key_has_one_effect(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R23 (an outage is never a refusal): accept and deliver, each sent twice with its
    ``Idempotency-Key`` — as a client resends after a 503 or a lost answer, through the same
    API or another — are answered 200 both times, recorded once, and no refused attempt is
    kept; sent again without the key, the action is refused and that refusal kept (R21)."""
    submitted = await api.call("clerk", "POST", "/cases", application(catalogue))
    case_no = submitted.json()["case_no"]
    for _ in range(2):
        accepted = await api.call(
            "clerk", "POST", f"/cases/{case_no}/accept", **{"Idempotency-Key": "acc-1"}
        )
        assert accepted.status_code == 200, accepted.text
    for department in DEPARTMENTS:
        decision = {"outcome": "approve"}
        decided = await api.call(
            f"rev-{department}", "POST", f"/cases/{case_no}/decision", decision
        )
        assert decided.status_code == 200, decided.text
    for _ in range(2):
        delivered = await api.call(
            "clerk", "POST", f"/cases/{case_no}/deliver", {}, **{"Idempotency-Key": "del-1"}
        )
        assert delivered.status_code == 200, delivered.text
    with sessions() as session:
        types = [e.type for e in events_of(session, case_no)]
    assert (types.count("ApplicationAccepted"), types.count("ResultDelivered")) == (1, 1)
    assert "ActionRefused" not in types
    again = await api.call("clerk", "POST", f"/cases/{case_no}/deliver", {})
    assert again.status_code == 409, again.text
    (refused,) = await recorded(sessions, case_no, "ActionRefused", 1)
    assert refused.payload["action"] == "deliver"


async def test_an_identity_number_with_a_wrong_check_character_is_refused_naming_it(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """The README's old 统一社会信用代码 91371600MA3C000001 (its check character should be L)
    is refused at the window with 422 naming ``applicant.id_number`` and, in Chinese, the
    right check character; no case number is given and nothing is recorded."""
    body = application(catalogue)
    body["applicant"]["id_number"] = "91371600MA3C000001"
    refused = await api.call("clerk", "POST", "/cases", body)
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert detail["field"] == "applicant.id_number"
    assert "统一社会信用代码校验码不正确" in detail["reason"] and "应为 L" in detail["reason"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CaseRow)) == 0
        assert session.scalar(select(func.count()).select_from(CaseEventRow)) == 0


async def test_R11_R14_an_opinion_without_its_reasons_or_items_is_bad_input(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R14, R11: a department's rejection whose reasons are blank, or a supplement request
    whose item says nothing to supplement, is refused by the service as bad input (422
    naming ``reasons`` / ``items`` in Chinese, code invalid_input) before the case hears of
    it: the task is still open, nothing is kept in the record; a proper rejection then
    decides."""
    case_no = await accepted_case(api, catalogue)
    path = f"/cases/{case_no}/decision"
    with sessions() as session:
        before = len(events_of(session, case_no))
    blank_reasons = {"outcome": "reject", "reasons": " \n "}
    blank_item = {"outcome": "request_supplement", "items": [{"code": "SJFA", "reason": "  "}]}
    for body, field, said in (
        (blank_reasons, "reasons", "理由"),
        (blank_item, "items", "补正要求"),
    ):
        refused = await api.call("rev-RFB", "POST", path, body)
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"]
        assert (detail["field"], detail["code"]) == (field, "invalid_input")
        assert said in detail["reason"]
    with sessions() as session:
        assert len(events_of(session, case_no)) == before
    status = (await api.call("clerk", "GET", f"/cases/{case_no}")).json()
    assert {t["department"]: t["state"] for t in status["tasks"]}["RFB"] == "pending"
    decided = await api.call("rev-RFB", "POST", path, {"outcome": "reject", "reasons": "未配建"})
    assert decided.status_code == 200, decided.text
