"""The supervisor's lists (/supervision/escalations, /supervision/overdue) on the time-skipping
Temporal server and a real store (SQLite and PostgreSQL): review periods pass in moments, and
the lists show what the read model recorded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from approval.domain.catalogue import Catalogue
from tests.api import test_api
from tests.api.test_api import Api, accepted_case
from tests.workflows.test_workflow import recorded

api = test_api.api  # the API fixture: its users and their tokens
HAZARD = "AJ-WHPJY-001"  # silent consent excluded; YJJ, ZRZY, XF, GA
HAZARD_DEPARTMENTS = ["GA", "XF", "YJJ", "ZRZY"]


async def test_R9_escalations_list_the_open_tasks_of_a_safety_matter_not_silent_consent(
    api: Api,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """R9: once the review periods pass, every task of the safety matter (silent consent
    excluded) is escalated, still open, and listed, earliest deadline first; the GHXK case's
    silent department is deemed approved instead and is not listed. The list pages with
    limit/offset; the auditor reads it too."""
    hazard = await accepted_case(api, catalogue, HAZARD)
    ghxk = await accepted_case(api, catalogue)
    for department in ("ZRZY", "ZJJ", "RFB"):
        decided = await api.call(
            f"rev-{department}", "POST", f"/cases/{ghxk}/decision", {"outcome": "approve"}
        )
        assert decided.status_code == 200, decided.text
    empty = (await api.call("supervisor", "GET", "/supervision/escalations")).json()
    assert (empty["total"], empty["tasks"]) == (0, [])

    await time_skipping_env.sleep(timedelta(days=40))
    assert len(await recorded(sessions, hazard, "ReviewEscalated", 4)) == 4
    assert await recorded(sessions, ghxk, "ReviewDeemedApproved", 1)

    page = (await api.call("supervisor", "GET", "/supervision/escalations")).json()
    assert page["total"] == 4
    assert {(t["case_no"], t["department"]) for t in page["tasks"]} == {
        (hazard, d) for d in HAZARD_DEPARTMENTS
    }
    assert all(t["escalated"] and t["state"] == "pending" for t in page["tasks"])
    dues = [t["due"] for t in page["tasks"]]
    assert dues == sorted(dues)
    second = (await api.call("auditor", "GET", "/supervision/escalations?limit=1&offset=1")).json()
    assert (second["total"], second["limit"], second["offset"]) == (4, 1, 1)
    assert second["tasks"] == page["tasks"][1:2]


async def test_R9_overdue_lists_the_cases_whose_departments_let_the_period_pass(
    api: Api,
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """R9: a case whose department stayed silent past its period is listed as overdue with
    that department's task (deemed approved, overdue); a case decided on time is not."""
    late = await accepted_case(api, catalogue)
    on_time = await accepted_case(api, catalogue)
    for department in ("ZRZY", "ZJJ", "RFB", "CGJ"):
        for case_no in (late, on_time):
            if case_no == late and department == "CGJ":
                continue
            decided = await api.call(
                f"rev-{department}", "POST", f"/cases/{case_no}/decision", {"outcome": "approve"}
            )
            assert decided.status_code == 200, decided.text
    await time_skipping_env.sleep(timedelta(days=10))
    assert await recorded(sessions, late, "ReviewDeemedApproved", 1)

    page = (await api.call("supervisor", "GET", "/supervision/overdue")).json()
    assert page["total"] == 1
    (case,) = page["cases"]
    assert case["case_no"] == late and case["case_overdue"] is False
    assert [(t["department"], t["state"], t["overdue"]) for t in case["tasks"]] == [
        ("CGJ", "deemed_approved", True)
    ]
    by_auditor = await api.call("auditor", "GET", "/supervision/overdue?limit=1&offset=1")
    assert by_auditor.json() == {"total": 1, "limit": 1, "offset": 1, "cases": []}
