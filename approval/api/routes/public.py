"""Public progress (办件进度查询): an applicant, without an account, reads where a case stands
with the case number and the check code printed on the voucher. Only the stage and its dates
are shown: no personal data, no department's opinion. A wrong check code and an unknown case
are the same 404, so the answer never tells whether a case number exists; the check code has
64 bits (approval.domain.check_code) and each client address may ask a limited number of times
(``APPROVAL_PUBLIC_RATE_LIMIT``, then 429 with Retry-After), so codes cannot be guessed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel

from approval.api.deps import CaseNo
from approval.config import Settings
from approval.domain import check_code as codes
from approval.domain.calendar import SHANGHAI
from approval.domain.check_code import CHECK_CODE_PATTERN, check_code
from approval.domain.labels import STAGE_LABELS
from approval.domain.state import Stage
from approval.http.deps import SessionDep
from approval.http.limiting import public_rate_limit
from approval.http.refusals import problem_answers
from approval.store.queries import case_row

__all__ = ["PublicProgress", "check_code", "router"]

router = APIRouter(
    prefix="/public",
    tags=["public"],
    responses=problem_answers(404, 422, 429),
    dependencies=[Depends(public_rate_limit)],
)
NOT_FOUND = {"field": "case_no", "reason": "没有与该办件编号和查询码相符的办件 no such case"}


class PublicProgress(BaseModel):
    """What anyone holding the case number and its check code may see (dates: Asia/Shanghai)."""

    case_no: str
    stage: Stage
    stage_label: str
    received_on: date
    accepted_on: date | None
    committed_completion_on: date | None
    """承诺办结日: the case's last working day, when its clock runs."""
    decided_on: date | None
    decided: bool


def _settings(request: Request) -> Settings:
    """The app's settings: the audit key signs the check codes."""
    settings: Settings = request.app.state.settings
    return settings


def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(SHANGHAI).date() if moment else None


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
    """A case's stage and dates, from the read model; 404 alike for an unknown case and a
    wrong check code. The 8-character code of before is accepted for a case numbered on or
    before ``LEGACY_CODES_UNTIL`` only (approval.domain.check_code)."""
    key = _settings(request).audit_key_bytes
    known = codes.matches(case_no, key, check_code, codes.LEGACY_CODES_UNTIL)
    row = case_row(session, case_no) if known else None
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
    stage = Stage(row.stage)
    received_on = _day(row.received_at)
    assert received_on is not None
    return PublicProgress(
        case_no=row.case_no,
        stage=stage,
        stage_label=STAGE_LABELS[stage],
        received_on=received_on,
        accepted_on=_day(row.accepted_at),
        committed_completion_on=row.case_last_day,
        decided_on=_day(row.decided_at),
        decided=row.decided_at is not None,
    )
