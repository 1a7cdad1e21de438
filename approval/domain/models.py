"""The contracts of a case: who acts, what the applicant brings, and the commands people give.

Pure pydantic models: they cross every boundary (CLI, Temporal payloads, store) unchanged.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from approval.domain.catalogue import Code, Frozen
from approval.domain.tagged import Tagged

CASE_NUMBER_PATTERN = r"^[0-9]{6}-[0-9]{8}-[0-9]{6}$"
CaseNumber = Annotated[
    str, Field(pattern=CASE_NUMBER_PATTERN, description="e.g. 371600-20261128-000042")
]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Role(StrEnum):
    """The roles of the people (and the engine itself) who act on a case."""

    CLERK = "clerk"
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    APPLICANT = "applicant"
    SYSTEM = "system"


class Actor(Frozen):
    """Who did something: role, personal id and, for reviewers, the department."""

    role: Role
    id: Annotated[str, Field(min_length=1, max_length=64)]
    department: Code | None = None


ENGINE = Actor(role=Role.SYSTEM, id="engine")


class Channel(StrEnum):
    """Where the application came in."""

    WINDOW = "window"
    ONLINE = "online"


class Applicant(Frozen):
    """The citizen or company applying."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    id_number: Annotated[
        str, Field(pattern=r"^[0-9A-Z]{15,18}$", description="身份证号 or 统一社会信用代码")
    ]
    phone: Annotated[str, Field(pattern=r"^\+?[0-9-]{6,20}$")] | None = None


class SubmittedMaterial(Frozen):
    """A material by reference and content hash; file contents never enter a workflow."""

    code: Code
    document_ref: Annotated[str, Field(min_length=1, max_length=500)]
    sha256: Sha256


class Application(Frozen):
    """What the applicant brings to the window."""

    matter_code: Code
    applicant: Applicant
    materials: tuple[SubmittedMaterial, ...] = ()
    channel: Channel = Channel.WINDOW
    idempotency_key: Annotated[
        str, Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    ]

    @model_validator(mode="after")
    def _one_entry_per_material(self) -> Application:
        codes = [m.code for m in self.materials]
        if len(codes) != len(set(codes)):
            raise ValueError("materials: 同一材料编码只能出现一次")
        return self


class NoticeItem(Frozen):
    """One item of a notice: a material code and what is wrong with it."""

    code: Code
    reason: Text


class Command(Tagged, Frozen):
    """Every human action carries the actor (R22) and may carry a request id for retries (R23)."""

    TAG = "kind"

    actor: Actor


class Accept(Command):
    """The clerk accepts the application (受理)."""

    kind: Literal["accept"] = "accept"


class Refuse(Command):
    """The clerk does not accept (不予受理): outside competence or not in legal form (R1)."""

    kind: Literal["refuse"] = "refuse"

    reason: Text
    competent_organ: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class IssueNotice(Command):
    """The clerk issues the one-time notice (一次性告知书, R3). Missing items are found by the
    engine; ``defective`` names submitted items that are not in legal form."""

    kind: Literal["issue_notice"] = "issue_notice"

    defective: tuple[NoticeItem, ...] = ()


class Supplement(Command):
    """The applicant's supplementary materials, recorded at the window."""

    kind: Literal["supplement"] = "supplement"

    materials: tuple[SubmittedMaterial, ...] = Field(min_length=1)


class Outcome(StrEnum):
    """What a department may answer."""

    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_SUPPLEMENT = "request_supplement"


class Decide(Command):
    """A department's opinion on its review task."""

    kind: Literal["decide"] = "decide"

    department: Code
    outcome: Outcome
    reasons: Text | None = None
    items: tuple[NoticeItem, ...] = ()

    @model_validator(mode="after")
    def _reasons_and_items(self) -> Decide:
        if self.outcome is Outcome.REJECT and not self.reasons:
            raise ValueError("reasons: 不予同意须写明理由（R14）")
        if self.outcome is Outcome.REQUEST_SUPPLEMENT and not self.items:
            raise ValueError("items: 要求补正须列明需补正的材料（R11）")
        if self.outcome is not Outcome.REQUEST_SUPPLEMENT and self.items:
            raise ValueError("items: 只有要求补正时才列明需补正的材料")
        return self


class Extend(Command):
    """A supervisor extends the case's period once, with a reason (R13)."""

    kind: Literal["extend"] = "extend"

    reason: Text


class Withdraw(Command):
    """The applicant withdraws before the decision (R18)."""

    kind: Literal["withdraw"] = "withdraw"

    reason: Text = "申请人主动撤回"


class CollectFee(Command):
    """The window collects the fee, once (R15)."""

    kind: Literal["collect_fee"] = "collect_fee"

    amount_yuan: Decimal = Field(ge=0, decimal_places=2)
    receipt_no: Annotated[str, Field(min_length=1, max_length=64)]


class Deliver(Command):
    """The certificate or decision is handed over (送达, R16)."""

    kind: Literal["deliver"] = "deliver"

    method: Annotated[str, Field(min_length=1, max_length=50)] = "窗口领取"


class ExcludedProcedure(StrEnum):
    """The procedures whose time the law excludes from every period (art. 45): 听证、招标、
    拍卖、检验、检测、检疫、鉴定、专家评审."""

    HEARING = "hearing"
    TENDER = "tender"
    AUCTION = "auction"
    INSPECTION = "inspection"
    TESTING = "testing"
    QUARANTINE = "quarantine"
    APPRAISAL = "appraisal"
    EXPERT_REVIEW = "expert_review"


class ExcludedPeriodFacts(Frozen):
    """What an excluded period is for and how long it is expected to take (art. 45, R12)."""

    procedure: ExcludedProcedure
    reason: Text
    expected_wd: int = Field(ge=1, le=250, description="expected length in working days")


class OpenExcludedPeriod(Command, ExcludedPeriodFacts):
    """A supervisor stops every clock of the case for a procedure the law excludes (art. 45),
    telling the applicant in writing how long it is expected to take (R12)."""

    kind: Literal["open_excluded_period"] = "open_excluded_period"


class ExcludedPeriodResult(Frozen):
    """What the excluded procedure found, e.g. the experts' conclusion."""

    result: Text


class CloseExcludedPeriod(Command, ExcludedPeriodResult):
    """The excluded procedure is over: every clock resumes with the days it had left (R12)."""

    kind: Literal["close_excluded_period"] = "close_excluded_period"


class MeetingFacts(Frozen):
    """A joint review meeting (联合审查会议): who attended, who did not, and its minutes."""

    present: tuple[Code, ...] = ()
    absent: tuple[Code, ...] = ()
    minutes: Text

    @model_validator(mode="after")
    def _attendance(self) -> MeetingFacts:
        named = [*self.present, *self.absent]
        if not named:
            raise ValueError("present: 须列明出席和缺席的部门")
        twice = sorted({d for d in named if named.count(d) > 1})
        if twice:
            raise ValueError(f"absent: {'、'.join(twice)} 被重复列出")
        return self


class RecordMeeting(Command, MeetingFacts):
    """A supervisor records a joint review meeting; an absent department with an open task is
    deemed to agree (缺席默认, R10)."""

    kind: Literal["record_meeting"] = "record_meeting"


WINDOW = "window"
"""The party a follow-up or a clock of the window names (窗口, 首问负责)."""
APPLICANT_PARTY = "applicant"
"""The party of the applicant's own period (the supplement, R6)."""
FOLLOW_UP_PATTERN = r"^[0-9]{6}-[0-9]{8}-[0-9]{6}-F[0-9]{2}$"


class RatingLevel(StrEnum):
    """The applicant's rating of a completed case (好差评, R20)."""

    VERY_SATISFIED = "very_satisfied"  # 非常满意
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    VERY_DISSATISFIED = "very_dissatisfied"  # 非常不满意

    @property
    def is_bad(self) -> bool:
        """不满意 and 非常不满意 are bad ratings: each opens a follow-up (R20)."""
        return self in BAD_RATINGS

    @property
    def label(self) -> str:
        """The level as the applicant reads it."""
        return RATING_LABELS[self]


BAD_RATINGS = frozenset({RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED})
RATING_LABELS = {
    RatingLevel.VERY_SATISFIED: "非常满意",
    RatingLevel.SATISFIED: "满意",
    RatingLevel.BASICALLY_SATISFIED: "基本满意",
    RatingLevel.DISSATISFIED: "不满意",
    RatingLevel.VERY_DISSATISFIED: "非常不满意",
}
Concerns = Annotated[
    tuple[Code, ...],
    Field(max_length=20, description="the departments (codes) or the window it concerns"),
]


class Rate(Command):
    """The applicant rates the completed case (好差评, R20), at the public page, at the window
    (a clerk on the applicant's behalf) or by the CLI. A bad rating names what it concerns
    (departments of the case or the window; the window when none is named)."""

    kind: Literal["rate"] = "rate"

    level: RatingLevel
    comment: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    concerns: Concerns = ()


class Complain(Command):
    """An efficiency complaint (效能投诉) about an open case: it is followed up like a bad
    rating, addressed to what it concerns (R20)."""

    kind: Literal["complain"] = "complain"

    text: Text
    concerns: Concerns = ()


class AnswerFollowUp(Command):
    """The addressed department (or the window) answers a follow-up with its explanation and
    its remedy (整改); the applicant is told (R20)."""

    kind: Literal["answer_follow_up"] = "answer_follow_up"

    follow_up_no: Annotated[str, Field(pattern=FOLLOW_UP_PATTERN)]
    explanation: Text
    remedy: Text


CaseCommand = Annotated[
    Accept
    | Refuse
    | IssueNotice
    | Supplement
    | Decide
    | Extend
    | Withdraw
    | CollectFee
    | Deliver
    | OpenExcludedPeriod
    | CloseExcludedPeriod
    | RecordMeeting
    | Rate
    | Complain
    | AnswerFollowUp,
    Field(discriminator="kind"),
]
"""Any human action on a case; ``kind`` tells which."""


class RefusedAttempt(Frozen):
    """An action the rules refused: kept in the case's record although it changed nothing
    (R4, R8, R11, R21)."""

    actor: Actor
    action: str
    field: str
    reason: str
    attempted_at: datetime
    command: dict[str, Any] = Field(default_factory=dict)
