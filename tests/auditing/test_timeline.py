"""The auditor's timeline (who did what, when, in Chinese) and the ``timeline`` and ``check``
commands of auditor.py on a store filled with recorded cases.

The story: JS-GHXK-001 accepted on Monday 2026-03-02; on Wednesday ZJJ and RFB ask for
materials, ZRZY and CGJ approve: one consolidated notice, every clock stops; the supervisor
extends the case on Thursday; the supplement arrives on 2026-03-23 and the clocks resume; ZJJ's
attempt to ask for a new item is refused (R11), ZJJ approves, RFB stays silent and is deemed
approved at 2026-03-27 00:00; the certificate is delivered on 2026-04-10.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from approval.auditing.labels import EVENT_LABELS
from approval.auditing.timeline import TimelineEntry, facts, timeline
from approval.domain.case import Case
from approval.domain.errors import DomainError
from approval.domain.events import EVENT_CLASSES, EVENT_TYPES, CaseEvent
from approval.domain.models import Decide, Deliver, Extend, RefusedAttempt, Supplement
from approval.store.audit_log import events_of, record_events
from approval.store.engine import open_store
from tests.domain_fixtures import (
    GHXK,
    accepted_case,
    approve,
    at,
    clerk,
    item,
    material,
    midnight,
    reject,
    request,
    supervisor,
)
from tests.processes import CliResult, invoke_auditor

CASE_OK = "371600-20260302-000001"
CASE_TAMPERED = "371600-20260302-000002"
CASE_REJECTED = "371600-20260302-000003"
WEDNESDAY = at(date(2026, 3, 4), 10)


def attempt(case: Case, command: Decide, now: datetime) -> None:
    """Try ``command``; a refusal is recorded in the case's history as the workflow does."""
    try:
        case.handle(command, now)
    except DomainError as refusal:
        case.note_refusal(
            RefusedAttempt(
                actor=command.actor,
                action=command.kind,
                field=refusal.field,
                reason=refusal.reason,
                attempted_at=now,
                command=command.model_dump(mode="json"),
            ),
            now,
        )


def story() -> list[CaseEvent]:
    """The whole record of the story told in the module docstring."""
    case = accepted_case(GHXK)
    case.handle(request("ZJJ", item("SJFA", "总平面图比例不符")), WEDNESDAY)
    case.handle(
        request("RFB", item("SJFA", "缺人防区域标注"), item("RFSJ", "防护等级未注明")), WEDNESDAY
    )
    case.handle(approve("ZRZY"), WEDNESDAY)
    case.handle(approve("CGJ"), WEDNESDAY)
    case.handle(Extend(actor=supervisor(), reason="需组织专家论证"), at(date(2026, 3, 5)))
    case.handle(
        Supplement(actor=clerk(), materials=(material("SJFA"), material("RFSJ"))),
        at(date(2026, 3, 23)),
    )
    attempt(case, request("ZJJ", item("XMPZ", "批文过期")), at(date(2026, 3, 24), 9))
    case.handle(approve("ZJJ"), at(date(2026, 3, 24), 10))
    case.advance_time(midnight(date(2026, 3, 27)))
    case.handle(Deliver(actor=clerk()), at(date(2026, 4, 10)))
    return case.drain()


def rejected_story() -> list[CaseEvent]:
    """JS-GHXK-001 rejected by ZJJ with its reasons; the others approve."""
    case = accepted_case(GHXK)
    case.handle(reject("ZJJ", "不符合建筑间距要求"), WEDNESDAY)
    for department in ("ZRZY", "RFB", "CGJ"):
        case.handle(approve(department), WEDNESDAY)
    return case.drain()


def tampered(events: list[CaseEvent]) -> list[CaseEvent]:
    """The record with RFB's ReviewDeemedApproved removed and the rest renumbered."""
    kept = [e for e in events if e.type != "ReviewDeemedApproved"]
    return [e.model_copy(update={"seq": n}) for n, e in enumerate(kept, start=1)]


def entry(entries: list[TimelineEntry], type_: str, index: int = 0) -> TimelineEntry:
    """The ``index``-th entry of an event type."""
    return [e for e in entries if e.type == type_][index]


# ---- the timeline --------------------------------------------------------------------------------


def test_R21_the_timeline_lists_every_event_in_order_with_time_and_actor() -> None:
    """R21: one entry per event in seq order; Shanghai time as 2026-03-02 09:00; who acted by
    role in Chinese, id and department."""
    events = story()
    entries = timeline(events)

    assert [e.seq for e in entries] == list(range(1, len(events) + 1))
    received = entries[0]
    assert (received.label, received.time, received.who) == (
        "收件",
        "2026-03-02 09:00",
        "窗口工作人员 clerk-01",
    )
    asked = entry(entries, "ReviewSupplementRequested")
    assert asked.who == "部门审批人员 rev-zjj（ZJJ）"
    assert asked.time == "2026-03-04 10:00"
    assert entry(entries, "CaseExtended").who == "效能监察人员 sup-01"
    assert entry(entries, "ReviewDeemedApproved").who == "系统"
    assert re.fullmatch(
        r"\s*\d+  2026-03-02 09:00  窗口工作人员 clerk-01  收件：.*", received.line()
    )


def test_R9_R11_R12_R13_the_timeline_states_the_key_facts_in_chinese() -> None:
    """R9, R11, R12, R13: the timeline names departments, items with reasons, due dates, the
    clock stop and resumption, the extension, the deemed approval and the notices by kind."""
    entries = timeline(story())

    assert "期限至 2026-03-09" in entry(entries, "ReviewTaskDispatched", 1).facts
    assert entry(entries, "ReviewTaskDispatched", 1).facts.startswith("ZJJ 第1轮审查")
    assert "SJFA（总平面图比例不符）" in entry(entries, "ReviewSupplementRequested").facts
    consolidated = entry(entries, "ConsolidatedNoticeIssued")
    assert consolidated.label == "合并一次性告知"
    assert "提出部门：ZJJ、RFB" in consolidated.facts
    assert entry(entries, "ClocksStopped").label == "计时暂停"
    assert entry(entries, "ClocksResumed").label == "计时恢复"
    assert "剩余的工作日" in entry(entries, "ClocksResumed").facts
    assert entry(entries, "CaseExtended").facts == "延长 15 个工作日，理由：需组织专家论证"
    deemed = entry(entries, "ReviewDeemedApproved")
    assert deemed.time == "2026-03-27 00:00"
    assert deemed.what == "超时默认同意：RFB 审查期限届满未答复，记为超期"
    assert entry(entries, "CaseApproved").what == "准予许可：超时默认同意：RFB"
    notices = [e.facts for e in entries if e.type == "NoticeIssued"]
    assert any(f.startswith("《受理通知书》") and "期限 2026-03-16" in f for f in notices)
    assert any(f.startswith("《补正材料一次性告知书》") for f in notices)
    assert any(f.startswith("《延长审批期限告知书》") and "需组织专家论证" in f for f in notices)
    assert any("《准予行政许可决定书》" in f and "人民防空办公室" in f for f in notices)
    assert entry(entries, "CaseClosed").what == "结案：已办结"


def test_R11_R21_a_refused_attempt_appears_with_its_reason() -> None:
    """R11, R21: ZJJ's refused request for a new item is in the timeline with who tried, what
    and why it was refused."""
    refused = entry(timeline(story()), "ActionRefused")

    assert refused.label == "拒绝操作"
    assert refused.who == "部门审批人员 rev-zjj（ZJJ）"
    assert refused.facts.startswith("decide 被拒绝（items）")
    assert "XMPZ" in refused.facts and "R11" in refused.facts


def test_R14_a_rejection_in_the_timeline_gives_the_reasons() -> None:
    """R14: the department's rejection and the decision name the department and its reasons."""
    entries = timeline(rejected_story())

    assert entry(entries, "ReviewRejected").what == "部门不同意：ZJJ，理由：不符合建筑间距要求"
    assert entry(entries, "CaseRejected").what == "不予许可：ZJJ：不符合建筑间距要求"
    decision = [e.facts for e in entries if "不予行政许可决定书" in e.facts]
    assert decision and "住房和城乡建设局：不符合建筑间距要求" in decision[0]


def test_every_event_type_of_the_case_has_a_chinese_label() -> None:
    """Every kind of event (approval.domain.events) has a Chinese label in the timeline."""
    assert len(EVENT_TYPES) >= 35
    assert set(EVENT_LABELS) >= EVENT_TYPES


def test_every_event_class_has_its_facts_told() -> None:
    """Every event class (approval.domain.events) has its own function telling its facts."""
    untold = [c.__name__ for c in EVENT_CLASSES if facts.dispatch(c) is facts.dispatch(object)]
    assert untold == []


def test_R21_the_timeline_reads_store_rows_like_domain_events(tmp_path: Path) -> None:
    """R21: the timeline of the rows in the store equals the timeline of the recorded events."""
    events = story()
    sessions = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with sessions.begin() as session:
        record_events(
            session, key=b"k", case_no=CASE_OK, events=events, documents=[], now=events[0].at
        )
    with sessions() as session:
        rows = events_of(session, CASE_OK)

    assert timeline(rows) == timeline(events)


# ---- the commands --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A store with the story, the story without its deemed approval, and a rejected case;
    returns the environment of an auditor.py run reading it."""
    data_dir = tmp_path_factory.mktemp("auditor")
    url = f"sqlite:///{data_dir / 'store.sqlite3'}"
    sessions = open_store(url)
    events = story()
    for case_no, recorded in (
        (CASE_OK, events),
        (CASE_TAMPERED, tampered(events)),
        (CASE_REJECTED, rejected_story()),
    ):
        with sessions.begin() as session:
            record_events(
                session, key=b"k", case_no=case_no, events=recorded, documents=[], now=events[0].at
            )
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPROVAL_")}
    env.update(
        APPROVAL_DATABASE_URL=url,
        APPROVAL_DATA_DIR=str(data_dir),
        APPROVAL_HOLIDAY_OVERRIDE_PATH=str(data_dir / "none.yaml"),
        PYTHONUNBUFFERED="1",
    )
    return env


def auditor(env: dict[str, str], *args: str) -> CliResult:
    """auditor.py with ``args`` (its commands run in this process), its output captured."""
    return invoke_auditor(env, *args)


def test_R21_cli_timeline_prints_the_story_and_json(store: dict[str, str]) -> None:
    """R21: ``auditor.py timeline`` prints one Chinese line per event (exit 0); ``--json`` gives
    every entry with its time, actor and facts."""
    printed = auditor(store, "timeline", CASE_OK)
    as_json = auditor(store, "timeline", CASE_OK, "--json")

    assert printed.returncode == 0, printed.stderr
    assert "2026-03-02 09:00  窗口工作人员 clerk-01  收件" in printed.stdout
    assert "2026-03-27 00:00  系统  超时默认同意：RFB" in printed.stdout
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["case_no"] == CASE_OK
    entries = document["timeline"]
    assert len(entries) == len(story())
    assert entries[0]["label"] == "收件" and entries[0]["time"] == "2026-03-02 09:00"
    assert {"seq", "at", "who", "label", "facts", "what", "type"} <= set(entries[0])


def test_R9_R11_R12_R13_R14_R16_cli_check_passes_the_story(store: dict[str, str]) -> None:
    """R9, R11, R12, R13, R14, R16, R21: ``auditor.py check`` on the story prints PASS for every
    rule (the record consistent with itself, R21, included) with its evidence and exits 0;
    ``--json`` says it passed."""
    printed = auditor(store, "check", CASE_OK)
    as_json = auditor(store, "check", CASE_OK, "--json")

    assert printed.returncode == 0, printed.stdout + printed.stderr
    for rule in ("R3", "R9", "R11", "R12", "R13", "R14", "R16", "R21"):
        assert re.search(rf"(?<!不)符合\s+{rule} ", printed.stdout), rule
    assert "FAIL" not in printed.stdout
    assert "✓ 承诺办结期限：" in printed.stdout and "剩余 8 个工作日" in printed.stdout
    assert "剩余 23 个工作日（含延长的 15 个工作日） → 最后一日 2026-04-24" in printed.stdout
    assert as_json.returncode == 0
    document = json.loads(as_json.stdout)
    assert document["passed"] is True
    assert [r["rule"] for r in document["rules"]] == [
        "R3",
        "R9",
        "R10",
        "R11",
        "R12",
        "R13",
        "R14",
        "R16",
        "R21",
    ]


def test_R9_R14_R21_cli_check_fails_the_tampered_record_with_exit_1(
    store: dict[str, str],
) -> None:
    """R9, R14, R21: without RFB's deemed approval the check prints FAIL for R9 (RFB's period
    ended unanswered), R14 (the decision names a deemed department the record does not show)
    and R21 (an approval of the case while RFB's task never agreed) and exits 1; ``--json``
    gives the same verdicts with the evidence."""
    printed = auditor(store, "check", CASE_TAMPERED)
    as_json = auditor(store, "check", CASE_TAMPERED, "--json")

    assert printed.returncode == 1, printed.stderr
    assert re.search(r"不符合\s+R9 ", printed.stdout)
    assert "RFB 第 2 轮审查" in printed.stdout and "届满未答复" in printed.stdout
    assert "3 条规则不符合（R9、R14、R21）" in printed.stdout
    assert as_json.returncode == 1
    document = json.loads(as_json.stdout)
    verdicts = {r["rule"]: r["verdict"] for r in document["rules"]}
    assert document["passed"] is False
    assert (verdicts["R9"], verdicts["R14"], verdicts["R21"]) == ("fail", "fail", "fail")
    assert verdicts["R12"] == "pass"


def test_R14_R16_cli_check_a_rejection(store: dict[str, str]) -> None:
    """R14, R16: a rejection states ZJJ's reasons and the remedies (PASS); the delivery period
    does not apply to it (N/A); exit 0."""
    result = auditor(store, "check", CASE_REJECTED, "--json")

    assert result.returncode == 0, result.stderr
    verdicts = {r["rule"]: r["verdict"] for r in json.loads(result.stdout)["rules"]}
    assert verdicts["R14"] == "pass"
    assert verdicts["R16"] == "not_applicable"


def test_cli_unknown_case_is_one_line_and_exit_2(store: dict[str, str]) -> None:
    """A case with no recorded events: one error line naming the case, exit status 2, for both
    commands."""
    for command in ("timeline", "check"):
        result = auditor(store, command, "371600-20260302-000099")

        assert result.returncode == 2, command
        errors = [line for line in result.stderr.splitlines() if "错误 error" in line]
        assert errors == ["错误 error: case_no: 办件 371600-20260302-000099 没有任何记录"]
        assert "Traceback" not in result.stderr
