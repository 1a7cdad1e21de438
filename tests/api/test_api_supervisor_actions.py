"""The supervisor's actions over HTTP: an excluded period opened and closed (art. 45, R12) and
a joint review meeting whose absent departments are deemed to agree (R10); bad input names
its field, and only a supervisor may act (R22, refusals recorded — R21)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from approval.domain.catalogue import Catalogue
from approval.store.audit_log import events_of
from tests.api.test_api import Api, accepted_case, api
from tests.workflows.test_workflow import recorded

__all__ = ["api"]  # the fixture, shared with the API's own tests

EXPERT_REVIEW = {"procedure": "expert_review", "reason": "方案涉及重大安全事项", "expected_wd": 10}


async def test_R12_a_supervisor_opens_and_closes_an_excluded_period(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R12: POST /excluded-period stops the clocks (stage excluded_period, the period shown,
    lights paused) and the applicant's notice is stored; a department's decision meanwhile is
    refused (409); POST /excluded-period/close resumes the review."""
    case_no = await accepted_case(api, catalogue)
    opened = await api.call(
        "supervisor", "POST", f"/cases/{case_no}/excluded-period", EXPERT_REVIEW
    )
    assert opened.status_code == 200, opened.text
    status = opened.json()
    assert status["stage"] == "excluded_period"
    assert status["excluded_period"]["procedure"] == "expert_review"
    assert status["case_clock"]["light"] == "paused"

    meanwhile = await api.call(
        "rev-ZJJ", "POST", f"/cases/{case_no}/decision", {"outcome": "approve"}
    )
    assert meanwhile.status_code == 409
    assert meanwhile.json()["detail"]["field"] == "stage"

    closed = await api.call(
        "supervisor", "POST", f"/cases/{case_no}/excluded-period/close", {"result": "方案可行"}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["stage"] == "in_review" and closed.json()["excluded_period"] is None
    with sessions() as session:
        types = [e.type for e in events_of(session, case_no)]
    assert types.count("ExcludedPeriodOpened") == types.count("ExcludedPeriodClosed") == 1


async def test_R10_a_meeting_recorded_over_http_deems_the_absent_departments(
    api: Api, catalogue: Catalogue
) -> None:
    """R10: with ZRZY and ZJJ approving and RFB, CGJ absent from the recorded meeting, the case
    is approved at once, naming RFB and CGJ as deemed by absence."""
    case_no = await accepted_case(api, catalogue)
    for department in ("ZRZY", "ZJJ"):
        decided = await api.call(
            f"rev-{department}", "POST", f"/cases/{case_no}/decision", {"outcome": "approve"}
        )
        assert decided.status_code == 200, decided.text
    body = {"present": ["ZRZY", "ZJJ"], "absent": ["RFB", "CGJ"], "minutes": "会议纪要"}

    recorded = await api.call("supervisor", "POST", f"/cases/{case_no}/meetings", body)

    assert recorded.status_code == 200, recorded.text
    decision = recorded.json()["decision"]
    assert decision["approved"] is True
    assert decision["absent_departments"] == ["RFB", "CGJ"]


async def test_R10_R12_bad_input_names_the_field(api: Api, catalogue: Catalogue) -> None:
    """An unknown procedure, a zero expected length, a department not on the case, a department
    named twice and an empty attendance are each a 422 naming the field; nothing is recorded."""
    case_no = await accepted_case(api, catalogue)
    cases = [
        ("excluded-period", {**EXPERT_REVIEW, "procedure": "picnic"}, "procedure"),
        ("excluded-period", {**EXPERT_REVIEW, "expected_wd": 0}, "expected_wd"),
        ("meetings", {"present": ["ZRZY"], "absent": ["SCJG"], "minutes": "纪要"}, "absent"),
        ("meetings", {"present": ["ZRZY"], "absent": ["ZRZY"], "minutes": "纪要"}, "absent"),
        ("meetings", {"minutes": "纪要"}, "present"),
    ]
    for path, body, field in cases:
        refused = await api.call("supervisor", "POST", f"/cases/{case_no}/{path}", body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["detail"]["field"] == field, refused.text
    status = (await api.call("supervisor", "GET", f"/cases/{case_no}")).json()
    assert status["stage"] == "in_review"


async def test_R21_R22_only_a_supervisor_opens_an_excluded_period_or_records_a_meeting(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R21/R22: a clerk and a reviewer are refused with 403, and each refusal is kept in the
    case's record with the actor and the action."""
    case_no = await accepted_case(api, catalogue)
    meeting = {"present": ["ZRZY"], "absent": ["RFB"], "minutes": "纪要"}
    for caller in ("clerk", "reviewer"):
        for path, body in (("excluded-period", EXPERT_REVIEW), ("meetings", meeting)):
            refused = await api.call(caller, "POST", f"/cases/{case_no}/{path}", body)
            assert refused.status_code == 403, refused.text
    kept = await recorded(sessions, case_no, "ActionRefused", 4)
    refusals = [(e.actor_id, e.payload["action"]) for e in kept]
    assert sorted(refusals) == sorted(
        (caller, action)
        for caller in ("clerk", "reviewer")
        for action in ("open_excluded_period", "record_meeting")
    )
