"""The events of a case: one frozen class per thing that happened, named in the past tense.

Every event has its place in the case's record (``seq``, numbered from 1), its moment (``at``)
and who caused it (``actor``); its own fields say what happened. ``CaseEvent`` is the union of
them all, told apart by ``type``.

What the store keeps and the audit chain signs is an event's ``payload()``: its own fields as
JSON, exactly as they were set — a field the event was not given is not written. Events of
older records decode unchanged, whether they come in the shape they were first written in
(``{"type": …, "data": {…}}``, in committed Temporal histories) or from a store row, and their
payload is byte for byte what was signed then (tests/domain/test_events.py proves it on the golden
histories).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol, get_args

from pydantic import (
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    TypeAdapter,
    model_validator,
)

from approval.domain.catalogue import Code, Frozen
from approval.domain.models import (
    Actor,
    ExcludedProcedure,
    NoticeItem,
    RatingLevel,
    RefusedAttempt,
    Role,
)
from approval.domain.notices import Notice
from approval.domain.state import FollowUpCause, Stage, SupervisedClock
from approval.domain.tagged import Tagged


def _iso(moment: datetime) -> str:
    return moment.isoformat()


Moment = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json")]
"""A moment an event states, written as Python's ISO form with its own offset (as the record
has always held it: ``2027-01-13T00:00:00+08:00``)."""

ENVELOPE = frozenset({"seq", "type", "at", "actor"})
"""The fields every event has; the rest is its payload."""


class CaseEventBase(Tagged):
    """What every event of a case has: its place, its moment, its actor."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    TAG = "type"

    seq: int = Field(ge=1)
    type: str
    """Which event this is: each class fixes it to its own name."""
    at: datetime
    actor: Actor

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, value: Any) -> Any:
        """An event as first written (its fields under ``data``) reads as the same event."""
        if not isinstance(value, Mapping) or not isinstance(value.get("data"), Mapping):
            return value
        fields = {k: v for k, v in value.items() if k != "data"}
        return fields | dict(value["data"])

    @classmethod
    def kind(cls) -> str:
        """The name this class's events carry in ``type`` (as the store's rows hold it)."""
        return str(cls.model_fields["type"].default)

    def payload(self) -> dict[str, Any]:
        """The event's own fields as JSON data, as the store keeps and the chain signs them."""
        return self.model_dump(mode="json", exclude_unset=True, exclude=set(ENVELOPE))


class Document(Frozen):
    """A submitted material's document and its SHA-256: the record proves what was given."""

    document_ref: str
    sha256: str


class ReceivedPeriods(Frozen):
    """The periods a case runs under, as received, so that its record can be checked alone."""

    notice_wd: int = Field(ge=0)
    supplement_days: int = Field(ge=0)
    committed_wd: int = Field(ge=0)
    statutory_wd: int = Field(ge=0)
    extension_wd: int = Field(ge=0)
    delivery_wd: int = Field(ge=0)
    silent_consent: bool
    reviews: dict[str, int]
    reviews_capped: bool = False
    """Department periods end no later than the case's deadline (the rule since the
    cap-review-periods patch; records from before it do not state it)."""


# ---- intake (R1–R6) ------------------------------------------------------------------------


class ApplicationReceived(CaseEventBase):
    """Receipt at the window (收件): the matter, its periods and what was submitted."""

    type: Literal["ApplicationReceived"] = "ApplicationReceived"
    matter_code: Code
    catalogue_version: str
    periods: ReceivedPeriods
    materials: tuple[str, ...]
    documents: dict[str, Document] = Field(default_factory=dict)
    missing: tuple[str, ...]
    matter_name: str | None = None
    applicant_name: str | None = None
    review_names: dict[str, str] = Field(default_factory=dict)
    """Each reviewing department's name, by code. These three are stated since the read
    model is computed from the events (older receipts do not state them)."""


class _Acceptance(CaseEventBase):
    as_of: Moment
    """The moment acceptance counts from (the receipt, for a deemed acceptance, R3)."""
    due: date
    """The case's last working day (its committed period, R13)."""
    provisional: bool
    """The last day lies beyond the published holiday calendar."""


class ApplicationAccepted(_Acceptance):
    """The clerk accepted (受理, R5)."""

    type: Literal["ApplicationAccepted"] = "ApplicationAccepted"


class ApplicationDeemedAccepted(_Acceptance):
    """The window did not answer within its period: accepted as of receipt (R3)."""

    type: Literal["ApplicationDeemedAccepted"] = "ApplicationDeemedAccepted"


class ApplicationNotAccepted(CaseEventBase):
    """Not accepted (不予受理), with the reason (R1)."""

    type: Literal["ApplicationNotAccepted"] = "ApplicationNotAccepted"
    reason: str
    notice: Notice | None = None
    """The non-acceptance voucher, where the application was refused before any case began
    (outside the catalogue or competence): no NoticeIssued event follows then."""


class OneTimeNoticeIssued(CaseEventBase):
    """The one-time notice (一次性告知书) listing every missing or defective item (R3, R4)."""

    type: Literal["OneTimeNoticeIssued"] = "OneTimeNoticeIssued"
    items: tuple[NoticeItem, ...]


class SupplementReceived(CaseEventBase):
    """The applicant's supplementary materials (R4, R11)."""

    type: Literal["SupplementReceived"] = "SupplementReceived"
    materials: tuple[str, ...]
    documents: dict[str, Document] = Field(default_factory=dict)


# ---- review (R7–R12) -----------------------------------------------------------------------


class DepartmentEvent(CaseEventBase):
    """An event about one department's review task."""

    department: Code


class ReviewTaskDispatched(DepartmentEvent):
    """A department's task was started, with the materials and its deadline (R7)."""

    type: Literal["ReviewTaskDispatched"] = "ReviewTaskDispatched"
    round: int = Field(ge=1)
    due: Moment
    provisional: bool
    materials: tuple[str, ...]
    period_wd: int | None = None
    """The period's length in working days, for the light (R19); stated since the read
    model is computed from the events."""


class TaskAnswer(DepartmentEvent):
    """A department's task answered, by its reviewer or by the passing of its period."""

    used_wd: int | None = None
    """Working days of the task's period used when it was answered (more than the period
    when late); stated since the efficiency figures count them (R19)."""


class ReviewApproved(TaskAnswer):
    """The department agreed, with its written opinion when it gave one (R14: required for a
    refusal, optional for an approval)."""

    type: Literal["ReviewApproved"] = "ReviewApproved"
    opinion: str | None = None
    """Kept only when given: an approval without one records as it always has."""


class ReviewRejected(TaskAnswer):
    """The department refused, with its written reasons (R14)."""

    type: Literal["ReviewRejected"] = "ReviewRejected"
    reasons: str


class ReviewSupplementRequested(TaskAnswer):
    """The department asked for materials; its clock stopped (R11)."""

    type: Literal["ReviewSupplementRequested"] = "ReviewSupplementRequested"
    items: tuple[NoticeItem, ...]


class ReviewDeemedApproved(TaskAnswer):
    """The department was silent past its period: deemed to agree (超时默认, R9)."""

    type: Literal["ReviewDeemedApproved"] = "ReviewDeemedApproved"
    overdue: bool


class ReviewEscalated(TaskAnswer):
    """The department was silent past its period where silence is not consent: escalated."""

    type: Literal["ReviewEscalated"] = "ReviewEscalated"
    overdue: bool


class ReviewDeemedApprovedInAbsence(TaskAnswer):
    """Absent from a joint review meeting: deemed to agree (缺席默认, R10)."""

    type: Literal["ReviewDeemedApprovedInAbsence"] = "ReviewDeemedApprovedInAbsence"
    round: int
    meeting_seq: int
    """The seq of the JointMeetingRecorded event that is the reason."""
    reason: str


class ReviewTaskCancelled(DepartmentEvent):
    """An open task was cancelled: withdrawal, decision or lapse (R18)."""

    type: Literal["ReviewTaskCancelled"] = "ReviewTaskCancelled"
    round: int
    reason: str


class WithdrawalNotified(DepartmentEvent):
    """A department that had finished its task was told of the withdrawal (R18)."""

    type: Literal["WithdrawalNotified"] = "WithdrawalNotified"
    round: int


class SupplementForwarded(DepartmentEvent):
    """The supplement went to the department that asked; its task is open again (R11, R12)."""

    type: Literal["SupplementForwarded"] = "SupplementForwarded"
    round: int
    due: Moment | None = None
    provisional: bool | None = None
    """Whether ``due`` is provisional (stated since the read model is computed from the
    events)."""


class ConsolidatedNoticeIssued(CaseEventBase):
    """One notice with every department's requests (R11)."""

    type: Literal["ConsolidatedNoticeIssued"] = "ConsolidatedNoticeIssued"
    items: tuple[NoticeItem, ...]
    departments: tuple[str, ...]


class ClocksStopped(CaseEventBase):
    """Every running clock stopped: a supplement or an excluded procedure (R12)."""

    type: Literal["ClocksStopped"] = "ClocksStopped"
    procedure: ExcludedProcedure | None = None
    """The excluded procedure (art. 45), where that is why."""


class ClocksResumed(CaseEventBase):
    """The clocks run again with the working days they had left (R12)."""

    type: Literal["ClocksResumed"] = "ClocksResumed"
    case_due: Moment | None = None
    after: Literal["excluded_period"] | None = None
    """Set when an excluded period ended (otherwise a supplement came)."""
    task_dues: dict[str, Moment | None] = Field(default_factory=dict)
    """The departments' new deadlines, after an excluded period."""
    case_provisional: bool | None = None
    task_provisional: dict[str, bool] = Field(default_factory=dict)
    """Whether those deadlines are provisional (stated since the read model is computed
    from the events)."""


class ExcludedPeriodOpened(CaseEventBase):
    """A procedure whose time the law excludes began (art. 45, R12)."""

    type: Literal["ExcludedPeriodOpened"] = "ExcludedPeriodOpened"
    procedure: ExcludedProcedure
    reason: str
    expected_wd: int
    expected_last_day: date


class ExcludedPeriodClosed(CaseEventBase):
    """The excluded procedure is over, with its result (R12)."""

    type: Literal["ExcludedPeriodClosed"] = "ExcludedPeriodClosed"
    procedure: ExcludedProcedure
    result: str


class JointMeetingRecorded(CaseEventBase):
    """A joint review meeting (联合审查会议): attendance and minutes (R10)."""

    type: Literal["JointMeetingRecorded"] = "JointMeetingRecorded"
    present: tuple[str, ...]
    absent: tuple[str, ...]
    minutes: str


class CaseExtended(CaseEventBase):
    """The case's period was extended once, with the reason (R13)."""

    type: Literal["CaseExtended"] = "CaseExtended"
    extra_wd: int
    reason: str


class CasePeriodExpired(CaseEventBase):
    """The case's own period passed before the decision (R13, R19)."""

    type: Literal["CasePeriodExpired"] = "CasePeriodExpired"


# ---- decision, fee, delivery, closing (R14–R18) --------------------------------------------


class CaseApproved(CaseEventBase):
    """Every department agreed (R14)."""

    type: Literal["CaseApproved"] = "CaseApproved"
    deemed_departments: tuple[str, ...]
    """Agreed by silent consent (R9)."""
    absent_departments: tuple[str, ...] = ()
    """Agreed by absence from a joint review meeting (R10); stated only when any."""


class CaseRejected(CaseEventBase):
    """A department refused: the case is refused with every department's reasons (R14)."""

    type: Literal["CaseRejected"] = "CaseRejected"
    rejections: dict[str, str]


class FeeCollected(CaseEventBase):
    """The fee was collected at the window (R15)."""

    type: Literal["FeeCollected"] = "FeeCollected"
    amount_yuan: Decimal
    receipt_no: str


class CertificateIssued(CaseEventBase):
    """The certificate (证照) was issued (R16)."""

    type: Literal["CertificateIssued"] = "CertificateIssued"
    certificate_no: str


class ResultDelivered(CaseEventBase):
    """The result was handed over (送达, R16)."""

    type: Literal["ResultDelivered"] = "ResultDelivered"
    method: str


class DeliveryOverdue(CaseEventBase):
    """The result was not delivered within its period (R16)."""

    type: Literal["DeliveryOverdue"] = "DeliveryOverdue"


class CaseWithdrawn(CaseEventBase):
    """The applicant withdrew before the decision (R18)."""

    type: Literal["CaseWithdrawn"] = "CaseWithdrawn"
    reason: str


class CaseLapsed(CaseEventBase):
    """No supplement came in time: the case is deemed withdrawn (R6)."""

    type: Literal["CaseLapsed"] = "CaseLapsed"
    supplement_due: Moment | None


class CaseClosed(CaseEventBase):
    """The case ended, in this stage."""

    type: Literal["CaseClosed"] = "CaseClosed"
    stage: Stage


# ---- supervision (R19) and ratings (R20) ----------------------------------------------------


class _ClockMark(CaseEventBase):
    clock: SupervisedClock
    party: str
    """Who answers for the clock: a department's code, ``window`` or ``applicant``."""
    last_day: date
    follow_up_no: str | None = None


class ClockWarned(_ClockMark):
    """A supervised clock turned yellow: its party is reminded, once (催办, R19)."""

    type: Literal["ClockWarned"] = "ClockWarned"
    remaining_wd: int


class RedMarkRecorded(_ClockMark):
    """A supervised clock's period passed: a red mark (红牌) against its party (R19)."""

    type: Literal["RedMarkRecorded"] = "RedMarkRecorded"


class CaseRated(CaseEventBase):
    """The applicant rated the completed case (好差评, R20)."""

    type: Literal["CaseRated"] = "CaseRated"
    level: RatingLevel
    comment: str | None = None
    concerns: tuple[str, ...] = ()


class RatingPeriodEnded(CaseEventBase):
    """The period to rate the completed case passed without a rating (R20)."""

    type: Literal["RatingPeriodEnded"] = "RatingPeriodEnded"


class ComplaintLodged(CaseEventBase):
    """An efficiency complaint (效能投诉) about the open case (R20)."""

    type: Literal["ComplaintLodged"] = "ComplaintLodged"
    text: str
    concerns: tuple[str, ...]


class FollowUpOpened(CaseEventBase):
    """A follow-up (整改) addressed to a department or the window, with its period (R20)."""

    type: Literal["FollowUpOpened"] = "FollowUpOpened"
    follow_up_no: str
    party: str
    party_name: str
    cause: FollowUpCause
    period_wd: int
    due: Moment
    provisional: bool


class FollowUpAnswered(CaseEventBase):
    """The follow-up's party answered, with its explanation and remedy (R20)."""

    type: Literal["FollowUpAnswered"] = "FollowUpAnswered"
    follow_up_no: str
    party: str
    explanation: str
    remedy: str
    on_time: bool


class NoticeIssued(CaseEventBase):
    """A written notice to the applicant (书面告知), its facts as issued (R5)."""

    type: Literal["NoticeIssued"] = "NoticeIssued"
    notice: Notice


class ActionRefused(CaseEventBase):
    """An attempt the rules refused; nothing else changed (R4, R8, R11, R21)."""

    type: Literal["ActionRefused"] = "ActionRefused"
    action: str
    field: str
    reason: str
    attempted_at: Moment
    command: dict[str, JsonValue] = Field(default_factory=dict)

    @classmethod
    def of(cls, attempt: RefusedAttempt, *, seq: int, at: datetime) -> ActionRefused:
        """The record of a refused attempt, at its place in the case's record."""
        return cls(
            seq=seq,
            at=at,
            actor=attempt.actor,
            action=attempt.action,
            field=attempt.field,
            reason=attempt.reason,
            attempted_at=attempt.attempted_at,
            command=attempt.command,
        )


CaseEvent = Annotated[
    ApplicationReceived
    | ApplicationAccepted
    | ApplicationDeemedAccepted
    | ApplicationNotAccepted
    | OneTimeNoticeIssued
    | SupplementReceived
    | ReviewTaskDispatched
    | ReviewApproved
    | ReviewRejected
    | ReviewSupplementRequested
    | ReviewDeemedApproved
    | ReviewEscalated
    | ReviewDeemedApprovedInAbsence
    | ReviewTaskCancelled
    | WithdrawalNotified
    | SupplementForwarded
    | ConsolidatedNoticeIssued
    | ClocksStopped
    | ClocksResumed
    | ExcludedPeriodOpened
    | ExcludedPeriodClosed
    | JointMeetingRecorded
    | CaseExtended
    | CasePeriodExpired
    | CaseApproved
    | CaseRejected
    | FeeCollected
    | CertificateIssued
    | ResultDelivered
    | DeliveryOverdue
    | CaseWithdrawn
    | CaseLapsed
    | CaseClosed
    | NoticeIssued
    | ActionRefused
    | ClockWarned
    | RedMarkRecorded
    | CaseRated
    | RatingPeriodEnded
    | ComplaintLodged
    | FollowUpOpened
    | FollowUpAnswered,
    Field(discriminator="type"),
]
"""Any event of a case; ``type`` tells which."""

CASE_EVENT: TypeAdapter[CaseEvent] = TypeAdapter(CaseEvent)
EVENT_CLASSES: tuple[type[CaseEventBase], ...] = get_args(get_args(CaseEvent)[0])
"""Every kind of event, one class each."""
EVENT_TYPES = frozenset(c.kind() for c in EVENT_CLASSES)
"""The name of every kind of event."""


def stored_event(
    *,
    seq: int,
    type_: str,
    at: datetime,
    actor_role: str,
    actor_id: str,
    actor_department: str | None,
    payload: Mapping[str, Any],
) -> CaseEvent:
    """An event as the store keeps it (its columns and JSON payload), typed again. Raises
    pydantic's ValidationError for a row no event class accounts for."""
    actor = Actor(role=Role(actor_role), id=actor_id, department=actor_department)
    return CASE_EVENT.validate_python(
        {**payload, "seq": seq, "type": type_, "at": at, "actor": actor}
    )


class StoredEvent(Protocol):
    """What the store keeps of an event (its row's columns; approval.store.schema)."""

    seq: int
    type: str
    occurred_at: datetime
    actor_role: str
    actor_id: str
    actor_department: str | None
    payload: dict[str, Any]


def as_events(items: Iterable[CaseEventBase | StoredEvent]) -> list[CaseEvent]:
    """Events or store rows, as typed events in seq order (a row that no event class accounts
    for raises pydantic's ValidationError)."""
    events = [_as_event(item) for item in items]
    return sorted(events, key=lambda e: e.seq)


def _as_event(item: CaseEventBase | StoredEvent) -> CaseEvent:
    if isinstance(item, CaseEventBase):
        return CASE_EVENT.validate_python(item)
    return stored_event(
        seq=item.seq,
        type_=item.type,
        at=item.occurred_at,
        actor_role=item.actor_role,
        actor_id=item.actor_id,
        actor_department=item.actor_department,
        payload=item.payload,
    )


DECISION_EVENTS = (CaseApproved, CaseRejected)
"""The events that state the case's decision (R14)."""
HUMAN_ANSWERS = (ReviewApproved, ReviewRejected, ReviewSupplementRequested)
"""A department's own answer to its task."""
DEADLINE_EVENTS = (
    ApplicationDeemedAccepted,
    ReviewDeemedApproved,
    ReviewEscalated,
    CasePeriodExpired,
    DeliveryOverdue,
)
"""Events that only the passing of a period may cause."""
