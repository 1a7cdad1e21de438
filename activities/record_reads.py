"""What a case's record held at one of its events, for the messages to the departments: the
matter and the materials (R7), read from the store, or published by the store activity of
this worker as it records each step."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from activities.recent import Recent
from approval.domain.models import SubmittedMaterial
from approval.store.queries import case_materials, case_row
from approval.store.recording import CaseTail


@dataclass(frozen=True)
class RecordAt:
    """What a case's record held once it was recorded up to event ``seq``: the matter, and the
    materials with the seq of the last event that brought one."""

    seq: int
    matter_code: str | None
    matter_name: str | None
    materials: tuple[SubmittedMaterial, ...]
    materials_since: int

    @classmethod
    def of_tail(cls, tail: CaseTail) -> RecordAt | None:
        """What the store activity's tail of the case holds, when it knows the materials."""
        if tail.materials is None:
            return None
        view, materials = tail.view, tail.materials
        return cls(
            tail.seq, view.matter_code, view.matter_name, materials.documents, materials.since
        )

    def answers(self, seq: int, with_materials: bool) -> bool:
        """Whether this holds what the record held at event ``seq``: the matter never changes;
        the materials are the same at every seq from the last that brought one."""
        if self.matter_code is None:
            return False
        return not with_materials or self.materials_since <= seq <= self.seq


class RecordReads:
    """The matter and materials of a case's record, published by this worker's store activity
    as it commits a step, or read from the store, and kept for the last ``size`` cases: a
    message is sent once the step it tells of is recorded, and what is recorded never
    changes, so the messages of one step (sent at once) share one read, or none. A read that
    fails or finds no case is not kept; a message that neither answers (a later step's, or an
    earlier one retried after a supplement) reads again."""

    def __init__(self, sessions: sessionmaker[Session], size: int = 1024) -> None:
        self._sessions = sessions
        self._reads: Recent[asyncio.Future[RecordAt]] = Recent(size)
        self._published: Recent[RecordAt] = Recent(size)

    def publish(self, case_no: str, record: RecordAt) -> None:
        """What the store activity just committed of the case (from any thread): messages
        it answers need no read."""
        self._published.put(case_no, record)

    async def at(self, case_no: str, seq: int, with_materials: bool) -> RecordAt:
        """What the record of ``case_no`` held at event ``seq``: from what was published or
        the kept read if it answers, else from a fresh read; a message older than the case's
        last supplement is read as of ``seq`` itself. A case not in the store has no
        matter."""
        published = self._published.get(case_no)
        if published is not None and published.answers(seq, with_materials):
            return published
        kept = self._reads.get(case_no)
        record = None
        if kept is not None and (not kept.done() or _found(kept)):
            record = await asyncio.shield(kept)
        if record is None or (record.seq < seq and not record.answers(seq, with_materials)):
            record = await asyncio.shield(self._read_and_keep(case_no))
        if record.matter_code is None or record.answers(seq, with_materials):
            return record
        return await asyncio.to_thread(self._read, case_no, seq)

    def _read_and_keep(self, case_no: str) -> asyncio.Future[RecordAt]:
        read = asyncio.ensure_future(asyncio.to_thread(self._read, case_no, None))
        read.add_done_callback(lambda done: self._forget_unless_found(case_no, done))
        self._reads.put(case_no, read)
        return read

    def _forget_unless_found(self, case_no: str, read: asyncio.Future[RecordAt]) -> None:
        if not _found(read):
            self._reads.forget(case_no, read)

    def _read(self, case_no: str, up_to_seq: int | None) -> RecordAt:
        """The case's row, then its materials up to ``up_to_seq`` or else the row's last seq:
        the row is written in the transaction of its events, so every event up to it is
        there."""
        with self._sessions() as session:
            case = case_row(session, case_no)
            if case is None:
                return RecordAt(0, None, None, (), 0)
            seq = case.last_seq if up_to_seq is None else up_to_seq
            materials = case_materials(session, case_no, seq)
        return RecordAt(
            seq,
            case.matter_code,
            case.matter_name,
            materials.submitted(),
            materials.last_delivery_seq(),
        )


def _found(read: asyncio.Future[RecordAt]) -> bool:
    """Whether a finished read found its case."""
    return (
        not read.cancelled() and read.exception() is None and read.result().matter_code is not None
    )
