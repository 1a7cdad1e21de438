"""The API's ``/metrics`` (approval.api.observability): Prometheus text whose figures move with
what the API answered — requests by route and status, their latency, 429s past the public rate
limit, the read model's cases by stage — and the request id every answer carries."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from approval.api.app import create_app
from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.service import CaseService
from tests.api.test_api import DEPARTMENTS, Api, accepted_case, api

__all__ = ["api"]  # the fixture, shared with the API's own tests

DECISION_ROUTE = "/cases/{case_no}/decision"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""Every sample of a scrape: (name, labels) → value."""


async def scrape(client: httpx.AsyncClient) -> Samples:
    """Every sample of ``/metrics``: (name, labels) → value."""
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples ``name`` whose labels include ``labels``; 0 when there is none."""
    wanted = set(labels.items())
    return sum(v for (found, has), v in samples.items() if found == name and wanted <= has)


async def test_requests_latency_and_cases_by_stage_move_with_a_case(
    api: Api, catalogue: Catalogue
) -> None:
    """A case accepted and decided by its four departments through the API: the four
    decisions are counted under their route template and status 200 and timed, and the read
    model's case shows under its stage; before it, no decision was counted and no case."""
    before = await scrape(api.client)
    assert value(before, "approval_http_requests_total", method="POST", route=DECISION_ROUTE,
                 status="200") == 0  # fmt: skip
    case_no = await accepted_case(api, catalogue)
    for department in DEPARTMENTS:
        decided = await api.call(
            f"rev-{department}", "POST", f"/cases/{case_no}/decision", {"outcome": "approve"}
        )
        assert decided.status_code == 200, decided.text
    stage = decided.json()["stage"]

    after = await scrape(api.client)
    assert value(after, "approval_http_requests_total", method="POST", route=DECISION_ROUTE,
                 status="200") == len(DEPARTMENTS)  # fmt: skip
    assert value(after, "approval_http_request_seconds_count", route=DECISION_ROUTE) == 4
    assert value(after, "approval_http_request_seconds_sum", route=DECISION_ROUTE) > 0
    assert value(after, "approval_cases", stage=stage) == 1
    assert sum(v for (name, _), v in after.items() if name == "approval_cases") == 1


async def test_a_request_no_route_takes_is_counted_under_one_label(api: Api) -> None:
    """404s of arbitrary paths are counted under the route ``unmatched``, not one label per
    path (a scanner cannot blow up the metrics)."""
    for path in ("/no-such-thing", "/etc/passwd", "/cases/x/y/z"):
        assert (await api.client.get(path)).status_code == 404
    samples = await scrape(api.client)
    assert value(samples, "approval_http_requests_total", method="GET", route="unmatched",
                 status="404") == 3  # fmt: skip
    assert not any(dict(labels).get("route") == "/etc/passwd" for _, labels in samples)


async def test_R22_public_queries_past_the_rate_limit_are_counted(
    engine: CaseService, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """R22: past APPROVAL_PUBLIC_RATE_LIMIT (2/minute here) the public query is 429, and each
    429 is counted by route in ``approval_public_rate_limited_total``."""
    limited = settings.model_copy(update={"public_rate_limit": "2/minute"})
    app = create_app(service=engine, sessions=sessions, settings=limited)
    path = "/public/cases/371600-20260101-999999"
    transport = httpx.ASGITransport(app=app, client=("10.0.0.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        codes = [(await http.get(path, params={"check_code": "0" * 16})).status_code
                 for _ in range(5)]  # fmt: skip
        assert codes == [404, 404, 429, 429, 429]
        scraper = httpx.ASGITransport(app=app, client=("10.0.0.10", 40000))
        async with httpx.AsyncClient(transport=scraper, base_url="http://api.test") as other:
            samples = await scrape(other)
    route = "/public/cases/{case_no}"
    assert value(samples, "approval_public_rate_limited_total", route=route) == 3


async def test_every_answer_carries_a_request_id(api: Api) -> None:
    """A sane ``X-Request-ID`` is answered as given; a missing or malformed one is replaced by
    a new id, different for each request."""
    given = await api.client.get("/healthz", headers={"X-Request-ID": "desk-7.req-42"})
    assert given.headers["X-Request-ID"] == "desk-7.req-42"
    made = [
        (await api.client.get("/healthz", headers=headers)).headers["X-Request-ID"]
        for headers in ({}, {"X-Request-ID": "x" * 65}, {"X-Request-ID": "a b<script>"})
    ]
    assert len(set(made)) == 3
    assert all(len(found) == 32 and found.isalnum() for found in made)
