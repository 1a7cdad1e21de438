"""Fuzzing the HTTP API with hypothesis, on the time-skipping Temporal server and a real store:
every route of the app's OpenAPI document (the public router, the auditor's and the
supervisor's included) gets generated JSON bodies, path and query parameters and headers, from
each role and a caller without a token. Nothing may be a 5xx, and every 4xx names the field
and the reason (FastAPI's own 404/405 for a path or method that is no route aside). The rate
limits are reset before each example, so the public route is fuzzed past its first 30."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.domain.check_code import check_code
from approval.domain.models import CASE_NUMBER_PATTERN
from approval.service import CaseService
from approval.store.users import create_users_with_tokens
from tests.domain_fixtures import material

Json = Any
GHXK = "JS-GHXK-001"  # 4 departments: ZRZY, ZJJ, RFB, CGJ; no fee
CALLERS = ("clerk", "reviewer", "supervisor", "auditor", "none")
ROLE_OF_ROUTE = (
    ("/decision", "reviewer"),
    ("/inbox", "reviewer"),
    ("/extend", "supervisor"),
    ("/supervision/", "supervisor"),
    ("/audit/", "auditor"),
)
"""The role that may use a route, by a part of its path; the clerk for any other."""


def _document() -> dict[str, Any]:
    document: dict[str, Any] = create_app().openapi()
    return document


DOCUMENT = _document()
ROUTES = sorted(
    (path, method.upper()) for path, item in DOCUMENT["paths"].items() for method in item
)

# ---- strategies ------------------------------------------------------------------------------

printable = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
any_text = st.text(max_size=40)
any_json: st.SearchStrategy[Json] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = DOCUMENT["components"]["schemas"][name]
    return schema


def from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Json]:
    """Values shaped by ``schema``: of the right type, often valid (patterns, enums, the
    properties an object names); anything at all where the schema says nothing."""
    schema = _resolve(schema)
    if depth > 4:
        return any_json
    choices: list[st.SearchStrategy[Json]] = []
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            choices += [from_schema(s, depth + 1) for s in schema[key]]
    if "enum" in schema:
        choices.append(st.sampled_from(schema["enum"]))
    if "const" in schema:
        choices.append(st.just(schema["const"]))
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = {
            name: from_schema(sub, depth + 1) for name, sub in schema.get("properties", {}).items()
        }
        required = {k: v for k, v in properties.items() if k in schema.get("required", ())}
        optional = {k: v for k, v in properties.items() if k not in required}
        choices.append(st.fixed_dictionaries(required, optional=optional))
    elif kind == "array":
        choices.append(st.lists(from_schema(schema.get("items", {}), depth + 1), max_size=3))
    elif kind == "string":
        if "pattern" in schema:
            valid = st.from_regex(schema["pattern"], fullmatch=True)
            choices += [valid, valid, valid]
        if "enum" not in schema:
            choices.append(any_text)
    elif kind == "integer":
        choices.append(st.integers(-10, 300) | st.integers())
    elif kind == "number":
        choices += [st.integers(), st.floats(allow_nan=False, allow_infinity=False)]
    elif kind == "boolean":
        choices.append(st.booleans())
    return st.one_of(choices) if choices else any_json


def as_text(value: Json) -> str:
    """A generated value as a query or path string."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Request:
    """One generated request."""

    caller: str
    method: str
    path: str
    query: dict[str, str | list[str]]
    headers: dict[str, str]
    body: Json | None
    raw: bytes | None

    def __str__(self) -> str:
        shown = (
            repr(self.raw) if self.raw is not None else json.dumps(self.body, ensure_ascii=False)
        )
        return (
            f"{self.method} {self.path} query={self.query} headers={self.headers} "
            f"caller={self.caller} body={shown}"
        )


@st.composite
def mutated(draw: st.DrawFn, seeds: list[dict[str, Json]], schema: dict[str, Any]) -> Json:
    """A valid body of the route, as it is, or with one field dropped or replaced by a value
    drawn from the field's schema or from anything at all."""
    body = dict(draw(st.sampled_from(seeds)))
    properties = _resolve(schema).get("properties", {})
    fields = sorted(set(body) | set(properties))
    how = draw(st.sampled_from(("as is", "drop", "replace", "anything")))
    if how == "as is" or not fields:
        return body
    field = draw(st.sampled_from(fields))
    if how == "drop":
        body.pop(field, None)
    elif how == "replace" and field in properties:
        body[field] = draw(from_schema(properties[field]))
    else:
        body[field] = draw(any_json)
    return body


def seeds(catalogue: Catalogue) -> dict[tuple[str, str], list[dict[str, Json]]]:
    """Valid bodies by route, for the fuzzing to start from."""
    matter = catalogue.matter(GHXK)
    return {
        ("/cases", "POST"): [
            {
                "matter_code": GHXK,
                "applicant": {"name": "滨州示例建设有限公司", "id_number": "91371600MA3C00000L"},
                "materials": [
                    material(m.code).model_dump(mode="json") for m in matter.demanded_materials
                ],
                "idempotency_key": f"k-{uuid.uuid4().hex}",
            }
        ],
        ("/cases/{case_no}/supplement", "POST"): [
            {"materials": [material("RFSJ").model_dump(mode="json")]}
        ],
        ("/cases/{case_no}/notice", "POST"): [
            {"defective": [{"code": "SJFA", "reason": "总平面图比例不符"}]},
            {"defective": []},
        ],
        ("/cases/{case_no}/decision", "POST"): [
            {"outcome": "approve"},
            {"outcome": "reject", "reasons": "未按规定配建人防工程"},
            {"outcome": "request_supplement", "items": [{"code": "SJFA", "reason": "比例不符"}]},
        ],
        ("/cases/{case_no}/extend", "POST"): [{"reason": "需组织专家论证"}],
        ("/cases/{case_no}/fee", "POST"): [{"amount_yuan": "80.00", "receipt_no": "R-001"}],
        ("/cases/{case_no}/deliver", "POST"): [{"method": "窗口领取"}],
        ("/cases/{case_no}/withdraw", "POST"): [{"reason": "申请人主动撤回"}],
    }


@st.composite
def requests(
    draw: st.DrawFn,
    path: str,
    method: str,
    case_no: str,
    code: str,
    valid: list[dict[str, Json]],
) -> Request:
    """A request to ``method path``: its parameters and body drawn from the OpenAPI document."""
    operation = DOCUMENT["paths"][path][method.lower()]
    url = path
    query: dict[str, str | list[str]] = {}
    headers: dict[str, str] = {}
    for parameter in operation.get("parameters", ()):
        name, where = parameter["name"], parameter["in"]
        schema = _resolve(parameter.get("schema", {}))
        if where == "path":
            # the existing case half of the time
            value = draw(
                st.one_of(
                    st.just(case_no),
                    st.just(case_no),
                    st.just(case_no),
                    st.from_regex(CASE_NUMBER_PATTERN, fullmatch=True),
                    from_schema(schema).map(as_text),
                    any_text,
                )
            )
            url = url.replace(f"{{{name}}}", quote(value, safe="") or "%20")
        elif where == "query":
            if draw(st.booleans()):
                continue
            item: st.SearchStrategy[str] = from_schema(schema).map(as_text) | any_text
            if name == "check_code":
                item = st.just(code) | item  # the existing case's own, at times
            if schema.get("type") == "array" or any("items" in s for s in schema.get("anyOf", ())):
                query[name] = draw(st.lists(item, max_size=3))
            else:
                query[name] = draw(item)
        elif where == "header" and draw(st.booleans()):
            headers[name] = draw(printable)
    body: Json | None = None
    raw: bytes | None = None
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    how = draw(st.sampled_from(("seed", "seed", "seed", "seed", "schema", "any", "none", "raw")))
    if how == "seed" and valid and content:
        body = draw(mutated(valid, content["schema"]))
    elif how in ("seed", "schema") and content:
        body = draw(from_schema(content["schema"]))
    elif how == "any":
        body = draw(any_json)
    elif how == "raw":
        raw = draw(st.binary(max_size=40) | any_text.map(str.encode))
    # the role that may act on the route half of the time, so that requests get past R22
    preferred = next((role for part, role in ROLE_OF_ROUTE if part in path), "clerk")
    caller = draw(st.sampled_from((*CALLERS, preferred, preferred, preferred, preferred)))
    return Request(caller, method, url, query, headers, body, raw)


# ---- the test --------------------------------------------------------------------------------


@dataclass
class Target:
    """The app under test, its callers' headers and a case that exists."""

    app: FastAPI
    client: httpx.AsyncClient
    auth: dict[str, dict[str, str]]
    case_no: str
    code: str
    seeds: dict[tuple[str, str], list[dict[str, Json]]]

    async def send(self, request: Request) -> httpx.Response:
        self.app.state.rate_limits.reset()
        headers = {**self.auth[request.caller], **request.headers}
        if request.raw is not None:
            headers["content-type"] = "application/json"
            content = request.raw
        elif request.body is not None:
            content = json.dumps(request.body).encode()
            headers["content-type"] = "application/json"
        else:
            content = None
        return await self.client.request(
            request.method, request.path, params=request.query, headers=headers, content=content
        )


@pytest.fixture
async def target(
    engine: CaseService,
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    settings: Settings,
) -> AsyncIterator[Target]:
    """The app with the public router, a token for each role, and an accepted
    case on which the reviewer's department (ZRZY) has a task (the public rating's seed
    carries its check code)."""
    auth: dict[str, dict[str, str]] = {"none": {}}
    accounts = (
        ("clerk", "clerk", None),
        ("reviewer", "reviewer", "ZRZY"),
        ("supervisor", "supervisor", None),
        ("auditor", "auditor", None),
    )
    with sessions.begin() as session:
        tokens = create_users_with_tokens(session, accounts, datetime.now(UTC))
    auth |= {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
    app = create_app(service=engine, sessions=sessions)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        body = seeds(catalogue)[("/cases", "POST")][0]
        submitted = await client.post("/cases", json=body, headers=auth["clerk"])
        assert submitted.status_code == 201, submitted.text
        case_no = submitted.json()["case_no"]
        accepted = await client.post(f"/cases/{case_no}/accept", headers=auth["clerk"])
        assert accepted.status_code == 200, accepted.text
        code = check_code(case_no, settings.audit_key_bytes)
        rating = {"check_code": code, "level": "satisfied", "concerns": ["ZRZY"], "comment": "好"}
        valid = seeds(catalogue) | {("/public/cases/{case_no}/rating", "POST"): [rating]}
        yield Target(app, client, auth, case_no, code, valid)


def problem_of(response: httpx.Response) -> str | None:
    """What is wrong with a response, if anything: a 5xx, or a 4xx whose body does not name
    the field and the reason."""
    if response.status_code >= 500:
        return f"{response.status_code}: {response.text[:500]}"
    if response.status_code < 400:
        return None
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return f"{response.status_code} without a JSON object body: {response.text[:200]}"
    if (
        isinstance(detail, dict)
        and isinstance(detail.get("field"), str)
        and isinstance(detail.get("reason"), str)
    ):
        return None
    return f"{response.status_code} without detail.field and detail.reason: {response.text[:300]}"


@pytest.mark.parametrize("store_backend", ["sqlite"])
@pytest.mark.parametrize(("path", "method"), ROUTES)
async def test_no_generated_request_is_a_5xx_and_every_4xx_names_the_field(
    target: Target, path: str, method: str
) -> None:
    """60 generated requests per route, as any role or nobody: no 5xx; every 4xx
    is ``{"detail": {"field": ..., "reason": ...}}``."""
    loop = asyncio.get_running_loop()
    valid = target.seeds.get((path, method), [])

    @hypothesis_settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    @given(request=requests(path, method, target.case_no, target.code, valid))
    def fuzz(request: Request) -> None:
        response = asyncio.run_coroutine_threadsafe(target.send(request), loop).result(60)
        problem = problem_of(response)
        assert problem is None, f"{request}\n  -> {problem}"

    # hypothesis drives the examples from a thread; each request runs on the test's loop,
    # where the engine's Temporal client lives
    await asyncio.to_thread(fuzz)


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_a_body_that_is_not_utf8_is_a_4xx_naming_the_body(target: Target) -> None:
    """Found by the fuzzing: every refusal names its field, also for an undecodable body."""
    headers = {**target.auth["clerk"], "content-type": "application/json"}
    response = await target.client.post("/cases", content=b"\x80", headers=headers)
    assert response.status_code < 500
    assert response.json()["detail"]["field"] == "body", response.text
