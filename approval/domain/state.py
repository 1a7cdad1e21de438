"""The recorded state of a case and of its review tasks (pure data)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from approval.domain.catalogue import CasePolicy, Matter
from approval.domain.clock import Clock
from approval.domain.models import (
    Actor,
    Applicant,
    ExcludedProcedure,
    NoticeItem,
    RatingLevel,
    SubmittedMaterial,
)


class Stage(StrEnum):
    """Where a case stands in its lifecycle."""

    RECEIVED = "received"  # 收件, awaiting the window's check
    AWAITING_INTAKE_SUPPLEMENT = "awaiting_intake_supplement"  # 一次性告知, 待补正
    IN_REVIEW = "in_review"  # 并联审查
    AWAITING_SUPPLEMENT = "awaiting_supplement"  # 补正中, clocks stopped
    EXCLUDED_PERIOD = "excluded_period"  # 听证、检验、鉴定、专家评审…: clocks stopped (art. 45)
    AWAITING_FEE = "awaiting_fee"  # 待缴费
    AWAITING_DELIVERY = "awaiting_delivery"  # 待送达
    COMPLETED = "completed"  # 办结
    NOT_ACCEPTED = "not_accepted"  # 不予受理
    WITHDRAWN = "withdrawn"  # 撤回


CLOSED_STAGES = frozenset({Stage.COMPLETED, Stage.NOT_ACCEPTED, Stage.WITHDRAWN})
BEFORE_DECISION = frozenset(
    {
        Stage.RECEIVED,
        Stage.AWAITING_INTAKE_SUPPLEMENT,
        Stage.IN_REVIEW,
        Stage.AWAITING_SUPPLEMENT,
        Stage.EXCLUDED_PERIOD,
    }
)
SUPPLEMENTING = frozenset({Stage.AWAITING_INTAKE_SUPPLEMENT, Stage.AWAITING_SUPPLEMENT})


class TaskState(StrEnum):
    """The state of one department's review task."""

    WAITING = "waiting"  # for a declared dependency (R7)
    PENDING = "pending"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    DEEMED_APPROVED = "deemed_approved"  # silent consent (超时默认, R9)
    CANCELLED = "cancelled"


RESOLVED_TASK_STATES = frozenset(
    {TaskState.APPROVED, TaskState.REJECTED, TaskState.DEEMED_APPROVED}
)
AGREEING_TASK_STATES = frozenset({TaskState.APPROVED, TaskState.DEEMED_APPROVED})
OPEN_TASK_STATES = frozenset({TaskState.WAITING, TaskState.PENDING, TaskState.SUPPLEMENT_REQUESTED})


class ReviewTask(BaseModel):
    """One reviewing department's task on a case."""

    department: str
    name: str
    depends_on: tuple[str, ...] = ()
    state: TaskState = TaskState.WAITING
    clock: Clock | None = None
    round: int = 0
    requested_items: tuple[NoticeItem, ...] = ()
    reasons: str | None = None
    decided_by: Actor | None = None
    decided_at: datetime | None = None
    overdue: bool = False
    """The department let its period pass (效能问责, R9)."""
    escalated: bool = False
    """Silent consent excluded: escalated to the supervisor, still open (R9)."""
    absent_at_meeting: bool = False
    """Deemed approved because absent from a joint review meeting (缺席默认, R10)."""


class SupervisedClock(StrEnum):
    """The clocks whose lights are supervised (R19), each answering to one party."""

    INTAKE = "intake"  # the window's check (R3)
    REVIEW = "review"  # a department's task (R8)
    CASE = "case"  # the case's committed period, answered for by the lead department (R13)
    SUPPLEMENT = "supplement"  # the applicant's period to supplement (R6)
    DELIVERY = "delivery"  # the window's delivery of the result (R16)
    FOLLOW_UP = "follow_up"  # a follow-up of a bad rating or a complaint (R20)


class FollowUpCause(StrEnum):
    """Why a follow-up (整改) was opened (R20)."""

    RATING = "rating"  # a bad rating (差评)
    COMPLAINT = "complaint"  # an efficiency complaint (效能投诉)


class FollowUp(BaseModel):
    """A follow-up addressed to one department or the window, with its own period (R20)."""

    follow_up_no: str
    party: str
    party_name: str
    cause: FollowUpCause
    opened_at: datetime
    clock: Clock
    answered_at: datetime | None = None
    on_time: bool | None = None

    @property
    def is_open(self) -> bool:
        """Not yet answered (an overdue follow-up stays open until it is)."""
        return self.answered_at is None


class Rating(BaseModel):
    """The applicant's one rating of the case (R20)."""

    level: RatingLevel
    comment: str | None
    rated_at: datetime
    actor: Actor


class Decision(BaseModel):
    """The case's decision (R14)."""

    approved: bool
    decided_at: datetime
    deemed_departments: tuple[str, ...] = ()
    absent_departments: tuple[str, ...] = ()
    """Deemed to agree by absence from a joint review meeting (R10)."""
    rejections: dict[str, str] = Field(default_factory=dict)


class ExcludedPeriod(BaseModel):
    """A procedure whose time no period counts (art. 45, R12), while it lasts."""

    procedure: ExcludedProcedure
    reason: str
    expected_wd: int
    opened_at: datetime
    expected_last_day: date


class CaseState(BaseModel):
    """Everything the engine knows about one case."""

    case_no: str
    catalogue_version: str
    matter: Matter
    applicant: Applicant
    clerk: Actor
    stage: Stage = Stage.RECEIVED
    received_at: datetime
    check_started_at: datetime
    """When the current check began: receipt, or the latest supplement (R3)."""
    materials: dict[str, SubmittedMaterial] = Field(default_factory=dict)
    intake_clock: Clock | None = None
    first_intake_notice: tuple[str, ...] | None = None
    consolidated_items: tuple[str, ...] | None = None
    open_notice_items: tuple[NoticeItem, ...] = ()
    supplement_due: datetime | None = None
    accepted_at: datetime | None = None
    accepted_as_of: datetime | None = None
    deemed_accepted: bool = False
    case_clock: Clock | None = None
    case_overdue: bool = False
    extended: bool = False
    tasks: dict[str, ReviewTask] = Field(default_factory=dict)
    decision: Decision | None = None
    fee_paid: bool = False
    certificate_no: str | None = None
    delivery_clock: Clock | None = None
    delivery_overdue: bool = False
    closed_at: datetime | None = None
    last_seq: int = 0
    notices_issued: int = 0
    excluded_period: ExcludedPeriod | None = None
    review_periods_capped: bool = False
    """Department periods end no later than the case's deadline (rule in force at receipt)."""
    policy: CasePolicy | None = None
    """The supervision the case runs under (R19 reminders and red marks, R20 ratings and
    follow-ups); None for cases received before it was in force."""
    supplement_warned: bool = False
    """The applicant was reminded of the supplement period's end (R19)."""
    rating: Rating | None = None
    rating_closed: bool = False
    """The period to rate the completed case has passed (R20)."""
    follow_ups: dict[str, FollowUp] = Field(default_factory=dict)

    @property
    def is_closed(self) -> bool:
        """Completed, not accepted or withdrawn: nothing more will happen."""
        return self.stage in CLOSED_STAGES

    def tasks_in(self, *states: TaskState) -> list[ReviewTask]:
        """The tasks in any of ``states``, in catalogue order."""
        return [t for t in self.tasks.values() if t.state in states]
