"""The applicant's notices over HTTP (GET /cases/{case_no}/notices) and the clerk's
non-acceptance (POST /cases/{case_no}/refuse), on the time-skipping Temporal server and a real
store (SQLite and PostgreSQL): the notices in the order they were issued, readable as the
case's materials are (R22), and a refusal at the window that closes the case with its 不予受理
notice; every refused attempt is kept in the case's record (R21)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from approval.domain.catalogue import Catalogue
from approval.store.audit_log import events_of, notices_of
from tests.api import test_api
from tests.api.test_api import REFUSE, SUPPLEMENT, Api, application, closed

api = test_api.api  # the API fixture: its users and their tokens


async def submitted_case(api: Api, catalogue: Catalogue, *leave_out: str) -> str:
    """A GHXK case received by the clerk through the API, without ``leave_out``."""
    submitted = await api.call(
        "clerk", "POST", "/cases", application(catalogue, leave_out=leave_out)
    )
    assert submitted.status_code == 201, submitted.text
    case_no: str = submitted.json()["case_no"]
    return case_no


def refusals(sessions: sessionmaker[Session], case_no: str) -> list[tuple[str, str, str]]:
    """The case's refused attempts: actor, action and field."""
    with sessions() as session:
        rows = [e for e in events_of(session, case_no) if e.type == "ActionRefused"]
    return [(e.actor_id, e.payload["action"], e.payload["field"]) for e in rows]


async def test_R22_R21_the_notices_are_listed_in_issue_order_to_those_who_read_the_case(
    api: Api,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """R22: a case told to supplement RFSJ, supplemented, accepted and withdrawn lists its
    one-time notice, acceptance voucher and withdrawal notice in that order, each with its
    number, kind, title, full text and time as stored; the clerk, the supervisor, the auditor
    and the reviewer of a department on the case read the same list (empty before the first
    notice). R21: the reviewer of a department without a task is refused (403) and the attempt
    kept; a number no case has is 404 naming case_no."""
    case_no = await submitted_case(api, catalogue, "RFSJ")
    path = f"/cases/{case_no}/notices"
    assert (await api.call("clerk", "GET", path)).json() == []
    for step, body in (("notice", None), ("supplement", SUPPLEMENT), ("accept", None)):
        done = await api.call("clerk", "POST", f"/cases/{case_no}/{step}", body)
        assert done.status_code == 200, done.text
    assert (await api.call("clerk", "POST", f"/cases/{case_no}/withdraw")).status_code == 200
    await closed(time_skipping_env, case_no)

    listed = await api.call("reviewer", "GET", path)
    assert listed.status_code == 200, listed.text
    notices = listed.json()
    assert [n["kind"] for n in notices] == [
        "one_time_notice",
        "acceptance_voucher",
        "withdrawal_notice",
    ]
    with sessions() as session:
        stored = notices_of(session, case_no)
    assert [(n["notice_no"], n["title"], n["body"]) for n in notices] == [
        (row.notice_no, row.title, row.body) for row in stored
    ]
    assert [set(n) for n in notices] == [{"notice_no", "kind", "title", "body", "issued_at"}] * 3
    assert "人防工程设计说明（RFSJ）：未提交" in notices[0]["body"]
    for reader in ("clerk", "supervisor", "auditor"):
        assert (await api.call(reader, "GET", path)).json() == notices

    outsider = await api.call("outsider", "GET", path)
    assert outsider.status_code == 403
    assert outsider.json()["detail"]["field"] == "case_no"
    assert refusals(sessions, case_no) == [("outsider", "read_notices", "case_no")]
    unknown = await api.call("clerk", "GET", "/cases/371600-20260101-999999/notices")
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["field"] == "case_no"


async def test_R1_R21_R22_a_clerks_refusal_closes_the_case_with_the_non_acceptance_notice(
    api: Api,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """R1, R22: a reviewer may not refuse a received case (403 naming actor.role); the clerk
    does, with the reason and the competent organ, and the case closes as not accepted with
    one notice, the 不予受理通知书 stating both. R21: the reviewer's attempt is kept in the
    case's record, and so is one made after the case closed; a refusal without a reason is a
    422 naming reason and changes nothing."""
    case_no = await submitted_case(api, catalogue)
    path = f"/cases/{case_no}/refuse"
    early = await api.call("reviewer", "POST", path, REFUSE)
    assert early.status_code == 403, early.text
    assert early.json()["detail"]["field"] == "actor.role"
    no_reason = await api.call("clerk", "POST", path, {"competent_organ": "省自然资源厅"})
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"]["field"] == "reason"

    refused = await api.call("clerk", "POST", path, REFUSE)
    assert refused.status_code == 200, refused.text
    assert refused.json()["stage"] == "not_accepted"
    await closed(time_skipping_env, case_no)
    late = await api.call("reviewer", "POST", path, REFUSE)
    assert late.status_code == 403

    notices = (await api.call("clerk", "GET", f"/cases/{case_no}/notices")).json()
    assert [(n["kind"], n["title"]) for n in notices] == [
        ("non_acceptance_voucher", "不予受理通知书")
    ]
    assert REFUSE["reason"] in notices[0]["body"]
    assert f"请向{REFUSE['competent_organ']}申请" in notices[0]["body"]
    assert refusals(sessions, case_no) == [("reviewer", "refuse", "actor.role")] * 2
    with sessions() as session:
        types = [e.type for e in events_of(session, case_no)]
    assert types.count("ApplicationNotAccepted") == 1
