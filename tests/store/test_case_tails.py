"""A step recorded from the tail its writer kept (approval.store.recording.CaseTail) stores
exactly what a step that reads the record back stores: the same hash chain, the same read
model, the same materials; a tail that is not the record just before the step is not used,
and a step whose events were stored already gives no tail."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from approval.auditing.histories import load_history
from approval.auditing.integrity import recorded_steps, verify_chains
from approval.config import DEVELOPMENT_AUDIT_KEY, PROJECT_ROOT
from approval.contracts import RecordRequest
from approval.domain.events import ApplicationReceived
from approval.domain.projection import received
from approval.store.audit_log import events_of, typed
from approval.store.queries import case_materials
from approval.store.read_model import stored_view
from approval.store.recording import CaseTail, record_step

KEY = DEVELOPMENT_AUDIT_KEY.encode()
EVENTS_ONLY = PROJECT_ROOT / "tests" / "golden" / "events-only"
HISTORIES = ("approved", "consolidated_supplement", "deemed", "rejected", "withdrawn")


def steps_of(name: str) -> list[RecordRequest]:
    """The steps the workflow handed to the store in a golden history of the current form."""
    return recorded_steps(load_history(EVENTS_ONLY / f"{name}.json"))


def record(
    sessions: sessionmaker[Session], step: RecordRequest, tail: CaseTail | None
) -> CaseTail | None:
    """One step in a transaction of its own, as the store activity writes it."""
    with sessions.begin() as session:
        return record_step(session, KEY, step, tail)


def assert_record_is_sound(sessions: sessionmaker[Session], case_no: str) -> None:
    """The case's chain verifies and its read model is the projection of all its events."""
    assert verify_chains(sessions, KEY, [case_no]).findings == []
    with sessions() as session:
        events = [typed(row) for row in events_of(session, case_no)]
        stored = stored_view(session, case_no)
    assert isinstance(events[0], ApplicationReceived)
    projected = received(case_no, events[0])
    projected.apply(events[1:])
    assert stored == projected


@pytest.mark.parametrize("name", HISTORIES)
def test_R21_R23_each_tail_is_the_record_as_stored_after_its_step(
    sessions: sessionmaker[Session], name: str
) -> None:
    """R21, R23, R7: every step of a golden case recorded from the previous step's tail leaves
    the tail equal to the store (last seq, last hash, read model, the materials a department
    is sent), and the whole record verifies and projects as if every step had read it back."""
    steps = steps_of(name)
    tail = None
    for step in steps:
        tail = record(sessions, step, tail)
        assert tail is not None and tail.seq == step.last_seq
        with sessions() as session:
            last = events_of(session, step.case_no)[-1]
            assert (last.seq, last.hash) == (tail.seq, tail.hash)
            assert stored_view(session, step.case_no) == tail.view
            materials = case_materials(session, step.case_no, tail.seq)
        assert tail.materials is not None
        assert tail.materials.documents == materials.submitted()
        assert tail.materials.since == materials.last_delivery_seq()
    assert_record_is_sound(sessions, steps[0].case_no)


def test_R23_a_step_stored_already_gives_no_tail_and_changes_nothing(
    sessions: sessionmaker[Session],
) -> None:
    """R23: a retried step whose events are in the store already, even given the tail from
    before it, stores nothing new and gives no tail (the next step reads the record)."""
    first, second, third = steps_of("approved")[:3]
    before_second = record(sessions, first, None)
    assert record(sessions, second, before_second) is not None
    assert record(sessions, second, before_second) is None
    assert record(sessions, third, None) is not None
    assert_record_is_sound(sessions, first.case_no)


def test_R21_a_tail_from_further_back_is_not_used(sessions: sessionmaker[Session]) -> None:
    """R21: the tail of the first step, offered for the third (another writer recorded the
    second), is left unused: the third chains to the stored second event."""
    first, second, third = steps_of("approved")[:3]
    stale = record(sessions, first, None)
    record(sessions, second, None)
    assert stale is not None and not stale.before(third.events)
    assert record(sessions, third, stale) is not None
    assert_record_is_sound(sessions, first.case_no)
