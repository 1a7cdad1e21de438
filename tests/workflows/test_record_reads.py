"""The department activity's reads of the record (activities.departments.RecordReads): a
message gets exactly the matter and materials the record held at its event, the messages of
one step share one read of the store, and nothing is kept that could go stale."""

from __future__ import annotations

import asyncio
import hashlib

from sqlalchemy.orm import Session, sessionmaker

from activities.record_reads import RecordAt, RecordReads
from approval.domain.catalogue import Catalogue
from approval.domain.events import ReviewTaskDispatched, SupplementReceived
from approval.domain.models import SubmittedMaterial, Supplement
from approval.service import CaseService
from approval.store.audit_log import events_of
from approval.store.queries import materials_as_of
from tests.domain_fixtures import approve, item, request
from tests.workflows.test_workflow import CLERK, accepted

SECOND_PLAN = SubmittedMaterial(
    code="SJFA", document_ref="docs/SJFA-v2.pdf", sha256=hashlib.sha256(b"v2").hexdigest()
)


class CountedReads(RecordReads):
    """RecordReads that count their reads of the store."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        super().__init__(sessions)
        self.reads: list[int | None] = []

    def _read(self, case_no: str, up_to_seq: int | None) -> RecordAt:
        self.reads.append(up_to_seq)
        return super()._read(case_no, up_to_seq)


def seqs_of(sessions: sessionmaker[Session], case_no: str, event_type: str) -> list[int]:
    """The seqs of the case's recorded events of ``event_type``."""
    with sessions() as session:
        return [e.seq for e in events_of(session, case_no, types=[event_type])]


def recorded_materials(
    sessions: sessionmaker[Session], case_no: str, seq: int
) -> tuple[SubmittedMaterial, ...]:
    """The materials the store says the case held at ``seq`` (the query the reads replace)."""
    with sessions() as session:
        return materials_as_of(session, case_no, seq)


async def test_R7_the_tasks_of_one_step_get_their_materials_from_one_read(
    engine: CaseService, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R7: the four tasks dispatched on acceptance, read at once, each get the materials the
    record held at its own event and the case's matter, and the store is read once."""
    case_no = await accepted(engine, catalogue)
    task_seqs = seqs_of(sessions, case_no, ReviewTaskDispatched.kind())
    reads = CountedReads(sessions)
    answers = await asyncio.gather(*(reads.at(case_no, seq, True) for seq in task_seqs))
    assert len(task_seqs) == 4 and reads.reads == [None]
    for seq, answer in zip(task_seqs, answers, strict=True):
        assert answer.materials == recorded_materials(sessions, case_no, seq)
        assert answer.matter_code == "JS-GHXK-001" and answer.matter_name
    decision = await reads.at(case_no, task_seqs[-1] + 1, False)
    assert decision.matter_code == "JS-GHXK-001" and reads.reads == [None]


async def test_R7_a_task_retried_after_a_supplement_gets_the_materials_of_its_own_event(
    engine: CaseService, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R7: after a supplement brought a new plan, the supplement's message gets the new plan,
    and a task message of before it (retried) still gets the plan the record held at its
    event, read as of that event; one read kept from before the supplement answers too."""
    case_no = await accepted(engine, catalogue)
    task_seq = seqs_of(sessions, case_no, ReviewTaskDispatched.kind())[0]
    early = CountedReads(sessions)
    before = await early.at(case_no, task_seq, True)
    await engine.act(case_no, request("ZRZY", item("SJFA", "总平面图比例不符")))
    for department in ("ZJJ", "RFB", "CGJ"):
        await engine.act(case_no, approve(department))
    await engine.act(case_no, Supplement(actor=CLERK, materials=(SECOND_PLAN,)))
    supplement_seq = seqs_of(sessions, case_no, SupplementReceived.kind())[0]

    reads = CountedReads(sessions)
    after = await reads.at(case_no, supplement_seq, True)
    retried = await reads.at(case_no, task_seq, True)
    assert SECOND_PLAN in after.materials and SECOND_PLAN not in retried.materials
    assert after.materials == recorded_materials(sessions, case_no, supplement_seq)
    assert retried.materials == before.materials == recorded_materials(sessions, case_no, task_seq)
    assert reads.reads == [None, task_seq]
    assert (await early.at(case_no, task_seq, True)).materials == before.materials
    assert early.reads == [None]


async def test_a_case_not_yet_recorded_is_read_again_once_it_is(
    engine: CaseService, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """A read that finds no case is not kept: once the case is in the store, the next read
    finds it."""
    reads = CountedReads(sessions)
    case_no = await accepted(engine, catalogue)
    missing = await reads.at(f"{case_no}-X", 1, True)
    assert missing.matter_code is None
    found = await reads.at(case_no, 1, True)
    again = await reads.at(f"{case_no}-X", 1, True)
    assert found.matter_code == "JS-GHXK-001" and again.matter_code is None
    assert reads.reads == [None, None, None]


async def test_R7_what_the_store_activity_published_answers_without_a_read(
    engine: CaseService, catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """R7: the record the store activity published after a step answers that step's
    messages with no read; one that does not answer a message (its materials delivered after
    the message's event) is passed over for the store."""
    case_no = await accepted(engine, catalogue)
    task_seq = seqs_of(sessions, case_no, ReviewTaskDispatched.kind())[0]
    reads = CountedReads(sessions)
    with sessions() as session:
        last_seq = events_of(session, case_no)[-1].seq
    materials = recorded_materials(sessions, case_no, last_seq)
    reads.publish(case_no, RecordAt(last_seq, "JS-GHXK-001", "建设工程规划许可", materials, 1))
    answer = await reads.at(case_no, task_seq, True)
    assert answer.materials == recorded_materials(sessions, case_no, task_seq)
    assert reads.reads == []
    reads.publish(case_no, RecordAt(last_seq, "JS-GHXK-001", "建设工程规划许可", (), last_seq))
    older = await reads.at(case_no, task_seq, True)
    assert older.materials == materials and reads.reads == [None]
