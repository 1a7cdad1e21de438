"""The auditor's endpoints (/audit/cases/{case_no}/…) on a case driven over the API, on the
time-skipping Temporal server and a real store (SQLite and PostgreSQL): the timeline tells the
case's story, the compliance check passes the rules the case kept, the verification finds an
edited event by its seq and, anchored in the case's Temporal history, a deleted last event the
store alone cannot show (Temporal out of reach: 503), the export is the hash-chained audit
log."""

from __future__ import annotations

from itertools import pairwise

import httpx
import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from approval.api.app import create_app
from approval.auditing.histories import case_replayer
from approval.auditing.integrity import verify_store
from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.domain.compliance import RULE_TITLES
from approval.service import EngineUnavailableError
from approval.store.audit_log import events_of
from approval.store.schema import CaseEventRow, CaseRow
from tests.api import test_api
from tests.api.test_api import DEPARTMENTS, Api, accepted_case, closed
from tests.api.test_edges_outages import stand_in
from tests.workflows.test_workflow import recorded

api = test_api.api  # the API fixture: its users and their tokens

AUDIT_PATHS = ("timeline", "check", "verify", "export")


async def approved_case(api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]) -> str:
    """A GHXK case accepted by the clerk and approved by each department's reviewer, once the
    store has recorded the decision."""
    case_no = await accepted_case(api, catalogue)
    for department in DEPARTMENTS:
        decided = await api.call(
            f"rev-{department}", "POST", f"/cases/{case_no}/decision", {"outcome": "approve"}
        )
        assert decided.status_code == 200, decided.text
    assert await recorded(sessions, case_no, "CaseApproved", 1)
    return case_no


async def test_the_timeline_tells_the_story_of_a_case_driven_over_the_api(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """The auditor's timeline has one entry per recorded event in seq order: received, accepted,
    the four tasks dispatched, each department's approval in its reviewer's name (in Chinese),
    the case approved; the supervisor reads the same."""
    case_no = await approved_case(api, catalogue, sessions)
    response = await api.call("auditor", "GET", f"/audit/cases/{case_no}/timeline")
    assert response.status_code == 200, response.text
    entries = response.json()["entries"]
    with sessions() as session:
        stored = [(e.seq, e.type) for e in events_of(session, case_no)]
    assert [(e["seq"], e["type"]) for e in entries] == stored
    types = [e["type"] for e in entries]
    assert types[:2] == ["ApplicationReceived", "ApplicationAccepted"]
    assert types.count("ReviewTaskDispatched") == len(DEPARTMENTS)
    assert types.index("CaseApproved") > max(
        i for i, t in enumerate(types) if t == "ReviewApproved"
    )
    approvals = {e["facts"]: e["who"] for e in entries if e["type"] == "ReviewApproved"}
    assert approvals == {d: f"部门审批人员 rev-{d}（{d}）" for d in DEPARTMENTS}
    assert entries[0]["label"] == "收件"
    by_supervisor = await api.call("supervisor", "GET", f"/audit/cases/{case_no}/timeline")
    assert by_supervisor.json() == response.json()


async def test_R14_the_check_passes_the_decision_of_an_approved_case(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R14 (and every rule the case kept): the compliance check of a case approved by every
    department on time passes; R14 cites the decision's events by seq."""
    case_no = await approved_case(api, catalogue, sessions)
    response = await api.call("auditor", "GET", f"/audit/cases/{case_no}/check")
    assert response.status_code == 200, response.text
    body = response.json()
    rules = {r["rule"]: r for r in body["rules"]}
    assert set(rules) == set(RULE_TITLES)
    assert rules["R14"]["verdict"] == "pass", rules["R14"]
    with sessions() as session:
        approved_at = next(e.seq for e in events_of(session, case_no) if e.type == "CaseApproved")
    assert approved_at in rules["R14"]["events"]
    assert body["passed"] is True
    assert not any(r["verdict"] == "fail" for r in body["rules"])


async def test_R21_verify_is_intact_until_an_event_is_edited_in_the_store(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R21: the case's chain verifies as intact; after one stored event's actor is changed
    behind the engine's back, verification names that seq as edited."""
    case_no = await approved_case(api, catalogue, sessions)
    path = f"/audit/cases/{case_no}/verify"
    intact = (await api.call("auditor", "GET", path)).json()
    with sessions() as session:
        count = len(events_of(session, case_no))
    assert intact == {
        "case_no": case_no,
        "events_checked": count,
        "intact": True,
        "findings": [],
        "anchored": True,
    }

    with sessions.begin() as session:
        session.execute(
            update(CaseEventRow)
            .where(CaseEventRow.case_no == case_no, CaseEventRow.seq == 2)
            .values(actor_id="someone-else")
        )
    broken = (await api.call("auditor", "GET", path)).json()
    assert broken["intact"] is False
    assert [(f["seq"], f["tampering"]) for f in broken["findings"]] == [(2, "edited")]


async def test_R21_the_export_is_the_hash_chained_audit_log(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R21: the export lists every stored event of the case in seq order with its actor and
    payload, each linked to the one before by its hash, and carries the case's Temporal
    history, which replays against the workflow without a mismatch."""
    case_no = await approved_case(api, catalogue, sessions)
    response = await api.call("auditor", "GET", f"/audit/cases/{case_no}/export")
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    with sessions() as session:
        stored = events_of(session, case_no)
    assert [(e["seq"], e["type"], e["hash"]) for e in events] == [
        (r.seq, r.type, r.hash) for r in stored
    ]
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in pairwise(events))
    assert events[0]["payload"]["matter_code"] == "JS-GHXK-001"
    assert events[0]["actor_id"] == "clerk"
    history = WorkflowHistory.from_json(case_no, response.json()["history"])
    assert history.events[0].HasField("workflow_execution_started_event_attributes")
    await case_replayer().replay_workflow(history)


async def test_R21_verify_finds_a_deleted_last_event_the_store_alone_cannot(
    api: Api,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    settings: Settings,
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """R21: a closed case's last event is deleted from the store and the read model's last seq
    set back to match, so that the store alone still verifies; the verification over HTTP,
    anchored in the case's Temporal history, reports the case not intact and names that seq
    as deleted."""
    case_no = await accepted_case(api, catalogue)
    assert (await api.call("clerk", "POST", f"/cases/{case_no}/withdraw")).status_code == 200
    await closed(time_skipping_env, case_no)
    with sessions.begin() as session:
        last = events_of(session, case_no)[-1].seq
        session.execute(
            delete(CaseEventRow).where(CaseEventRow.case_no == case_no, CaseEventRow.seq == last)
        )
        session.execute(update(CaseRow).where(CaseRow.case_no == case_no).values(last_seq=last - 1))
    assert verify_store(sessions, settings.audit_key_bytes, [case_no]) == (last - 1, [])

    response = await api.call("auditor", "GET", f"/audit/cases/{case_no}/verify")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["intact"], body["anchored"], body["events_checked"]) == (False, True, last - 1)
    assert [(f["seq"], f["tampering"]) for f in body["findings"]] == [(last, "deleted")]


async def test_R21_verify_with_temporal_out_of_reach_is_a_503_not_the_store_alone(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """R21: with the engine out of reach (every call raises EngineUnavailableError, as
    approval.service does when Temporal does not answer) nothing can be anchored: the
    verification is a 503 naming the engine, with Retry-After and the machine code
    engine_unavailable, never a 500 nor an answer from the store alone."""
    case_no = await accepted_case(api, catalogue)
    app = create_app(stand_in(settings, catalogue), sessions, settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        path = f"/audit/cases/{case_no}/verify"
        response = await client.get(path, headers=api.headers["auditor"])
    assert response.status_code == 503, response.text
    detail = response.json()["detail"]
    assert (detail["field"], detail["code"]) == ("engine", "engine_unavailable")
    assert response.headers["Retry-After"] == str(EngineUnavailableError.retry_after_s)


@pytest.mark.parametrize("what", AUDIT_PATHS)
async def test_an_unknown_case_is_a_404_naming_the_case_number(api: Api, what: str) -> None:
    """Every audit endpoint answers a well-formed number that no case has with 404 naming
    case_no and the number; a malformed one is a 422 naming case_no."""
    unknown = "371600-20260101-999999"
    response = await api.call("auditor", "GET", f"/audit/cases/{unknown}/{what}")
    assert response.status_code == 404, response.text
    detail = response.json()["detail"]
    assert detail["field"] == "case_no" and unknown in detail["reason"]
    malformed = await api.call("auditor", "GET", f"/audit/cases/not-a-case/{what}")
    assert malformed.status_code == 422
    assert malformed.json()["detail"]["field"] == "case_no"
