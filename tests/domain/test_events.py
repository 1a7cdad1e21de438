"""Typed events read every older record unchanged: the golden histories' events decode into
their classes and their payloads are, byte for byte, what the audit chain signed (R21)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload

from approval.contracts import DATA_CONVERTER, Compression, from_history
from approval.domain.audit import canonical_body, event_body
from approval.domain.events import (
    CASE_EVENT,
    ENVELOPE,
    ActionRefused,
    ApplicationReceived,
    CaseApproved,
    ClocksStopped,
    NoticeIssued,
    ReviewTaskDispatched,
    stored_event,
)
from approval.domain.models import Actor, Role
from approval.payload_dictionary import DICTIONARY_1

GOLDEN = Path(__file__).parents[1] / "golden"
CLERK = Actor(role=Role.CLERK, id="clerk-01")


def _first_form_events() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every event every golden history handed to the store, as first written: an activity's
    input (regular store write, compressed since steps carry their events only) or a local
    activity's result (the earlier local write)."""
    for path in sorted(GOLDEN.glob("**/*.json")):
        for event in json.loads(path.read_text())["events"]:
            attributes = event.get("activityTaskScheduledEventAttributes") or {}
            payloads = attributes.get("input", {}).get("payloads", [])
            marker = event.get("markerRecordedEventAttributes") or {}
            payloads += marker.get("details", {}).get("result", {}).get("payloads", [])
            for payload in payloads:
                step = json.loads(_plain(payload))
                if isinstance(step, dict) and "events" in step:
                    name = f"{path.parent.name}/{path.stem}"
                    for recorded in step["events"]:
                        yield name, recorded


def first_data(recorded: dict[str, Any]) -> dict[str, Any]:
    """An event's own fields as first written: under ``data`` in the first form, beside the
    envelope since events are typed."""
    if "data" in recorded:
        data: dict[str, Any] = recorded["data"]
        return data
    return {k: v for k, v in recorded.items() if k not in ENVELOPE}


def _plain(payload: dict[str, Any]) -> bytes:
    """A payload's JSON as a history file holds it, compressed (Compression) or not."""
    decoded = Compression.decompress(json_format.ParseDict(payload, Payload()))
    return decoded.data


FIRST_FORM = list(_first_form_events())


def test_the_golden_histories_hold_events_of_many_kinds() -> None:
    """The sample below is wide enough to mean something: over 250 events of 25+ kinds."""
    assert len(FIRST_FORM) > 250
    assert len({recorded["type"] for _, recorded in FIRST_FORM}) >= 25


@pytest.mark.parametrize("history, recorded", FIRST_FORM[::7] + FIRST_FORM[1::7])
def test_an_event_as_first_written_decodes_and_signs_the_same(
    history: str, recorded: dict[str, Any]
) -> None:
    """R21: an event of a committed history decodes into its typed class, and its payload —
    what the store keeps and the chain signs — equals the data first written, so the old
    chains still verify when they are anchored again in the history."""
    event = CASE_EVENT.validate_python(recorded)
    assert type(event).__name__ == recorded["type"]
    assert event.payload() == first_data(recorded), history
    at = datetime.fromisoformat(recorded["at"])
    actor = recorded["actor"]
    signed_then = canonical_body(
        case_no="c",
        seq=recorded["seq"],
        type_=recorded["type"],
        at=at,
        actor_role=actor["role"],
        actor_id=actor["id"],
        actor_department=actor.get("department"),
        payload=first_data(recorded),
    )
    assert event_body("c", event) == signed_then


def test_every_golden_event_decodes() -> None:
    """No event of any golden history is left untyped."""
    for history, recorded in FIRST_FORM:
        event = CASE_EVENT.validate_python(recorded)
        assert event.payload() == first_data(recorded), (history, recorded["seq"])


def test_dates_are_typed_not_text() -> None:
    """A dispatch's deadline is a datetime, with the offset it was stated in."""
    recorded = next(r for _, r in FIRST_FORM if r["type"] == "ReviewTaskDispatched")
    event = CASE_EVENT.validate_python(recorded)
    assert isinstance(event, ReviewTaskDispatched)
    assert isinstance(event.due, datetime)
    assert event.due.isoformat() == first_data(recorded)["due"]


def test_an_old_stored_row_decodes_into_its_class() -> None:
    """A store row (columns and JSON payload) of the form service wrote refused attempts in
    before typed events — its moment in pydantic's 'Z' form — reads as an ActionRefused."""
    payload = {
        "action": "accept",
        "field": "stage",
        "reason": "accept is not allowed while the case is completed",
        "attempted_at": "2026-12-01T02:00:00Z",
        "command": {"kind": "accept", "actor": {"role": "clerk", "id": "clerk-01"}},
    }
    event = stored_event(
        seq=14,
        type_="ActionRefused",
        at=datetime(2026, 12, 1, 2, tzinfo=UTC),
        actor_role="clerk",
        actor_id="clerk-01",
        actor_department=None,
        payload=payload,
    )
    assert isinstance(event, ActionRefused)
    assert event.attempted_at == datetime(2026, 12, 1, 2, tzinfo=UTC)
    assert event.command["kind"] == "accept"


def test_a_row_of_no_known_kind_is_refused() -> None:
    """A row whose type no class accounts for does not decode (an auditor is told)."""
    with pytest.raises(ValidationError):
        stored_event(
            seq=1,
            type_="TaskDecided",
            at=datetime(2026, 12, 1, tzinfo=UTC),
            actor_role="clerk",
            actor_id="clerk-01",
            actor_department=None,
            payload={},
        )


async def test_a_field_not_given_is_not_written_anywhere() -> None:
    """An event crosses Temporal with exactly the fields it was given: ClocksStopped without a
    procedure, CaseApproved without absent departments, a notice without its unused facts —
    so the payload in the workflow equals the payload the store receives."""
    at = datetime(2026, 12, 1, tzinfo=UTC)
    events = [
        ClocksStopped(seq=1, at=at, actor=CLERK),
        CaseApproved(seq=2, at=at, actor=CLERK, deemed_departments=("ZRZY",)),
    ]
    for event in events:
        (payload,) = await DATA_CONVERTER.encode([event])
        (crossed,) = await DATA_CONVERTER.decode([payload], [type(event)])
        assert crossed == event
        assert crossed.payload() == event.payload()
    assert events[0].payload() == {}
    assert events[1].payload() == {"deemed_departments": ["ZRZY"]}


async def test_a_notice_crosses_compressed_with_the_facts_it_states() -> None:
    """A NoticeIssued decoded from a golden history and sent again keeps its payload; being
    over Compression.MIN_BYTES it crosses zlib-compressed and smaller, and the auditors'
    reader (from_history) decodes it as the worker does."""
    recorded = next(r for _, r in FIRST_FORM if r["type"] == "NoticeIssued")
    event = CASE_EVENT.validate_python(recorded)
    assert isinstance(event, NoticeIssued)
    (payload,) = await DATA_CONVERTER.encode([event])
    assert payload.metadata["encoding"] == Compression.ENCODING
    plain = Compression.decompress(payload)
    assert plain.metadata["encoding"] == b"json/plain"
    assert payload.ByteSize() < plain.ByteSize()
    (crossed,) = await DATA_CONVERTER.decode([payload], [NoticeIssued])
    assert crossed.payload() == first_data(recorded)
    (read,) = from_history([payload], [NoticeIssued])
    assert read == crossed
    (unencoded,) = from_history([plain], [NoticeIssued])
    assert unencoded == crossed


def test_receipt_states_its_periods_typed() -> None:
    """ApplicationReceived's periods are a model; an older record without ``reviews_capped``
    reads as not capped and writes back without it."""
    recorded = next(
        r
        for _, r in FIRST_FORM
        if r["type"] == "ApplicationReceived" and "reviews_capped" not in r["data"]["periods"]
    )
    event = CASE_EVENT.validate_python(recorded)
    assert isinstance(event, ApplicationReceived)
    assert event.periods.reviews_capped is False
    assert "reviews_capped" not in event.payload()["periods"]


def test_the_payload_dictionary_is_frozen() -> None:
    """Histories compressed with dictionary 1 decode only with it: its bytes never change."""
    assert (
        hashlib.sha256(DICTIONARY_1).hexdigest()
        == "e0020f076dfd37fe3b45bc511c98cd9a202f87298f2fa9a949244adc49dc81d8"
    )
