"""The payloads that cross Temporal: workflow input and result, activity requests."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, ToJsonOptions
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

from approval.domain.calendar import CalendarData
from approval.domain.catalogue import CasePolicy, Frozen, Matter
from approval.domain.events import CaseEvent
from approval.domain.models import Actor, Application, SubmittedMaterial
from approval.domain.state import Decision, Stage
from approval.domain.status import CaseStatus
from approval.payload_dictionary import DICTIONARY_1


class CaseInput(Frozen):
    """Everything a case needs to run, fixed at receipt so that replay is exact: the
    catalogue entry as of receipt and the working-day calendar data."""

    case_no: str
    catalogue_version: str
    centre: str
    matter: Matter
    application: Application
    clerk: Actor
    calendar: CalendarData
    policy: CasePolicy | None = None
    """The supervision of the centre and matter at receipt (R19, R20); cases started before
    it was given run under the default policy."""


class CaseResult(Frozen):
    """How a case ended."""

    case_no: str
    stage: Stage
    decision: Decision | None
    closed_at: datetime | None


class RecordRequest(Frozen):
    """The events of one step of a case, for the store (which computes its read model from
    them, approval.store.read_model)."""

    case_no: str
    centre: str
    events: tuple[CaseEvent, ...]
    last_seq: int
    status: CaseStatus | None = None
    """The case's status after the step: carried by the steps recorded before the read model
    was computed from the events, and kept so that their histories decode and rebuild."""


class ActResult(Frozen):
    """What the caller of an action is told once its events are in the store, so that what it
    reads next shows its own write (R23): the case's stage, and the seq of the last event the
    action recorded."""

    stage: Stage
    last_seq: int


class DepartmentMessageKind(StrEnum):
    """What the engine sends a department system."""

    TASK = "task"  # a new review task with the materials (R7)
    SUPPLEMENT = "supplement"  # the applicant's supplement, forwarded (R11)
    CANCEL = "cancel"  # the task is cancelled: withdrawal or decision (R18)
    DECISION = "decision"  # the case's decision, told to every department that reviewed it
    REMINDER = "reminder"  # 催办: the department's clock turned yellow (R19)
    FOLLOW_UP = "follow_up"  # 整改: a bad rating or complaint addressed to it (R20)


class DepartmentMessage(Frozen):
    """One message to one department's system."""

    case_no: str
    department: str
    kind: DepartmentMessageKind
    round: int
    matter_code: str | None = None
    matter_name: str | None = None
    materials: tuple[SubmittedMaterial, ...] = ()
    due: datetime | None = None
    reason: str | None = None
    as_of_seq: int | None = None
    """The seq of the event the message tells of. A message sent with it crosses Temporal
    without the matter and, for a task or supplement, without its materials: the sending
    activity takes them from the record as it stood at that event (they are in the case's
    history once already); a department always receives them."""


WINDOW_BITS = 12
"""A 4 KiB window: it holds the dictionary and any payload of a step, and takes a third of the
time of zlib's default 32 KiB to set up (measured on these payloads, same sizes)."""


class Compression:
    """zlib with the preset dictionary of the engine's payloads (approval.payload_dictionary)
    for every payload of ``MIN_BYTES`` or more: a step's events, a case's input, a department
    message take a third to a half of their room in the history. A payload without the
    encoding (older histories, small payloads) reads as it is."""

    ENCODING = b"binary/zlib;dictionary=1"
    MIN_BYTES = 64

    @classmethod
    def compress(cls, payload: Payload) -> Payload:
        """The payload compressed, or itself when small or when compressing does not help."""
        if payload.ByteSize() < cls.MIN_BYTES:
            return payload
        packer = zlib.compressobj(
            zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, WINDOW_BITS, zdict=DICTIONARY_1
        )
        data = packer.compress(payload.SerializeToString()) + packer.flush()
        if len(data) >= payload.ByteSize():
            return payload
        return Payload(metadata={"encoding": cls.ENCODING}, data=data)

    @classmethod
    def decompress(cls, payload: Payload) -> Payload:
        """A compressed payload restored; any other as it is."""
        if payload.metadata.get("encoding") != cls.ENCODING:
            return payload
        unpacker = zlib.decompressobj(zdict=DICTIONARY_1)
        return Payload.FromString(unpacker.decompress(payload.data) + unpacker.flush())


_JSON = PydanticJSONPlainPayloadConverter(ToJsonOptions(exclude_unset=True))
"""The engine's one JSON converter: its type adapters, cached as they are built, serve every
converter instance (the SDK makes one for each workflow activation, and the adapter of a
union such as a command costs a schema build)."""
_ENCODINGS = tuple(
    _JSON if isinstance(c, JSONPlainPayloadConverter) else c
    for c in DefaultPayloadConverter.default_encoding_payload_converters
)


class _PayloadConverter(CompositePayloadConverter):
    """Pydantic JSON that writes only the fields a model was given (``exclude_unset``): an
    event crosses Temporal with exactly the fields it was recorded with, so its payload is the
    same in the workflow, in the history, in the store and in an auditor's hands. Payloads are
    compressed here, as they are converted (Compression), rather than by a payload codec: a
    codec makes the SDK walk every activation and completion for payloads to transform, which
    cost about a fifth of a replay's time. The encodings are temporalio's pydantic
    converter's, built once and shared (see ``_JSON``)."""

    def __init__(self) -> None:
        super().__init__(*_ENCODINGS)

    def to_payloads(self, values: Sequence[Any]) -> list[Payload]:
        """The values as JSON payloads, each compressed where that makes it smaller."""
        return [Compression.compress(p) for p in super().to_payloads(values)]

    def from_payloads(
        self, payloads: Sequence[Payload], type_hints: list[type] | None = None
    ) -> list[Any]:
        """The values of payloads, compressed or not."""
        plain = [Compression.decompress(p) for p in payloads]
        return super().from_payloads(plain, type_hints)


DATA_CONVERTER = DataConverter(payload_converter_class=_PayloadConverter)
"""The converter of every client and worker of the engine (it reads what the default pydantic
converter wrote, so older histories decode unchanged)."""


def from_history(payloads: Sequence[Payload], types: Sequence[type]) -> list[Any]:
    """Payloads as a history holds them (compressed or not), decoded into ``types``: for the
    auditors' tools, which read histories without a worker."""
    return DATA_CONVERTER.payload_converter.from_payloads(payloads, list(types))
