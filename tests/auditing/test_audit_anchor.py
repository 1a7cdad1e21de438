"""The audit chain anchored in the Temporal history (R21): ``verify`` chains the events each
history handed to the store again under the key and compares them with the store's rows, so a
record the chain alone cannot fault (an edit re-chained by someone holding the key, a deleted
last event, a step dropped from the end, a stale event) is reported by case and seq. Events the
store keeps alone are allowed only where the engine writes them so, in ``crosscheck`` and
``rebuild`` too.

First on the golden histories (tests/golden: steps as store activities; local-steps: as local
writes; events-only: steps that carry their events only, compressed) written into a real
store (SQLite and PostgreSQL), then on cases run on the time-skipping server through
``auditor.py``'s commands as the auditor runs them (run in this process)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from approval.auditing.histories import load_history
from approval.auditing.integrity import (
    Anchor,
    crosscheck,
    differences,
    histories_from_json,
    rebuild,
    recorded_steps,
    verify_anchored,
    verify_case,
    verify_store,
)
from approval.cli import simulate
from approval.config import DEVELOPMENT_AUDIT_KEY, PROJECT_ROOT
from approval.domain.audit import GENESIS, Tampering, body_of, chain_hash, verify_chain
from approval.domain.catalogue import Catalogue
from approval.domain.errors import DomainError, UnknownMatterError
from approval.domain.events import (
    ActionRefused,
    ApplicationNotAccepted,
    ApplicationReceived,
    CaseApproved,
    CaseEvent,
    CaseEventBase,
    ReviewApproved,
)
from approval.domain.models import Accept, Actor, Application, Refuse, Role
from approval.service import CaseService
from approval.store.audit_log import events_of, next_seq, record_events
from approval.store.recording import record_step
from approval.store.schema import CaseEventRow, CaseRow, NoticeRow
from tests.domain_fixtures import APPLICANT, GHXK, MONDAY, accepted_case, approve
from tests.processes import CliResult, invoke_auditor

KEY = DEVELOPMENT_AUDIT_KEY.encode()
"""The key the tests' workers chain under, and these stores too."""
GOLDEN = PROJECT_ROOT / "tests" / "golden"
FORMS = (GOLDEN, GOLDEN / "local-steps", GOLDEN / "events-only")
CLERK = Actor(role=Role.CLERK, id="clerk-01")


# ---- writing and tampering with a store ------------------------------------------------------


def stored(sessions: sessionmaker[Session], history: WorkflowHistory) -> Anchor:
    """The history's steps written into the store as the worker wrote them; its anchor."""
    with sessions.begin() as session:
        for step in recorded_steps(history):
            record_step(session, KEY, step)
    return Anchor.of(history)


def golden(name: str, folder: Path = GOLDEN) -> WorkflowHistory:
    """A golden history: ``approved`` (running, awaiting delivery), ``withdrawn`` (closed)…"""
    return load_history(folder / f"{name}.json")


def rows_of(sessions: sessionmaker[Session], case_no: str) -> list[CaseEventRow]:
    """The case's audit log as stored."""
    with sessions() as session:
        return events_of(session, case_no)


def anchored(sessions: sessionmaker[Session], anchor: Anchor) -> list[tuple[int, Tampering]]:
    """What verify reports for the case, anchored in its history, as (seq, kind)."""
    found = verify_case(KEY, anchor.case_no, rows_of(sessions, anchor.case_no), anchor)
    return [(f.seq, f.tampering) for f in found]


def details(sessions: sessionmaker[Session], anchor: Anchor) -> list[str]:
    """What verify reports for the case, as the auditor reads it."""
    rows = rows_of(sessions, anchor.case_no)
    return [str(f) for f in verify_case(KEY, anchor.case_no, rows, anchor)]


def rechain(sessions: sessionmaker[Session], case_no: str, from_seq: int) -> None:
    """Link the case's chain again under the key from ``from_seq`` on, as someone holding the
    key would after editing the record: the chain alone then verifies."""
    with sessions.begin() as session:
        rows = events_of(session, case_no)
        prev = rows[from_seq - 2].hash if from_seq > 1 else GENESIS
        for row in rows[from_seq - 1 :]:
            row.prev_hash, row.hash = prev, chain_hash(KEY, prev, body_of(row))
            prev = row.hash


def append(
    sessions: sessionmaker[Session], case_no: str, kind: type[CaseEventBase] = ActionRefused
) -> int:
    """An event chained onto the end of the case's record in the store alone (as a refusal on
    a closed case is kept; of another kind, as a forger would); returns its seq."""
    with sessions.begin() as session:
        seq = next_seq(session, case_no)
        at = datetime(2026, 12, 1, tzinfo=UTC)
        fields: dict[str, Any] = {"seq": seq, "at": at, "actor": CLERK, "attempted_at": at}
        fields |= {"action": "accept", "field": "case_no", "reason": "case closed"}
        # unchecked on purpose: what someone writing the store directly could chain
        event = cast(CaseEvent, kind.model_construct(**fields))
        record_events(session, key=KEY, case_no=case_no, events=[event], documents=[], now=event.at)
    return seq


def delete_from(sessions: sessionmaker[Session], case_no: str, seqs: Sequence[int]) -> None:
    """Delete events of the case, and set the read model's last seq to what is left, as a
    careful forger would: the chain alone then sees nothing missing."""
    with sessions.begin() as session:
        session.execute(
            delete(CaseEventRow).where(CaseEventRow.case_no == case_no, CaseEventRow.seq.in_(seqs))
        )
        session.execute(
            update(CaseRow).where(CaseRow.case_no == case_no).values(last_seq=min(seqs) - 1)
        )


def edit(sessions: sessionmaker[Session], case_no: str, seq: int, **values: object) -> None:
    """Change one stored event's columns."""
    with sessions.begin() as session:
        session.execute(
            update(CaseEventRow)
            .where(CaseEventRow.case_no == case_no, CaseEventRow.seq == seq)
            .values(**values)
        )


# ---- anchored in the golden histories --------------------------------------------------------


@pytest.mark.parametrize("folder", FORMS, ids=["activities", "local-writes", "events-only"])
def test_R21_every_golden_case_verifies_anchored_in_its_history(
    sessions: sessionmaker[Session], folder: Path
) -> None:
    """R21: a store written from each golden history (steps as store activities, or as the
    local writes of older cases) verifies intact anchored in that history, and the history's
    events chained again under the key are the stored hashes."""
    for path in sorted(folder.glob("*.json")):
        anchor = stored(sessions, load_history(path))
        assert anchored(sessions, anchor) == [], path.name
        assert anchor.settled_seq == anchor.last_seq == len(rows_of(sessions, anchor.case_no))


def test_R21_an_edit_re_chained_with_the_key_is_caught_by_the_history(
    sessions: sessionmaker[Session],
) -> None:
    """R21: an approval's actor changed and the chain linked again under the key fools the
    chain alone; anchored in the history it is reported edited at its seq, naming the field,
    and the events after it (their links re-made) are not blamed."""
    anchor = stored(sessions, golden("approved"))
    edit(sessions, anchor.case_no, 7, actor_id="someone-else")
    rechain(sessions, anchor.case_no, 7)

    assert verify_chain(KEY, rows_of(sessions, anchor.case_no)) == []
    assert anchored(sessions, anchor) == [(7, Tampering.EDITED)]
    (line,) = details(sessions, anchor)
    assert line.startswith(
        f"{anchor.case_no} 第 7 号事件：内容被改动（edited）——「部门同意」与工作流"
    )
    assert "（操作人）" in line


def test_R21_a_deleted_last_event_is_reported_with_the_counts(
    sessions: sessionmaker[Session],
) -> None:
    """R21: the last event deleted (and the read model's last seq lowered to match) is not
    seen by the chain alone; anchored, it is reported deleted at its seq with the history's
    and the store's counts."""
    anchor = stored(sessions, golden("approved"))
    last = anchor.last_seq
    delete_from(sessions, anchor.case_no, [last])

    assert verify_store(sessions, KEY) == (last - 1, [])
    assert anchored(sessions, anchor) == [(last, Tampering.DELETED)]
    (line,) = details(sessions, anchor)
    assert line.startswith(
        f"{anchor.case_no} 第 {last} 号事件：事件缺失（deleted）——「核发证照」在"
    )
    assert line.endswith(f"（历史有 {last} 个事件，存储有 {last - 1} 个）")


@pytest.mark.parametrize("folder", FORMS, ids=["activities", "local-writes", "events-only"])
def test_R21_a_step_dropped_from_the_end_is_reported_at_its_first_seq(
    sessions: sessionmaker[Session], folder: Path
) -> None:
    """R21: every event of the last recorded step removed from the store is one finding at
    the step's first seq, naming the run of seqs."""
    history = golden("rejected", folder)
    anchor = stored(sessions, history)
    step = [event.seq for event in recorded_steps(history)[-1].events]
    delete_from(sessions, anchor.case_no, step)

    assert anchored(sessions, anchor) == [(step[0], Tampering.DELETED)]
    expected = f"第 {step[0]} 号事件：事件缺失（deleted）——第 {step[0]}–{step[-1]} 号事件（"
    assert expected in details(sessions, anchor)[0]


def test_R21_a_stale_event_at_a_seq_is_reported_with_what_the_history_has(
    sessions: sessionmaker[Session],
) -> None:
    """R21: the decision at its seq replaced by an earlier event's content (a stale copy),
    re-chained under the key, is reported edited at that seq, naming the type the history
    has there."""
    anchor = stored(sessions, golden("rejected"))
    rows = rows_of(sessions, anchor.case_no)
    decision = next(r for r in rows if r.type == "CaseRejected")
    stale = rows[decision.seq - 2]
    edit(sessions, anchor.case_no, decision.seq, type=stale.type, payload=stale.payload)
    rechain(sessions, anchor.case_no, decision.seq)

    assert anchored(sessions, anchor) == [(decision.seq, Tampering.EDITED)]
    assert details(sessions, anchor)[0].endswith("；历史中为「不予许可」）")


def test_R21_refusals_are_kept_in_the_store_alone_only_after_the_workflow_closed(
    sessions: sessionmaker[Session],
) -> None:
    """R21: a refusal chained after the last event of a closed case (withdrawn) verifies,
    crosschecks and rebuilds clean; the same refusal on a running case (approved, awaiting
    delivery: its refusals are signals, events of its history) and any other event after a
    closed case's history are reported inserted, and crosscheck and rebuild say so too."""
    closed, running = golden("withdrawn"), golden("approved")
    kept, wrong = stored(sessions, closed), stored(sessions, running)
    assert kept.closed and not wrong.closed
    append(sessions, kept.case_no)
    refused = append(sessions, wrong.case_no)

    assert anchored(sessions, kept) == []
    assert anchored(sessions, wrong) == [(refused, Tampering.INSERTED)]
    assert crosscheck(closed, rows_of(sessions, kept.case_no)) == []
    assert len(crosscheck(running, rows_of(sessions, wrong.case_no))) == 1
    (difference,) = differences(sessions, rebuild([closed, running], KEY), [closed, running])
    assert f"'{wrong.case_no}', {refused}" in difference

    forged = append(sessions, kept.case_no, CaseApproved)
    assert anchored(sessions, kept) == [(forged, Tampering.INSERTED)]


def test_R21_a_case_without_a_workflow_may_only_hold_its_non_acceptance(
    sessions: sessionmaker[Session],
) -> None:
    """R21: a case refused at intake has no Temporal history: its ApplicationNotAccepted (and
    a refusal kept after it) verify and rebuild clean; a case with any other record and no
    history is reported unanchored at the first event no workflow accounts for."""
    refused, other = "371600-20260302-000098", "371600-20260302-000099"
    for case_no, kind in ((refused, ApplicationNotAccepted), (other, ApplicationReceived)):
        append(sessions, case_no, kind)
    append(sessions, refused)

    assert verify_case(KEY, refused, rows_of(sessions, refused), None) == []
    (finding,) = verify_case(KEY, other, rows_of(sessions, other), None)
    assert (finding.case_no, finding.seq, finding.tampering) == (other, 1, Tampering.UNANCHORED)
    assert [line.split("：")[0] for line in differences(sessions, rebuild([], KEY), [])] == [
        f"审计事件表（case_events） ('{other}', 1)"
    ]


def test_R21_a_step_still_being_written_is_not_a_deletion(
    sessions: sessionmaker[Session],
) -> None:
    """R21: a history read while its last store activity was scheduled but not completed
    expects that step, but the store may not hold it yet: no finding without it, and once
    written it is compared like any other."""
    history = golden("rejected")
    events = list(history.events)
    cut = max(
        i
        for i, e in enumerate(events)
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "record_case_events"
    )
    in_flight = WorkflowHistory(history.workflow_id, events[: cut + 1])
    steps = recorded_steps(in_flight)
    with sessions.begin() as session:
        for step in steps[:-1]:
            record_step(session, KEY, step)
    anchor = Anchor.of(in_flight)

    assert anchor.settled_seq == steps[-2].last_seq < anchor.last_seq
    assert anchored(sessions, anchor) == []
    with sessions.begin() as session:
        record_step(session, KEY, steps[-1])
    assert anchored(sessions, anchor) == []


# ---- auditor.py on cases run on the time-skipping server ---------------------------------------


def auditor_env(env: WorkflowEnvironment | None, store_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of an auditor run: development mode (the workers' published key), this
    test's store and, if given, its Temporal server (else an address where nothing listens)."""
    address = env.client.service_client.config.target_host if env else "127.0.0.1:1"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("APPROVAL_")},
        "APPROVAL_DATABASE_URL": store_url,
        "APPROVAL_ENVIRONMENT": "development",
        "APPROVAL_AUDIT_KEY": KEY.decode(),
        "APPROVAL_TEMPORAL_ADDRESS": address,
        "APPROVAL_TEMPORAL_NAMESPACE": env.client.namespace if env else "default",
        "APPROVAL_DATA_DIR": str(data_dir),
        "APPROVAL_HOLIDAY_OVERRIDE_PATH": str(data_dir / "none.yaml"),
    }


async def auditor(env: dict[str, str], *args: str) -> CliResult:
    """``auditor.py ARGS`` run to completion (in this process, off the event loop)."""
    return await asyncio.to_thread(invoke_auditor, env, *args)


async def closed_case(
    engine: CaseService, catalogue: Catalogue, env: WorkflowEnvironment
) -> tuple[str, WorkflowHistory]:
    """A case accepted and withdrawn, its workflow closed; with its history."""
    run = simulate.Run(service=engine, env=env, matter=catalogue.matter(simulate.SILENT_MATTER))
    await simulate.withdrawn(run)
    handle = env.client.get_workflow_handle(run.case_no)
    await handle.result()
    return run.case_no, await handle.fetch_history()


async def test_R21_auditor_verify_names_each_tampered_case_and_seq(
    engine: CaseService,
    catalogue: Catalogue,
    time_skipping_env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    store_url: str,
    tmp_path: Path,
) -> None:
    """R21 (the issue's "done when"): three cases run to their close, one with a refusal kept
    in the store after it; ``auditor.py verify`` anchors every chain in its Temporal history
    and says intact (exit 0). Then one event is edited and the chain re-linked under the key,
    another case's last event is deleted, a third's last step is dropped: verify names each
    case and seq, the deleted last event with the counts (exit 1). A case number nobody has is
    one line and exit 2. The engine's own history reader (the HTTP API's) anchors the same."""
    cases = [await closed_case(engine, catalogue, time_skipping_env) for _ in range(3)]
    (edited, _), (shortened, history), (dropped, dropped_history) = cases
    with pytest.raises(DomainError):
        await engine.act(edited, Accept(actor=CLERK))
    env = auditor_env(time_skipping_env, store_url, tmp_path)

    intact = await auditor(env, "verify")
    assert intact.exited(0), intact
    total = sum(len(rows_of(sessions, case_no)) for case_no, _ in cases)
    assert f"已核验 3 个办件的 {total} 个事件（以工作流历史佐证）：完好" in intact.stdout
    assert "ActionRefused" in [row.type for row in rows_of(sessions, edited)]

    edit(sessions, edited, 2, actor_id="someone-else")
    rechain(sessions, edited, 2)
    last = Anchor.of(history).last_seq
    delete_from(sessions, shortened, [last])
    step = [e.seq for e in recorded_steps(dropped_history)[-1].events]
    delete_from(sessions, dropped, step)

    broken = await auditor(env, "verify", "--json")
    assert broken.exited(1), broken
    report = broken.json()
    assert (report["anchored"], report["intact"]) == (True, False)
    edited_line, shortened_line, dropped_line = sorted(report["findings"])
    assert edited_line.startswith(f"{edited} 第 2 号事件：内容被改动（edited）——")
    assert shortened_line.startswith(f"{shortened} 第 {last} 号事件：事件缺失（deleted）——")
    assert shortened_line.endswith(f"（历史有 {last} 个事件，存储有 {last - 1} 个）")
    assert dropped_line.startswith(f"{dropped} 第 {step[0]} 号事件：事件缺失（deleted）——")

    served = histories_from_json(engine.history)  # as GET /audit/cases/{no}/verify reads them
    by_api = await verify_anchored(sessions, KEY, served, [edited])
    assert [(f.case_no, f.seq, f.tampering) for f in by_api.findings] == [
        (edited, 2, Tampering.EDITED)
    ]

    unknown = await auditor(env, "verify", "371600-20990101-999999")
    assert unknown.exited(2), unknown
    [line] = unknown.message_lines()
    assert line.startswith("错误 error: case_no: ") and "371600-20990101-999999" in line


async def test_R1_R21_auditor_rebuild_and_verify_are_clean_with_refused_applications(
    engine: CaseService,
    catalogue: Catalogue,
    time_skipping_env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    store_url: str,
    tmp_path: Path,
) -> None:
    """R1, R5, R21: a store with an application refused at the window for a matter outside
    the catalogue (its 不予受理通知书 written by the service, with no Temporal history), one
    the clerk refused (不予受理 through its workflow) and a case that ran to its close:
    ``auditor.py rebuild`` finds the rebuilt read model equal to the live store (exit 0),
    ``verify`` finds every chain intact; the refused application's voucher is in the store."""
    await closed_case(engine, catalogue, time_skipping_env)
    outside = Application(
        matter_code="XX-NOPE-001",
        applicant=APPLICANT,
        materials=[],
        idempotency_key="refused-at-the-window-1",
    )
    with pytest.raises(UnknownMatterError) as refused:
        await engine.submit(outside, CLERK)
    voucher_no = refused.value.reason.rsplit(" ", 1)[-1]
    run = simulate.Run(service=engine, env=time_skipping_env, matter=catalogue.matter(GHXK))
    await run.submit()
    await engine.act(run.case_no, Refuse(actor=CLERK, reason="申请事项不属于本中心受理范围"))
    env = auditor_env(time_skipping_env, store_url, tmp_path)

    rebuilt = await auditor(env, "rebuild")
    assert rebuilt.exited(0), rebuilt
    assert "≠" not in rebuilt.stdout
    verified = await auditor(env, "verify")
    assert verified.exited(0), verified
    assert "已核验 3 个办件" in verified.stdout
    with sessions() as session:
        assert session.get(NoticeRow, voucher_no) is not None


@pytest.mark.parametrize("command", ["verify", "crosscheck 371600-20260302-000001", "rebuild"])
async def test_R21_without_temporal_nothing_is_anchored_exit_3(
    command: str, tmp_path: Path
) -> None:
    """R21: when Temporal cannot be reached, verify, crosscheck and rebuild say so in one line
    and exit 3, never a silent chain-only "intact"."""
    env = auditor_env(None, f"sqlite:///{tmp_path / 'store.sqlite3'}", tmp_path)
    result = await auditor(env, *command.split())
    assert result.exited(3), result
    [line] = result.message_lines()
    assert line.startswith("错误 error: 无法连接 Temporal（地址 127.0.0.1:1，"), line
    assert result.stdout == ""


async def test_R21_auditor_check_reports_a_record_that_contradicts_itself(
    sessions: sessionmaker[Session], store_url: str, tmp_path: Path
) -> None:
    """R21: a record whose CaseApproved says every department agreed although ZJJ's approval
    is not in it (the chain consistent, as if written so) fails ``auditor.py check`` (exit 1)
    with R21 citing the decision and ZJJ's task as evidence."""
    case = accepted_case(GHXK)
    for department in ("ZRZY", "ZJJ", "RFB", "CGJ"):
        case.handle(approve(department), MONDAY + timedelta(hours=2))
    events = [
        e for e in case.drain() if not (isinstance(e, ReviewApproved) and e.department == "ZJJ")
    ]
    renumbered = [e.model_copy(update={"seq": n}) for n, e in enumerate(events, start=1)]
    case_no = "371600-20260302-000001"
    with sessions.begin() as session:
        record_events(
            session, key=KEY, case_no=case_no, events=renumbered, documents=[], now=MONDAY
        )
    decision = next(e.seq for e in renumbered if e.type == "CaseApproved")

    result = await auditor(auditor_env(None, store_url, tmp_path), "check", case_no, "--json")
    assert result.exited(1), result
    rules = {r["rule"]: r for r in result.json()["rules"]}
    assert rules["R21"]["verdict"] == "fail"
    (line,) = [e for e in rules["R21"]["evidence"] if e.startswith("✗")]
    assert f"第 {decision} 号事件（准予许可，" in line and "ZJJ 第 1 轮审查" in line
