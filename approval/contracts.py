"""The payloads that cross Temporal: workflow input and result, activity requests."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from temporalio.contrib.pydantic import PydanticPayloadConverter, ToJsonOptions
from temporalio.converter import DataConverter

from approval.domain.calendar import CalendarData
from approval.domain.catalogue import Frozen, Matter
from approval.domain.events import CaseEvent
from approval.domain.models import Actor, Application, SubmittedMaterial
from approval.domain.state import Decision, Stage
from approval.domain.status import CaseStatus


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
    reads next shows its own write (R23): the case's stage and the events the action recorded
    (seq ``last_seq - len(recorded) + 1`` to ``last_seq``)."""

    case_no: str
    stage: Stage
    last_seq: int
    recorded: tuple[str, ...]
    """The types of the events the action recorded, in order."""


class DepartmentMessageKind(StrEnum):
    """What the engine sends a department system."""

    TASK = "task"  # a new review task with the materials (R7)
    SUPPLEMENT = "supplement"  # the applicant's supplement, forwarded (R11)
    CANCEL = "cancel"  # the task is cancelled: withdrawal or decision (R18)
    DECISION = "decision"  # the case's decision, told to every department that reviewed it


class DepartmentMessage(Frozen):
    """One message to one department's system."""

    case_no: str
    department: str
    kind: DepartmentMessageKind
    round: int
    matter_code: str
    matter_name: str
    materials: tuple[SubmittedMaterial, ...] = ()
    due: datetime | None = None
    reason: str | None = None


class _PayloadConverter(PydanticPayloadConverter):
    """Pydantic JSON that writes only the fields a model was given (``exclude_unset``): an
    event crosses Temporal with exactly the fields it was recorded with, so its payload is the
    same in the workflow, in the history, in the store and in an auditor's hands."""

    def __init__(self) -> None:
        super().__init__(ToJsonOptions(exclude_unset=True))


DATA_CONVERTER = DataConverter(payload_converter_class=_PayloadConverter)
"""The converter of every client and worker of the engine (it reads what the default pydantic
converter wrote, so older histories decode unchanged)."""
