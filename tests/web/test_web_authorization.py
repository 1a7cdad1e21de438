"""Who may see and post what in the web console (R22), table-driven: every page and every form
post × the clerk, a reviewer of a department on the case, a reviewer of another department,
the supervisor, the auditor and a visitor without a login. Refused posts and pages on a case
are 403 pages that show nothing of the case and are kept in its audit log (R21); a visitor
without a login is sent to the login page and leaves nothing.

Adding a page or a form is one line of PAGES or CASE_PAGES."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from approval.auditing.integrity import verify_store
from approval.config import Settings
from tests.web.test_web import SPJY, Login, app, console_client, received_case, tokens, web
from tests.workflows.test_workflow import recorded

__all__ = ["app", "tokens", "web"]  # the console's fixtures, shared with tests/web/test_web.py

APPLICANT = "滨州示例餐饮有限公司"
# who calls: the reviewer of SCJG (a department of SPJY) and of ZJJ (not on SPJY)
CALLERS = ("clerk", "rev-SCJG", "outsider", "supervisor", "auditor", "anonymous")
CLERK = frozenset({"clerk"})
LOGGED_IN = frozenset(CALLERS) - {"anonymous"}
SUPERVISOR = frozenset({"supervisor"})
EXPERT_REVIEW = {"procedure": "testing", "reason": "需检测样品", "expected_wd": "5"}
MEETING = {"departments": "SCJG", "present_SCJG": "1", "minutes": "会议纪要"}
UNKNOWN = "371600-20260101-999999"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# Pages and posts not bound to a case: (method, path, form, the callers allowed, the status an
# allowed caller gets). Anyone else logged in gets 403; a visitor without a login, 303 to it.
PAGES: tuple[tuple[str, str, dict[str, str] | None, frozenset[str], int], ...] = (
    ("GET", "/web/login", None, frozenset(CALLERS), 200),
    ("GET", "/web/", None, LOGGED_IN, 303),
    ("GET", "/web/cases/new", None, CLERK, 200),
    # the clerk's desk: the case list and its search (窗口工作台)
    ("GET", "/web/cases", None, CLERK, 200),
    ("GET", "/web/cases?q=371600&stage=received&received_from=2026-01-01", None, CLERK, 200),
    # one's own password: anyone signed in; a wrong current password is 422
    ("GET", "/web/password", None, LOGGED_IN, 200),
    (
        "POST",
        "/web/password",
        {"current": "x", "new": "y" * 8, "repeated": "y" * 8},
        LOGGED_IN,
        422,
    ),
    ("GET", "/web/inbox", None, frozenset({"rev-SCJG", "outsider"}), 200),
    ("GET", "/web/board", None, frozenset({"supervisor", "auditor"}), 200),
    # the efficiency dashboard (效能评估, R19, R20): supervisors and auditors
    ("GET", "/web/dashboard", None, frozenset({"supervisor", "auditor"}), 200),
    ("GET", "/web/dashboard/monthly", None, frozenset({"supervisor", "auditor"}), 200),
    ("GET", "/web/dashboard/efficiency.csv", None, frozenset({"supervisor", "auditor"}), 200),
    ("GET", "/web/dashboard/efficiency.xlsx", None, frozenset({"supervisor", "auditor"}), 200),
    ("GET", "/web/dashboard/drill", None, frozenset({"supervisor", "auditor"}), 422),
    (
        "POST",
        "/web/cases",
        {
            "matter_code": SPJY,
            "applicant_name": APPLICANT,
            "id_number": "91371600MA3C00000L",
            **{f"sha_{c}": sha(c) for c in ("SQS", "PMT", "GLZD", "JKZM")},
        },
        CLERK,
        303,
    ),
    ("GET", "/web/static/console.css", None, frozenset(CALLERS), 200),
    # the public progress page: anyone, logged in or not; a miss is its own 404 page
    ("GET", "/web/progress", None, frozenset(CALLERS), 200),
    (
        "POST",
        "/web/progress",
        {"case_no": UNKNOWN, "check_code": "0" * 16},
        frozenset(CALLERS),
        404,
    ),
    ("POST", "/web/logout", {}, frozenset(CALLERS), 303),  # last: it forgets the login
)

# The case's page and forms, in an order that walks a SPJY case (received without SQS)
# forward: (method, path after /web/cases/<case>, form, the callers allowed, the status an
# allowed caller gets, the action a refusal is recorded under). The allowed caller goes last,
# as it moves the case on; fee and delivery are then refused by the case's stage (409).
CASE_PAGES: tuple[tuple[str, str, dict[str, str] | None, frozenset[str], int, str], ...] = (
    ("POST", "/notice", {"defective": ""}, CLERK, 200, "issue_notice"),
    ("POST", "/supplement", {"sha_SQS": sha("SQS")}, CLERK, 200, "supplement"),
    ("POST", "/accept", {}, CLERK, 200, "accept"),
    ("GET", "", None, LOGGED_IN - {"outsider"}, 200, "read_status"),
    # a material's file: typed in as a hash here, so none is kept (404 past the access check)
    ("GET", "/materials/PMT/file", None, LOGGED_IN - {"outsider"}, 404, "read_materials"),
    # a notice printed as a PDF: N99 is no notice of the case (404 past the access check)
    ("GET", "/notices/N99.pdf", None, LOGGED_IN - {"outsider"}, 404, "read_notices"),
    ("POST", "/extend", {"reason": "需组织专家论证"}, frozenset({"supervisor"}), 200, "extend"),
    ("POST", "/exclude", EXPERT_REVIEW, SUPERVISOR, 200, "open_excluded_period"),
    ("POST", "/resume", {"result": "方案可行"}, SUPERVISOR, 200, "close_excluded_period"),
    ("POST", "/meeting", MEETING, SUPERVISOR, 200, "record_meeting"),
    ("POST", "/decision", {"outcome": "approve"}, frozenset({"rev-SCJG"}), 200, "decide"),
    ("POST", "/fee", {"amount_yuan": "0.00", "receipt_no": "R-1"}, CLERK, 409, "collect_fee"),
    ("POST", "/deliver", {"method": "窗口领取"}, CLERK, 409, "deliver"),
    ("POST", "/withdraw", {"reason": "申请人主动撤回"}, CLERK, 200, "withdraw"),
)


def expected(caller: str, allowed: frozenset[str], success: int) -> int:
    """303 to the login without one, 403 for a role (or department) that may not, else
    ``success``."""
    if caller not in allowed:
        return 303 if caller == "anonymous" else 403
    return success


async def call(
    client: httpx.AsyncClient, method: str, path: str, form: dict[str, str] | None
) -> httpx.Response:
    """``method path`` with ``form`` as the posted form."""
    return await client.request(method, path, data=form)


def check_refusal(response: httpx.Response, caller: str, want: int) -> None:
    """A refused request shows no case data: the 403 page with its line, or the login."""
    assert "Traceback" not in response.text
    if want == 403:
        assert "403 无权访问" in response.text and 'role="alert"' in response.text
        assert APPLICANT not in response.text
    if want == 303 and caller == "anonymous":
        assert response.headers["location"] == "/web/login"


async def clients(web: Login, app: FastAPI) -> dict[str, httpx.AsyncClient]:
    """A console client per caller; the anonymous one has no cookie."""
    made = {name: await web(name) for name in CALLERS if name != "anonymous"}
    made["anonymous"] = await console_client(app)
    return made


async def test_R22_R21_every_console_page_and_post_by_every_caller(
    web: Login, app: FastAPI, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """R22: every page and form post × every caller gets its expected status; only the
    allowed roles (and the case's own department) get past the check, a refusal is the 403
    page without the case's data, a visitor without a login is sent to it. R21: every refused
    attempt on the case by a logged-in caller is an ActionRefused event in the caller's name
    and under the action's name, also once the case is withdrawn; the chain still verifies."""
    by = await clients(web, app)
    case_no = await received_case(by["clerk"], SPJY, ("PMT", "GLZD", "JKZM"))
    got: dict[tuple[str, str], int] = {}
    want: dict[tuple[str, str], int] = {}
    refusals: list[tuple[str, str]] = []
    try:
        for method, suffix, form, allowed, success, action in CASE_PAGES:
            for caller in sorted(CALLERS, key=lambda c: c in allowed):
                response = await call(by[caller], method, f"/web/cases/{case_no}{suffix}", form)
                got[(caller, suffix)] = response.status_code
                want[(caller, suffix)] = expected(caller, allowed, success)
                check_refusal(response, caller, want[(caller, suffix)])
                if want[(caller, suffix)] in (403, 409):
                    refusals.append((caller, action))
        # the case is withdrawn now: a refused attempt is still kept (straight into the store)
        late = await by["auditor"].post(f"/web/cases/{case_no}/accept")
        assert late.status_code == 403
        refusals.append(("auditor", "accept"))
        for method, path, form, allowed, success in PAGES:
            for caller in CALLERS:
                response = await call(by[caller], method, path, form)
                got[(caller, path)] = response.status_code
                want[(caller, path)] = expected(caller, allowed, success)
                check_refusal(response, caller, want[(caller, path)])
        assert got == want
    finally:
        await by["anonymous"].aclose()
    found = await recorded(sessions, case_no, "ActionRefused", len(refusals))
    assert sorted((e.actor_id, e.payload["action"]) for e in found) == sorted(refusals)
    assert verify_store(sessions, settings.audit_key_bytes, [case_no])[1] == []


async def test_R22_a_reviewer_of_another_department_cannot_decide_from_a_forged_form(
    web: Login, sessions: sessionmaker[Session]
) -> None:
    """R22: a reviewer whose department has no task on the case posting the decision form
    anyway gets the 403 page naming the department, the case is unchanged and the attempt is
    kept (R21); its inbox never lists the case."""
    clerk = await web("clerk")
    case_no = await received_case(clerk, SPJY, ("SQS", "PMT", "GLZD", "JKZM"))
    assert (await clerk.post(f"/web/cases/{case_no}/accept")).status_code == 200
    outsider = await web("outsider")
    assert case_no not in (await outsider.get("/web/inbox")).text
    forged: dict[str, Any] = {"outcome": "approve", "request_id": "forged-1"}
    response = await outsider.post(f"/web/cases/{case_no}/decision", data=forged)
    assert response.status_code == 403
    assert "department: 部门 ZJJ 在办件" in response.text
    [refusal] = await recorded(sessions, case_no, "ActionRefused", 1)
    assert (refusal.actor_id, refusal.payload["field"]) == ("outsider", "department")
    page = await clerk.get(f"/web/cases/{case_no}")
    tasks = page.text.split('id="tasks"')[1].split("</table>")[0]
    assert "并联审查中" in page.text and "审查中" in tasks and "outsider" not in tasks
