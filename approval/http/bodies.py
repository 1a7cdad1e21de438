"""The request bodies of the API's actions on a case. The API reads them; the command line, a
client of the API, builds and checks them before it sends anything; so they live below both.
The actor of an action is never part of a body: it is the authenticated user (R22)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field

from approval.domain.catalogue import Code, Frozen
from approval.domain.models import (
    FOLLOW_UP_PATTERN,
    Concerns,
    NoticeItem,
    Outcome,
    RatingLevel,
    SubmittedMaterial,
    Text,
)


class RefuseIn(Frozen):
    """Why the application is not accepted (不予受理, R1), and the competent organ the applicant
    should turn to, if another one is: the fields of approval.domain.models.Refuse."""

    reason: Text
    competent_organ: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class NoticeIn(Frozen):
    """The one-time notice (R3): submitted items that are not in legal form, if any."""

    defective: tuple[NoticeItem, ...] = ()


class SupplementIn(Frozen):
    """The applicant's supplementary materials."""

    materials: tuple[SubmittedMaterial, ...] = Field(min_length=1)


class WithdrawIn(Frozen):
    """Why the applicant withdraws (R18)."""

    reason: Text = "申请人主动撤回"


class FeeIn(Frozen):
    """The fee collected at the window (R15)."""

    amount_yuan: Decimal = Field(ge=0, decimal_places=2)
    receipt_no: Annotated[str, Field(min_length=1, max_length=64)]


class DeliverIn(Frozen):
    """How the certificate or decision was handed over (R16)."""

    method: Annotated[str, Field(min_length=1, max_length=50)] = "窗口领取"


class DecisionIn(Frozen):
    """A department's opinion; the department is the reviewer's own (R22)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    outcome: Outcome
    department: Code | None = None
    """May be left out; when given, it must be the reviewer's own department: another is
    refused (403) and the attempt kept in the case's record (R21, R22)."""
    reasons: Text | None = None
    items: tuple[NoticeItem, ...] = ()


class ExtendIn(Frozen):
    """The supervisor's reason for the one extension (R13)."""

    reason: Text


class RatingIn(Frozen):
    """The applicant's rating of the completed case (好差评, R20), given at the window by a
    clerk on the applicant's behalf: the fields of approval.domain.models.Rate."""

    level: RatingLevel
    comment: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    concerns: Concerns = ()


class ComplaintIn(Frozen):
    """An efficiency complaint (效能投诉) about the open case (R20)."""

    text: Text
    concerns: Concerns = ()


class FollowUpAnswerIn(Frozen):
    """The addressed party's answer to a follow-up: its explanation and remedy (R20)."""

    follow_up_no: Annotated[str, Field(pattern=FOLLOW_UP_PATTERN)]
    explanation: Text
    remedy: Text
