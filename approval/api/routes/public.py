"""Public progress (办件进度查询) and rating (好差评, R20): an applicant, without an account,
reads where a case stands with the case number and the check code printed on its notices, and
rates the completed case once. Only the stage, its dates and the outcome are shown: no
personal data, no department's opinion. A wrong check code and an unknown case are the same
404, so the answer never tells whether a case number exists; the check code has 64 bits
(approval.domain.check_code) and each client address may ask a limited number of times
(``APPROVAL_PUBLIC_RATE_LIMIT``, shared with the public page; then 429 with Retry-After), so
codes cannot be guessed. What is read and how a rating is sent is shared with the public page
(approval.web.pages.public_progress). Every refusal here carries a machine ``code`` besides its
field and Chinese reason: ``invalid_input`` (422), ``already_rated``, ``rating_period_over``,
``not_rateable`` (409)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import ConfigDict, Field

from approval.api.deps import CaseNo
from approval.config import Settings
from approval.domain.catalogue import Code, Frozen
from approval.domain.check_code import CHECK_CODE_PATTERN, check_code
from approval.domain.models import RatingLevel
from approval.domain.state import Stage
from approval.http.deps import ServiceDep, SessionDep
from approval.http.limiting import public_rate_limit
from approval.http.refusals import problem_answers
from approval.web.pages.public_progress import (
    COMMENT_MAX,
    NOT_FOUND,
    REQUEST_ID_PATTERN,
    Outcome,
    PublicCase,
    RatingRefusal,
    find_case,
    invalid,
    rate,
    rating_command,
)

__all__ = ["PublicProgress", "check_code", "router"]


class PublicRoute(APIRoute):
    """A public route: bad input is refused as every refusal here is, with the field, a
    Chinese reason and the machine code ``invalid_input`` (422)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                return refused(invalid(error, of_request=True))

        return answer


router = APIRouter(
    prefix="/public",
    tags=["public"],
    responses=problem_answers(404, 422, 429),
    dependencies=[Depends(public_rate_limit)],
    route_class=PublicRoute,
)


def refused(refusal: RatingRefusal) -> JSONResponse:
    """A refusal's answer: ``{"detail": {"field", "reason", "code"}}`` with its status."""
    detail = {"field": refusal.field, "reason": refusal.reason, "code": refusal.code}
    return JSONResponse(status_code=refusal.status_code, content={"detail": detail})


class PublicProgress(Frozen):
    """What anyone holding the case number and its check code may see (dates: Asia/Shanghai)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    case_no: str
    stage: Stage
    stage_label: str
    received_on: date
    accepted_on: date | None
    committed_completion_on: date | None
    """承诺办结日: the case's last working day, when its clock runs."""
    decided_on: date | None
    """The day of the decision (准予 or 不予许可)."""
    decided: bool
    outcome: Outcome
    """approved, rejected, withdrawn, not_accepted, or pending while there is none."""
    outcome_label: str
    outcome_on: date | None
    """The day of the outcome: the decision's, or the withdrawal's or non-acceptance's."""
    completed_on: date | None
    """办结: the day the case ended."""
    rating: RatingLevel | None
    rated_on: date | None
    rating_open: bool
    """Whether the case awaits the applicant's rating now (R20): POST .../rating."""

    @classmethod
    def of(cls, case: PublicCase) -> PublicProgress:
        """The answer of a case found with its check code."""
        return cls(
            case_no=case.case_no,
            stage=case.stage,
            stage_label=case.stage_label,
            received_on=case.received_on,
            accepted_on=case.accepted_on,
            committed_completion_on=case.committed_completion_on,
            decided_on=case.decided_on,
            decided=case.decided_on is not None,
            outcome=case.outcome,
            outcome_label=case.outcome_label,
            outcome_on=case.outcome_on,
            completed_on=case.completed_on,
            rating=case.rating,
            rated_on=case.rated_on,
            rating_open=case.rating_open,
        )


class PublicRatingIn(Frozen):
    """The applicant's rating of the completed case (好差评, R20), authenticated by the check
    code; the actor is the case's applicant."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    check_code: Annotated[str, Field(pattern=CHECK_CODE_PATTERN)]
    """The code on the case's notices."""
    level: RatingLevel
    comment: Annotated[str, Field(max_length=COMMENT_MAX)] | None = None
    """Optional, up to 500 characters."""
    concerns: tuple[Code, ...] = Field(default=(), max_length=20)
    """The departments (codes) or ``window`` it concerns; a bad rating without any concerns
    the window."""


def _settings(request: Request) -> Settings:
    """The app's settings: the audit key signs the check codes."""
    settings: Settings = request.app.state.settings
    return settings


def _found(request: Request, session: SessionDep, case_no: str, code: str) -> PublicCase:
    """The case, when ``code`` is its check code; else the one 404 of every miss."""
    case = find_case(session, _settings(request).audit_key_bytes, case_no, code)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
    return case


@router.get("/cases/{case_no}", response_model=PublicProgress)
async def progress(
    case_no: CaseNo,
    check_code: Annotated[
        str,
        Query(
            pattern=CHECK_CODE_PATTERN,
            description="the 16-character code on the voucher (8 for a case numbered before "
            "the 64-bit code)",
        ),
    ],
    request: Request,
    session: SessionDep,
) -> PublicProgress:
    """A case's stage, dates and outcome, from the read model; 404 alike for an unknown case
    and a wrong check code. The 8-character code of before is accepted for a case numbered on
    or before ``LEGACY_CODES_UNTIL`` only (approval.domain.check_code)."""
    return PublicProgress.of(_found(request, session, case_no, check_code))


@router.post(
    "/cases/{case_no}/rating",
    response_model=PublicProgress,
    responses=problem_answers(409, 503),
)
async def rating(
    case_no: CaseNo,
    body: PublicRatingIn,
    request: Request,
    session: SessionDep,
    service: ServiceDep,
    idempotency_key: Annotated[
        str | None, Header(pattern=REQUEST_ID_PATTERN, description="the same key: one rating")
    ] = None,
) -> Response | PublicProgress:
    """The applicant rates the completed case once, within its rating period (R20): 非常满意
    … 非常不满意; a bad rating opens a follow-up with what it concerns. The same
    ``Idempotency-Key`` sent twice has one effect (R23). Refused (409, kept in the case's
    record, R21): already rated (``already_rated``), the period over (``rating_period_over``),
    the case not completed (``not_rateable``); 503 when the engine is out of reach (nothing
    recorded: send it again)."""
    case = _found(request, session, case_no, body.check_code)
    try:
        command = rating_command(case.case_no, body.level, body.comment, body.concerns)
        await rate(service, session, case.case_no, command, idempotency_key)
    except RatingRefusal as refusal:
        return refused(refusal)
    session.expire_all()
    return PublicProgress.of(_found(request, session, case_no, body.check_code))
