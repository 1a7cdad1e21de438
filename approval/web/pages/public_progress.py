"""What the applicant's side shows and does (办件进度查询, 好差评, R20), shared by the public
progress page (approval.web.pages.public) and the JSON routes under /public
(approval.api.routes.public): a case found by its number and check code, read from the read
model with nothing personal in it (no applicant, no reviewer, no opinion's text); and the
applicant's one rating of a completed case, sent to the engine in the applicant's name with a
request id of its own namespace, its refusals told in Chinese with a stable machine code.

A wrong check code and an unknown case are the same answer (``NOT_FOUND``), so nothing tells
whether a case number exists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from fastapi import status
from pydantic import ValidationError
from sqlalchemy.orm import Session

from approval.domain import check_code as codes
from approval.domain.aftercare import WINDOW_NAME
from approval.domain.calendar import SHANGHAI
from approval.domain.errors import (
    DomainError,
    InvalidInputError,
    RatingRefusedError,
    StageError,
)
from approval.domain.labels import STAGE_LABELS, TASK_LABELS
from approval.domain.models import (
    WINDOW,
    Actor,
    Rate,
    RatingLevel,
    Role,
)
from approval.domain.state import Stage, TaskState
from approval.http.refusals import refusal_kind, refusal_status
from approval.service import CaseService
from approval.store.audit_log import events_of
from approval.store.queries import case_row, task_rows
from approval.store.schema import CaseRow, ReviewTaskRow
from approval.validation import Invalid, first_problem

NOT_FOUND_FIELD = "case_no"
NOT_FOUND_REASON = "没有与该办件编号和查询码相符的办件 no such case"
"""The one answer to a wrong check code and to an unknown case (no oracle)."""
NOT_FOUND = {"field": NOT_FOUND_FIELD, "reason": NOT_FOUND_REASON}

REQUEST_ID_PREFIX = "public-rating:"
"""The applicant's request ids are Update ids of their own: no id a client sends can name
another person's action on the case (R23)."""
REQUEST_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,100}$"
COMMENT_MAX = 500

ALREADY_RATED = "already_rated"
RATING_PERIOD_OVER = "rating_period_over"
NOT_RATEABLE = "not_rateable"
INVALID_INPUT = "invalid_input"
"""The machine codes of a rating's refusals."""
STATUS_OF_CODE = {
    ALREADY_RATED: status.HTTP_409_CONFLICT,
    RATING_PERIOD_OVER: status.HTTP_409_CONFLICT,
    NOT_RATEABLE: status.HTTP_409_CONFLICT,
    INVALID_INPUT: status.HTTP_422_UNPROCESSABLE_CONTENT,
}

FIELD_PROBLEMS = {
    "case_no": "办件编号格式应为 371600-YYYYMMDD-NNNNNN",
    "check_code": "查询码应为受理通知书上的16位字母或数字（0-9、A-F）",
    "level": "请选择评价等级：非常满意、满意、基本满意、不满意、非常不满意",
    "comment": f"评价意见不能超过{COMMENT_MAX}字",
    "concerns": "评价涉及的部门或窗口不正确",
    "request_id": "请求编号不正确，请刷新页面后重试",
    "body": "请求内容应为 JSON 对象",
}
"""What is wrong with each field of the applicant's input, in Chinese."""


class Outcome(StrEnum):
    """How the case ended, or that it has not yet."""

    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    NOT_ACCEPTED = "not_accepted"
    PENDING = "pending"


OUTCOME_LABELS = {
    Outcome.APPROVED: "准予许可",
    Outcome.REJECTED: "不予许可",
    Outcome.WITHDRAWN: "撤回",
    Outcome.NOT_ACCEPTED: "不予受理",
    Outcome.PENDING: "尚未作出决定",
}


@dataclass(frozen=True)
class PublicTask:
    """One department's review as the applicant sees it: its name and the state's label."""

    department: str
    name: str
    state_label: str


@dataclass(frozen=True)
class Party:
    """A department of the case or the window, which a rating may concern (by its name)."""

    code: str
    name: str


@dataclass(frozen=True)
class PublicCase:
    """What anyone holding the case number and its check code may see (days in Beijing)."""

    case_no: str
    stage: Stage
    stage_label: str
    received_on: date
    accepted_on: date | None
    committed_completion_on: date | None
    decided_on: date | None
    completed_on: date | None
    outcome: Outcome
    outcome_on: date | None
    """The day of the outcome: the decision's, or the withdrawal's or non-acceptance's."""
    tasks: tuple[PublicTask, ...]
    rating: RatingLevel | None
    rated_on: date | None
    rating_open: bool
    """Completed, under a rating policy, not yet rated, its rating period not over (R20)."""

    @property
    def outcome_label(self) -> str:
        """The outcome in Chinese."""
        return OUTCOME_LABELS[self.outcome]

    @property
    def rating_label(self) -> str | None:
        """The rating given, in Chinese."""
        return self.rating.label if self.rating else None

    @property
    def parties(self) -> tuple[Party, ...]:
        """What a rating may concern: the case's departments, and the window."""
        return (*(Party(t.department, t.name) for t in self.tasks), Party(WINDOW, WINDOW_NAME))


def day(moment: datetime | None) -> date | None:
    """A moment's calendar day in Beijing."""
    return moment.astimezone(SHANGHAI).date() if moment else None


def outcome_of(row: CaseRow) -> Outcome:
    """The case's outcome from its read-model row."""
    stage = Stage(row.stage)
    if stage is Stage.WITHDRAWN:
        return Outcome.WITHDRAWN
    if stage is Stage.NOT_ACCEPTED:
        return Outcome.NOT_ACCEPTED
    if row.decided_at is None:
        return Outcome.PENDING
    return Outcome.APPROVED if row.approved else Outcome.REJECTED


def _task(row: ReviewTaskRow) -> PublicTask:
    state = TaskState(row.state)
    label = "缺席默认同意" if row.absent_at_meeting else TASK_LABELS.get(state, row.state)
    return PublicTask(department=row.department, name=row.name, state_label=label)


RATING_FACTS = ("NoticeIssued", "CaseRated", "RatingPeriodEnded")


def _rating_open(session: Session, row: CaseRow) -> bool:
    """Whether the completed case awaits its rating: its notices show the check code (it is
    under a supervision policy, R20), and neither a rating nor the period's end is recorded."""
    if Stage(row.stage) is not Stage.COMPLETED or row.rating is not None:
        return False
    facts = events_of(session, row.case_no, types=RATING_FACTS)
    if any(e.type != "NoticeIssued" for e in facts):
        return False
    return any(e.payload.get("notice", {}).get("progress_url") for e in facts)


def find_case(session: Session, key: bytes, case_no: str, code: str) -> PublicCase | None:
    """The case ``case_no`` if ``code`` is its check code (approval.domain.check_code); None
    alike for a wrong code and an unknown case."""
    if not codes.matches(case_no, key, code, codes.LEGACY_CODES_UNTIL):
        return None
    row = case_row(session, case_no)
    if row is None:
        return None
    stage, outcome = Stage(row.stage), outcome_of(row)
    received_on = day(row.received_at)
    assert received_on is not None
    decided_on = day(row.decided_at)
    closed_on = day(row.closed_at)
    return PublicCase(
        case_no=row.case_no,
        stage=stage,
        stage_label=STAGE_LABELS[stage],
        received_on=received_on,
        accepted_on=day(row.accepted_at),
        committed_completion_on=row.case_last_day,
        decided_on=decided_on,
        completed_on=closed_on,
        outcome=outcome,
        outcome_on=decided_on if outcome in (Outcome.APPROVED, Outcome.REJECTED) else closed_on,
        tasks=tuple(_task(t) for t in task_rows(session, case_no)),
        rating=RatingLevel(row.rating) if row.rating else None,
        rated_on=day(row.rated_at),
        rating_open=_rating_open(session, row),
    )


# ---- the rating ------------------------------------------------------------------------------


class RatingRefusal(Exception):
    """The applicant's rating refused: the field, the Chinese reason, a machine code, the
    HTTP status."""

    def __init__(self, field: str, reason: str, code: str, status_code: int | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.code = code
        self.status_code = status_code or STATUS_OF_CODE[code]

    @property
    def line(self) -> str:
        """The refusal as one line, ``field: reason``."""
        return f"{self.field}: {self.reason}"


def applicant(case_no: str) -> Actor:
    """The applicant of the case, as the check code authenticates them (R22)."""
    return Actor(role=Role.APPLICANT, id=f"applicant:{case_no}")


def invalid(error: Invalid, *, of_request: bool = False) -> RatingRefusal:
    """Bad input as a refusal naming its field, in Chinese (then the validator's words)."""
    field, reason = first_problem(error, of_request=of_request)
    named = field.split(".")[0]
    chinese = FIELD_PROBLEMS.get(named)
    return RatingRefusal(field, f"{chinese} ({reason})" if chinese else reason, INVALID_INPUT)


def rating_command(case_no: str, level: str, comment: str | None, concerns: Sequence[str]) -> Rate:
    """The applicant's Rate command; RatingRefusal (422, naming the field) if the input is
    not one."""
    given = {
        "actor": applicant(case_no),
        "level": level,
        "comment": comment.strip() if comment and comment.strip() else None,
        "concerns": tuple(concerns),
    }
    try:
        return Rate.model_validate(given)
    except ValidationError as error:
        raise invalid(error) from None


def engine_request_id(given: str | None) -> str | None:
    """The Update id of the applicant's request id (None: the engine makes one up)."""
    return f"{REQUEST_ID_PREFIX}{given}" if given else None


async def rate(
    service: CaseService, session: Session, case_no: str, command: Rate, request_id: str | None
) -> None:
    """Send the applicant's rating; the same ``request_id`` twice has one effect (R23), also
    once the case's workflow has ended. A refusal (kept in the case's record by the engine,
    R21) is RatingRefusal in Chinese; an outage EngineUnavailableError, as it is."""
    try:
        await service.act(case_no, command, engine_request_id(request_id))
    except DomainError as error:
        session.expire_all()
        raise _refusal(session, case_no, error) from None


def _refusal(session: Session, case_no: str, error: DomainError) -> RatingRefusal:
    """The engine's refusal told in Chinese with its machine code. A case whose workflow has
    ended is refused by the engine without the rule's words: those come from its record."""
    kind = refusal_kind(error)
    if kind == RatingRefusedError.__name__:
        rated = events_of(session, case_no, types=("CaseRated",))
        code = ALREADY_RATED if rated else RATING_PERIOD_OVER
        return RatingRefusal(error.field, error.reason, code)
    if kind == InvalidInputError.__name__:
        return RatingRefusal(error.field, error.reason, INVALID_INPUT)
    if kind == StageError.__name__ and error.field == "case_no":
        return _closed_case(session, case_no)
    if kind == StageError.__name__:
        return RatingRefusal(error.field, error.reason, NOT_RATEABLE)
    return RatingRefusal(error.field, error.reason, kind, refusal_status(error))


def _closed_case(session: Session, case_no: str) -> RatingRefusal:
    """Why a case whose workflow has ended takes no rating, from its record (R20)."""
    facts = events_of(session, case_no, types=("CaseRated", "RatingPeriodEnded"))
    rated = next((e for e in facts if e.type == "CaseRated"), None)
    if rated is not None:
        reason = f"本案已于 {day(rated.occurred_at)} 评价，每案只能评价一次 (R20)"
        return RatingRefusal("level", reason, ALREADY_RATED)
    if facts:
        return RatingRefusal("level", "评价期限已过 (R20)", RATING_PERIOD_OVER)
    row = case_row(session, case_no)
    label = STAGE_LABELS[Stage(row.stage)] if row is not None else "已结束"
    reason = f"只有办结且在评价期限内的案件可以评价，本案当前为{label} (R20)"
    return RatingRefusal("stage", reason, NOT_RATEABLE)
