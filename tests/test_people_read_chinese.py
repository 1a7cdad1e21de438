"""What a person reads is Chinese (issue 13 item 4): every kind of notice the engine issues,
and the refusals the API answers for bad input (422), refused actions (409) and actions
another role or department may not take (403), carry no English word. An English word is a
run of two or more Latin letters; a token that holds one is allowed only when it is:

- a code of the demo catalogue (matter, material, department: ``JS-GHXK-001``, ``RFSJ``,
  ``ZRZY``) or a code-shaped token with a digit (a case number, a notice number, an R-rule
  id such as ``R22``, a code the input gave such as ``XX-NOPE-001``);
- a machine value a person types at the command line (an enumeration's value, such as
  ``request_supplement``), said where the refusal lists what may be given;
- a stable machine code said beside its Chinese, such as a finding's kind in the audit chain
  (``内容被改动（edited）``) or a table's name (``审计事件表（case_events）``);
- an address (``http://…``); ``JSON``, the name of the format a request body must have;
  ``Temporal``, the name of the workflow server an auditor's command reaches, and the name of
  its namespace (``default``, as the operator configured it); the account of
  the user who acted (``rev-ZRZY``, ``clerk-01``: a user's id is a name, not a word);
- a command a person types, quoted in backticks (```auditor.py verify --store-only```).

The refusals' ``field`` is the machine path for programs and is not scanned; their ``reason``
is what a person reads, and must name the field in Chinese. Likewise the command line's
one-line errors start with the shared ``错误 error:`` marker and the field's machine path,
which are not scanned; what follows is."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from approval.auditing.integrity import (
    TABLE_LABELS,
    Anchor,
    crosscheck,
    differences,
    rebuild,
    verify_case,
)
from approval.domain.audit import Finding, Tampering, verify_chain
from approval.domain.case import Case
from approval.domain.catalogue import CasePolicy, Catalogue
from approval.domain.compliance import RULE_TITLES, RuleResult, Verdict
from approval.domain.documents import ProgressLookup, render_notice
from approval.domain.errors import DomainError
from approval.domain.events import ApplicationReceived, CaseApproved, CaseEvent, as_events
from approval.domain.models import (
    Accept,
    AnswerFollowUp,
    Channel,
    Deliver,
    ExcludedProcedure,
    Extend,
    IssueNotice,
    OpenExcludedPeriod,
    Outcome,
    Rate,
    RatingLevel,
    Refuse,
    Withdraw,
)
from approval.domain.notices import EDITION, Notice, NoticeKind
from approval.service import UNLISTED_MATTER
from approval.store.schema import CaseEventRow
from tests.api.test_api import DEPARTMENTS, Api, accepted_case, api, application
from tests.auditing.test_audit_anchor import (
    KEY,
    append,
    auditor_env,
    delete_from,
    edit,
    golden,
    rechain,
    rows_of,
    stored,
)
from tests.domain.test_compliance import (
    approved_path,
    check,
    consolidated_path,
    deemed_acceptance_path,
    deemed_path,
    delivery_overdue_path,
    edited,
    escalated_path,
    extension_path,
    intake_notice_path,
    rejection_path,
    without,
)
from tests.domain.test_supervision_rules import in_expert_review, meeting
from tests.domain_fixtures import (
    CATALOGUE,
    GHXK,
    MONDAY,
    applicant_actor,
    approve,
    at,
    clerk,
    item,
    notices,
    received_case,
    reject,
    request,
    reviewer,
    supervisor,
)
from tests.processes import invoke_auditor

__all__ = ["api"]  # the API fixture of tests/api/test_api.py

TEMPORAL_NAMESPACE = "default"
"""The namespace the auditor's commands reach in these tests (tests.auditing.test_audit_anchor's
``auditor_env``)."""
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
TOKEN = re.compile(r"[A-Za-z0-9_.:/\-]+")
CODE_WITH_DIGIT = re.compile(r"^[A-Z0-9]+(?:[-_][A-Z0-9]+)*$")
CATALOGUE_CODES = {
    *(m.code for m in CATALOGUE.matters),
    *(r.code for r in CATALOGUE.referrals),
    *(material.code for m in CATALOGUE.matters for material in m.materials),
    *(review.department for m in CATALOGUE.matters for review in m.reviews),
}
MACHINE_VALUES = {
    *(
        value.value
        for kind in (Outcome, ExcludedProcedure, RatingLevel, Channel, Tampering)
        for value in kind
    ),
    *(table.__tablename__ for table in TABLE_LABELS),
}
PROPER_NAMES = {
    "JSON",
    "Temporal",
    TEMPORAL_NAMESPACE,
    clerk().id,
    *(f"rev-{department}" for department in DEPARTMENTS),
}
TYPED_COMMAND = re.compile(r"`[^`]*`")
ERROR_MARKER = re.compile(r"^错误 error: (?:[a-z_.]+: )?")
"""The command line's one-line error: its shared marker and the field's machine path."""
LOOKUP = ProgressLookup(check_code="K7Q2M9", address="http://127.0.0.1:8000/web/progress")


def english_words(text: str) -> list[str]:
    """The tokens of ``text`` that hold an English word and are not allowed (module doc)."""
    said = TYPED_COMMAND.sub(" ", text)
    return [token for token in TOKEN.findall(said) if not _allowed(token)]


def _allowed(token: str) -> bool:
    bare = token.strip(".:/-_")
    if not LATIN_WORD.search(bare) or token.startswith(("http://", "https://")):
        return True
    code = CODE_WITH_DIGIT.match(bare) is not None and any(c.isdigit() for c in bare)
    return code or bare in CATALOGUE_CODES | MACHINE_VALUES | PROPER_NAMES


def test_the_scan_finds_english_and_allows_only_what_it_says() -> None:
    """The scan itself: pydantic's English, an English parenthetical, a stage's machine name
    are found; catalogue codes, case numbers, R-rule ids and addresses are not."""
    assert english_words("证件号码格式不正确 String should match pattern") == [
        "String",
        "should",
        "match",
        "pattern",
    ]
    assert english_words("暂时无法连接 (engine unreachable)") == ["engine", "unreachable"]
    assert english_words("本案当前为 in_review") == ["in_review"]
    allowed = (
        "人防工程设计说明（RFSJ）JS-GHXK-001 371600-20261128-000001-N01（R22）ZRZY XX-NOPE-001"
    )
    assert english_words(f"{allowed} http://127.0.0.1:8000/web/progress") == []
    assert (
        english_words("第 2 号事件：内容被改动（edited）；`auditor.py verify --store-only`") == []
    )
    assert english_words("第 2 号事件：edited — content does not match") == [
        "content",
        "does",
        "not",
        "match",
    ]


# ---- every kind of notice ---------------------------------------------------------------------


POLICY = CasePolicy(progress_url=LOOKUP.address)
"""Notices of a case under supervision state its check code and the progress page."""
DAY = at(date(2026, 3, 3))


def _accepted() -> Case:
    """A GHXK case under POLICY, received complete and accepted on Monday 2026-03-02."""
    case = received_case(GHXK, policy=POLICY)
    case.handle(Accept(actor=clerk()), MONDAY)
    return case


def _at_the_window() -> list[Notice]:
    """Non-acceptance (R1), the one-time notice and the lapse after it (R3, R6)."""
    refused = received_case(GHXK, policy=POLICY)
    refused.handle(Refuse(actor=clerk(), reason="申请事项依法不需要取得行政许可"), MONDAY)
    lapsed = received_case(GHXK, materials=["SQB"], policy=POLICY)
    lapsed.handle(IssueNotice(actor=clerk(), defective=(item("SQB", "申请表未签字"),)), MONDAY)
    lapsed.advance_time(MONDAY + timedelta(days=40))
    return [*notices(refused.drain()), *notices(lapsed.drain())]


def _in_review() -> list[Notice]:
    """Acceptance, the consolidated notice, an extension and a withdrawal (R5, R11, R13,
    R18); an excluded period (R12); a rejection (R14)."""
    asked = _accepted()
    asked.handle(request("ZRZY", item("SJFA", "总平面图比例不符")), DAY)
    for department in ("ZJJ", "RFB", "CGJ"):
        asked.handle(approve(department), DAY)
    asked.handle(Extend(actor=supervisor(), reason="需组织专家论证"), DAY)
    asked.handle(Withdraw(actor=clerk(), reason="申请人调整建设计划"), DAY)
    excluded = _accepted()
    procedure = ExcludedProcedure.EXPERT_REVIEW
    opened = OpenExcludedPeriod(
        actor=supervisor(), procedure=procedure, reason="方案涉及重大安全事项", expected_wd=10
    )
    excluded.handle(opened, DAY)
    rejected = _accepted()
    for department in ("ZRZY", "ZJJ", "CGJ"):
        rejected.handle(approve(department), DAY)
    rejected.handle(reject("RFB", "未按规定配建人防工程"), DAY)
    return [*notices(asked.drain()), *notices(excluded.drain()), *notices(rejected.drain())]


def _after_the_decision() -> list[Notice]:
    """The approval and the certificate (R14, R16), a bad rating's follow-up answered (R20)."""
    approved = _accepted()
    for department in ("ZRZY", "ZJJ", "RFB", "CGJ"):
        approved.handle(approve(department), DAY)
    approved.handle(Deliver(actor=clerk()), DAY)
    rating = Rate(actor=applicant_actor(), level=RatingLevel.DISSATISFIED, concerns=("RFB",))
    approved.handle(rating, at(date(2026, 3, 4)))
    (follow_up_no,) = approved.state.follow_ups
    answer = AnswerFollowUp(
        actor=reviewer("RFB"),
        follow_up_no=follow_up_no,
        explanation="审查人员请假，未及时处理",
        remedy="已建立替岗制度",
    )
    approved.handle(answer, at(date(2026, 3, 5)))
    return notices(approved.drain())


def _outside_the_catalogue() -> Notice:
    """The voucher the service issues for a matter outside the catalogue, with the
    catalogue's own reason (approval.service.CaseService._not_accepted)."""
    with pytest.raises(DomainError) as refused:
        CATALOGUE.matter("XX-NOPE-001")
    return Notice(
        notice_no="371600-20260302-000009-N01",
        kind=NoticeKind.NON_ACCEPTANCE_VOUCHER,
        case_no="371600-20260302-000009",
        matter_code="XX-NOPE-001",
        matter_name=UNLISTED_MATTER,
        applicant_name="滨州示例建设有限公司",
        issued_at=MONDAY,
        edition=EDITION,
        reason=refused.value.reason,
    )


def test_every_kind_of_notice_is_chinese_and_names_materials_by_name() -> None:
    """R3, R5, R11, R14: one notice of every kind, rendered as the store renders it (with the
    check code and the progress page): no English word in any title or body; the one-time
    and consolidated notices name each material by its catalogue name; the non-acceptance of
    a matter outside the catalogue says why in Chinese."""
    issued = [*_at_the_window(), *_in_review(), *_after_the_decision(), _outside_the_catalogue()]
    rendered = [render_notice(n, CATALOGUE.centre, LOOKUP) for n in issued]
    assert {d.kind for d in rendered} == set(NoticeKind)
    for document in rendered:
        assert english_words(f"{document.title}\n{document.body}") == [], document.body
    one_time = next(d for d in rendered if d.kind is NoticeKind.ONE_TIME_NOTICE)
    assert "人防工程设计说明（RFSJ）：未提交。" in one_time.body
    consolidated = next(d for d in rendered if d.kind is NoticeKind.CONSOLIDATED_NOTICE)
    assert (
        "建设工程设计方案（总平面图及建筑单体图）（SJFA）：总平面图比例不符。" in consolidated.body
    )
    outside = rendered[-1]
    assert "不在本中心的政务服务事项目录内" in outside.body


# ---- refusals of the API ----------------------------------------------------------------------


async def _refusals(api: Api, catalogue: Catalogue) -> list[tuple[int, str, dict[str, Any]]]:
    """A broad set of refused requests: (status, what was tried, the refusal's detail)."""
    found: list[tuple[int, str, dict[str, Any]]] = []

    async def tried(what: str, caller: str, method: str, path: str, body: Any = None) -> None:
        response = await api.call(caller, method, path, body)
        assert response.status_code in (403, 409, 422), (what, response.text)
        found.append((response.status_code, what, response.json()["detail"]))

    good = application(catalogue)
    bad_inputs: Iterable[tuple[str, dict[str, Any]]] = [
        ("证件号码格式", {**good, "applicant": {**good["applicant"], "id_number": "abc"}}),
        (
            "证件号码校验位",
            {**good, "applicant": {**good["applicant"], "id_number": "91371600MA3C00000X"}},
        ),
        ("申请人名称为空", {**good, "applicant": {**good["applicant"], "name": ""}}),
        ("多余字段", {**good, "extra": 1}),
        ("防重号过短", {**good, "idempotency_key": "k"}),
        ("缺少事项", {k: v for k, v in good.items() if k != "matter_code"}),
        ("渠道取值", {**good, "channel": "fax"}),
        ("重复材料", {**good, "materials": good["materials"] * 2}),
        ("目录外事项", {**good, "matter_code": "XX-NOPE-001"}),
        ("他处办理事项", {**good, "matter_code": catalogue.referrals[0].code}),
    ]
    for what, body in bad_inputs:
        await tried(what, "clerk", "POST", "/cases", body)
    response = await api.client.post(
        "/cases",
        content=b"{not json",
        headers={**api.headers["clerk"], "content-type": "application/json"},
    )
    found.append((response.status_code, "请求内容不是 JSON", response.json()["detail"]))

    missing = application(catalogue, leave_out=("RFSJ",))
    submitted = await api.call("clerk", "POST", "/cases", missing)
    incomplete = submitted.json()["case_no"]
    await tried("缺材料受理", "clerk", "POST", f"/cases/{incomplete}/accept")
    await tried(
        "无缺失告知",
        "clerk",
        "POST",
        f"/cases/{incomplete}/notice",
        {"defective": [{"code": "RFSJ", "reason": "缺"}]},
    )
    await tried(
        "免提交材料",
        "clerk",
        "POST",
        f"/cases/{incomplete}/notice",
        {"defective": [{"code": "BDCQZ", "reason": "缺"}]},
    )

    case_no = await accepted_case(api, catalogue)
    decision = f"/cases/{case_no}/decision"
    await tried("再次受理", "clerk", "POST", f"/cases/{case_no}/accept")
    await tried("办件编号格式", "clerk", "POST", "/cases/2026-1/accept")
    await tried("窗口提出审查意见", "clerk", "POST", decision, {"outcome": "approve"})
    await tried("无任务部门", "outsider", "POST", decision, {"outcome": "approve"})
    await tried(
        "代他部门", "rev-ZRZY", "POST", decision, {"outcome": "approve", "department": "ZJJ"}
    )
    await tried("意见取值", "rev-ZRZY", "POST", decision, {"outcome": "maybe"})
    await tried(
        "不同意无理由", "rev-ZRZY", "POST", decision, {"outcome": "reject", "reasons": "  "}
    )
    await tried("不同意缺理由", "rev-ZRZY", "POST", decision, {"outcome": "reject"})
    await tried("补正无清单", "rev-ZRZY", "POST", decision, {"outcome": "request_supplement"})
    await tried(
        "补正无理由",
        "rev-ZRZY",
        "POST",
        decision,
        {"outcome": "request_supplement", "items": [{"code": "SJFA", "reason": " "}]},
    )
    await tried(
        "同意附清单",
        "rev-ZRZY",
        "POST",
        decision,
        {"outcome": "approve", "items": [{"code": "SJFA", "reason": "比例"}]},
    )
    await tried("监察受理", "supervisor", "POST", f"/cases/{case_no}/accept")
    approved = await api.call("rev-ZRZY", "POST", decision, {"outcome": "approve"})
    assert approved.status_code == 200, approved.text
    await tried("重复意见", "rev-ZRZY", "POST", decision, {"outcome": "approve"})
    await tried(
        "收费金额",
        "clerk",
        "POST",
        f"/cases/{case_no}/fee",
        {"amount_yuan": "abc", "receipt_no": "R-1"},
    )
    await tried("延期无理由", "supervisor", "POST", f"/cases/{case_no}/extend", {"reason": ""})
    extended = await api.call(
        "supervisor", "POST", f"/cases/{case_no}/extend", {"reason": "需组织专家论证"}
    )
    assert extended.status_code == 200, extended.text
    await tried("再次延期", "supervisor", "POST", f"/cases/{case_no}/extend", {"reason": "再次"})
    await tried("窗口延期", "clerk", "POST", f"/cases/{case_no}/extend", {"reason": "再次"})
    await tried("审查中评价", "clerk", "POST", f"/cases/{case_no}/rating", {"level": "satisfied"})
    await tried(
        "会议无部门", "supervisor", "POST", f"/cases/{case_no}/meetings", {"minutes": "纪要"}
    )
    await tried(
        "特别程序天数",
        "supervisor",
        "POST",
        f"/cases/{case_no}/excluded-period",
        {"procedure": "hearing", "reason": "听证", "expected_wd": 0},
    )
    return found


@pytest.mark.parametrize("store_backend", ["sqlite"])
async def test_every_refusal_of_the_api_is_chinese_and_keeps_its_machine_code(
    api: Api, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R1, R2, R3, R8, R11, R13, R14, R22: bad input (422), refused actions (409) and actions
    another role or department may not take (403) each answer a Chinese reason with no
    English word, beside the field's machine path and a machine code; bad input names the
    field by its Chinese label. A reviewer's rejection without reasons, or a supplement
    request whose item gives none, is bad input naming ``reasons`` / ``items``."""
    refusals = await _refusals(api, catalogue)
    assert {status for status, _, _ in refusals} == {403, 409, 422}
    for _, what, detail in refusals:
        assert english_words(detail["reason"]) == [], (what, detail)
        assert re.search(r"[\u4e00-\u9fff]", detail["reason"]), (what, detail)
        assert detail.get("code"), (what, detail)
    by_what = {what: (status, detail) for status, what, detail in refusals}
    status, detail = by_what["证件号码格式"]
    assert (status, detail["field"], detail["code"]) == (
        422,
        "applicant.id_number",
        "invalid_input",
    )
    assert detail["reason"].startswith("证件号码格式不正确")
    assert by_what["重复意见"][1]["code"] == "task_closed"
    assert by_what["代他部门"][0] == 403
    for what, field in (("不同意无理由", "reasons"), ("补正无理由", "items")):
        status, detail = by_what[what]
        assert (status, detail["field"], detail["code"]) == (422, field, "invalid_input"), what
    assert "理由" in by_what["不同意无理由"][1]["reason"]
    assert "补正要求" in by_what["补正无理由"][1]["reason"]
    assert "事项目录" in by_what["目录外事项"][1]["reason"]


# ---- the auditor's compliance report ----------------------------------------------------------


def _paths() -> dict[str, list[CaseEvent]]:
    """Every record the compliance tests drive through the domain: approved, deemed approved,
    supplemented, extended, rejected, delivered late, escalated, noticed and deemed accepted at
    the window; a joint review meeting with an absent department; an expert review."""
    met = _accepted()
    met.handle(meeting(("ZRZY", "ZJJ", "CGJ"), ("RFB",)), at(date(2026, 3, 4), 10))
    return {
        "approved": approved_path(),
        "deemed": deemed_path(),
        "consolidated": consolidated_path(),
        "extension": extension_path(),
        "rejection": rejection_path(),
        "delivery_overdue": delivery_overdue_path(),
        "escalated": escalated_path(at(date(2026, 3, 25))),
        "intake_notice": intake_notice_path(),
        "deemed_acceptance": deemed_acceptance_path(),
        "meeting": as_events(met.drain()),
        "expert_review": as_events(in_expert_review().drain()),
    }


def _report(results: Iterable[RuleResult]) -> list[str]:
    """A compliance report as the auditor reads it: each rule's title, then its evidence."""
    return [line for r in results for line in (f"{r.rule} {r.title_zh}", *r.evidence)]


def test_R3_R9_R13_R14_R16_R21_the_compliance_report_of_every_path_is_chinese() -> None:
    """R3, R9–R14, R16, R21: the full compliance report of a completed case (approved and
    delivered) passes every rule that applies, and it and the report of every other path the
    domain drives carry no English word: rules by their Chinese titles, events by their
    Chinese names (第 N 号事件（受理，…）), working days as 个工作日."""
    paths = _paths()
    completed = check(paths["approved"])
    assert {r.verdict for r in completed.values()} == {Verdict.PASS, Verdict.NOT_APPLICABLE}
    assert any(
        "第 2 号事件（受理，2026-03-02 09:00）" in line for line in _report(completed.values())
    )
    for name, events in paths.items():
        report = _report(check(events).values())
        assert english_words("\n".join(report)) == [], name


def test_R3_R9_R10_R11_R12_R13_R14_R16_R21_every_finding_of_the_check_is_chinese() -> None:
    """R3, R9–R14, R16, R21: every record above with each of its events taken out in turn, or
    recorded by a clerk instead of its actor, fails rules across the whole check; every line
    of those reports, the violations (✗) included, is Chinese."""
    failing: set[str] = set()
    for name, events in _paths().items():
        for event in events:
            for tampered in (without(events, event), edited(events, event, actor=clerk())):
                results = check(tampered).values()
                failing |= {r.rule for r in results if r.verdict is Verdict.FAIL}
                assert english_words("\n".join(_report(results))) == [], (name, event.seq)
    assert failing == set(RULE_TITLES)


# ---- the auditor's proof that the record was not altered --------------------------------------


def _at_seq(row: CaseEventRow, seq: int, **changed: str) -> CaseEventRow:
    """A copy of a stored event, not in the store, at another seq (with ``changed`` columns):
    a record as someone writing the store directly could leave it."""
    columns = {c.name: getattr(row, c.name) for c in CaseEventRow.__table__.columns}
    return CaseEventRow(**{**columns, "seq": seq, **changed})


def _findings(sessions: sessionmaker[Session]) -> tuple[list[Finding], list[str], list[str]]:
    """Golden cases in the store, altered as a forger would, and what the auditor finds: an
    approval's actor edited and the chain linked again under the key, a case's last event
    deleted, an approval appended to a closed case, an edit left unlinked, a case with a
    record but no workflow; a chain read with two events swapped, one never linked in and
    its last two events missing. Returns the findings, the crosscheck's lines and the
    rebuild's differences (the closed case's history alone, so the others show as rows the
    live store alone holds)."""
    approved, rejected, withdrawn, deemed = (
        stored(sessions, golden(name)) for name in ("approved", "rejected", "withdrawn", "deemed")
    )
    edit(sessions, approved.case_no, 7, actor_id="someone-else")
    rechain(sessions, approved.case_no, 7)
    delete_from(sessions, rejected.case_no, [rejected.last_seq])
    append(sessions, withdrawn.case_no, CaseApproved)
    edit(sessions, deemed.case_no, 3, actor_id="someone-else")
    append(sessions, NO_WORKFLOW, ApplicationReceived)
    anchors: list[tuple[str, Anchor | None]] = [
        *((a.case_no, a) for a in (approved, rejected, withdrawn, deemed)),
        (NO_WORKFLOW, None),
    ]
    found = [f for no, a in anchors for f in verify_case(KEY, no, rows_of(sessions, no), a)]
    first, second, third, *rest = rows_of(sessions, withdrawn.case_no)
    swapped = [first, _at_seq(third, 2), _at_seq(second, 3), *rest]
    unlinked = [first, _at_seq(second, 2, hash="0" * 64, prev_hash="f" * 64), third, *rest]
    found += verify_chain(KEY, swapped)
    found += verify_chain(KEY, unlinked, last_seq=len(unlinked) + 2)
    lines = crosscheck(golden("approved"), rows_of(sessions, approved.case_no))
    lines += crosscheck(None, rows_of(sessions, NO_WORKFLOW))
    closed = [golden("withdrawn")]
    return found, lines, differences(sessions, rebuild(closed, KEY), closed)


NO_WORKFLOW = "371600-20260302-000099"
UNKNOWN_CASE = "371600-20990101-999999"


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_R21_what_verify_crosscheck_and_rebuild_find_is_said_in_chinese(
    sessions: sessionmaker[Session], store_url: str, tmp_path: Path
) -> None:
    """R21: every kind of finding in the audit chain (edited, deleted, inserted, reordered,
    unanchored), the crosscheck's lines and the rebuild's differences are Chinese, each kind
    with its machine value beside it; so is what ``auditor.py`` prints: ``verify
    --store-only``'s findings and summary (exit 1), an unknown case (exit 2), ``verify``,
    ``crosscheck`` and ``rebuild`` without Temporal (exit 3), and ``check`` of the edited
    case."""
    found, crosschecked, differing = _findings(sessions)
    assert {f.tampering for f in found} == set(Tampering)
    assert crosschecked and differing
    for line in [*map(str, found), *crosschecked, *differing]:
        assert english_words(line) == [], line
    env = auditor_env(None, store_url, tmp_path)
    runs = [
        (invoke_auditor(env, "verify", "--store-only"), 1),
        (invoke_auditor(env, "verify", "--store-only", UNKNOWN_CASE), 2),
        (invoke_auditor(env, "verify"), 3),
        (invoke_auditor(env, "crosscheck", NO_WORKFLOW), 3),
        (invoke_auditor(env, "rebuild"), 3),
        (invoke_auditor(env, "check", Anchor.of(golden("approved")).case_no), 0),
    ]
    for run, status in runs:
        assert run.exited(status), run
        said = [*run.stdout.splitlines(), *(ERROR_MARKER.sub("", m) for m in run.message_lines())]
        assert said and all(english_words(line) == [] for line in said), run
    assert "已核验 5 个办件" in runs[0][0].stdout
