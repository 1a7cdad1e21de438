"""The auditor's integrity tools: the audit chain catches every kind of tampering, the audit
log and the Temporal history agree, and the read model can be rebuilt from histories alone."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from approval.auditing.integrity import (
    case_histories,
    crosscheck,
    differences,
    rebuild,
    temporal_histories,
    verify_anchored,
    verify_store,
)
from approval.cli import simulate
from approval.config import DEVELOPMENT_AUDIT_KEY
from approval.domain.audit import GENESIS, Tampering
from approval.domain.catalogue import Catalogue
from approval.domain.compliance.labels import type_named
from approval.service import CaseService
from approval.store.audit_log import events_of, record_events
from approval.store.schema import CaseEventRow
from tests.domain_fixtures import MONDAY, accepted_case, approve

KEY = b"test-audit-key"
ENGINE_KEY = DEVELOPMENT_AUDIT_KEY.encode()
"""The key the tests' workers chain the store under."""
CASE = "371600-20260302-000001"


def recorded_case(sessions: sessionmaker[Session]) -> int:
    """A case with a handful of events recorded in the store; returns the number of events."""
    case = accepted_case("JS-GHXK-001")
    for department in ("ZRZY", "ZJJ"):
        case.handle(approve(department), MONDAY + timedelta(hours=2))
    events = case.drain()
    with sessions.begin() as session:
        record_events(session, key=KEY, case_no=CASE, events=events, documents=[], now=MONDAY)
    return len(events)


def findings(sessions: sessionmaker[Session]) -> list[tuple[str, int, Tampering]]:
    """What verification reports, as (case, seq, kind)."""
    _, found = verify_store(sessions, KEY)
    return [(f.case_no, f.seq, f.tampering) for f in found]


def test_R21_an_untouched_chain_verifies(sessions: sessionmaker[Session]) -> None:
    """R21: a chain as recorded verifies with no finding, and reading it counts every event."""
    count = recorded_case(sessions)
    checked, found = verify_store(sessions, KEY)
    assert (checked, found) == (count, [])


def test_R21_an_edited_payload_is_reported_with_case_and_seq(
    sessions: sessionmaker[Session],
) -> None:
    """R21: changing one event's payload afterwards is reported as edited at its seq."""
    recorded_case(sessions)
    with sessions.begin() as session:
        session.execute(
            update(CaseEventRow)
            .where(CaseEventRow.case_no == CASE, CaseEventRow.seq == 3)
            .values(payload={"forged": True})
        )
    assert findings(sessions) == [(CASE, 3, Tampering.EDITED)]


def test_R21_a_deleted_event_is_reported(sessions: sessionmaker[Session]) -> None:
    """R21: deleting an event leaves a gap that is reported as deleted at the missing seq."""
    recorded_case(sessions)
    with sessions.begin() as session:
        session.execute(
            delete(CaseEventRow).where(CaseEventRow.case_no == CASE, CaseEventRow.seq == 3)
        )
    assert findings(sessions) == [(CASE, 3, Tampering.DELETED)]


def test_R21_an_inserted_event_is_reported(sessions: sessionmaker[Session]) -> None:
    """R21: an event added afterwards, without the audit key, is reported as inserted."""
    count = recorded_case(sessions)
    with sessions.begin() as session:
        last = session.scalar(select(CaseEventRow).where(CaseEventRow.seq == count))
        assert last is not None
        session.add(
            CaseEventRow(
                case_no=CASE,
                seq=count + 1,
                type="ReviewApproved",
                occurred_at=last.occurred_at,
                actor_role="reviewer",
                actor_id="intruder",
                actor_department="RFB",
                payload={"department": "RFB"},
                prev_hash=last.hash,
                hash=GENESIS,
            )
        )
    assert findings(sessions) == [(CASE, count + 1, Tampering.INSERTED)]


def test_R21_two_swapped_events_are_reported_as_reordered(sessions: sessionmaker[Session]) -> None:
    """R21: swapping the places of two events is reported at both places."""
    recorded_case(sessions)
    with sessions.begin() as session:
        for old, new in ((3, -3), (4, 3), (-3, 4)):
            session.execute(
                update(CaseEventRow)
                .where(CaseEventRow.case_no == CASE, CaseEventRow.seq == old)
                .values(seq=new)
            )
    assert findings(sessions) == [(CASE, 3, Tampering.REORDERED), (CASE, 4, Tampering.REORDERED)]


async def run_mixed_cases(
    engine: CaseService, catalogue: Catalogue, env: WorkflowEnvironment, count: int
) -> list[str]:
    """``count`` cases down the simulation's paths, in turn; returns their numbers."""
    case_nos = []
    for _, matter, scenario in itertools.islice(itertools.cycle(simulate.SCENARIOS), count):
        run = simulate.Run(service=engine, env=env, matter=catalogue.matter(matter))
        await scenario(run)
        case_nos.append(run.case_no)
    return case_nos


async def test_R21_rebuild_from_histories_equals_the_live_store_and_logs_agree(
    engine: CaseService,
    catalogue: Catalogue,
    time_skipping_env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    store_backend: str,
) -> None:
    """R21: for 200 cases of mixed paths (approved, rejected, deemed, supplements, escalated,
    withdrawn, deemed acceptance; 40 on PostgreSQL) the read model rebuilt from the Temporal
    histories alone equals the live store, each case's audit log agrees with its history, and
    every chain verifies anchored in its history."""
    count = 200 if store_backend == "sqlite" else 40  # the same code path; CI time on the second
    case_nos = await run_mixed_cases(engine, catalogue, time_skipping_env, count)
    histories = await case_histories(time_skipping_env.client, case_nos)
    assert len(histories) == count
    assert differences(sessions, rebuild(histories, ENGINE_KEY), histories) == []
    with sessions() as session:
        for history in histories[:16]:
            assert crosscheck(history, events_of(session, history.workflow_id)) == []
    source = temporal_histories(time_skipping_env.client)
    verified = await verify_anchored(sessions, ENGINE_KEY, source, case_nos)
    assert (verified.cases, verified.findings, verified.unknown) == (count, [], [])


async def test_R21_crosscheck_reports_an_event_changed_in_the_store(
    engine: CaseService,
    catalogue: Catalogue,
    time_skipping_env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
) -> None:
    """R21: an event edited in the store no longer matches the Temporal history, and the
    rebuilt read model shows the difference."""
    (case_no,) = await run_mixed_cases(engine, catalogue, time_skipping_env, 1)
    with sessions.begin() as session:
        session.execute(
            update(CaseEventRow)
            .where(CaseEventRow.case_no == case_no, CaseEventRow.seq == 2)
            .values(actor_id="someone-else")
        )
    histories = await case_histories(time_skipping_env.client, [case_no])
    with sessions() as session:
        assert crosscheck(histories[0], events_of(session, case_no)) == [
            f"第 2 号事件：内容被改动（edited）——{type_named(events_of(session, case_no)[1].type)}"
            "与工作流历史不一致（操作人）"
        ]
    assert len(differences(sessions, rebuild(histories, ENGINE_KEY), histories)) == 1
