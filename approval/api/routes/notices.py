"""A case's written notices as issued to the applicant (受理通知书、一次性告知书、不予受理通知书、
决定书 …), each as rendered, in the order they were issued, and each one printed as a PDF
(approval.printing). Read by the roles that read its materials, under the same rules (R22): a
reviewer only where its department has a task."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from approval.api.deps import CaseNo, case_reader
from approval.domain.models import Actor
from approval.domain.notices import NoticeKind
from approval.http.deps import ServiceDep, SessionDep
from approval.http.refusals import REFUSALS, problem_answers
from approval.printing.recorded import PDF, PrintRefusal, pdf_answer, printed_notice
from approval.store.audit_log import notices_of

router = APIRouter(prefix="/cases", tags=["cases"], responses=REFUSALS)

Reader = Annotated[Actor, Depends(case_reader("read_notices"))]
NoticeNo = Annotated[
    str, Path(min_length=1, max_length=64, description="e.g. 371600-20261128-000042-N02")
]


class NoticeOut(BaseModel):
    """One notice as the applicant received it."""

    model_config = ConfigDict(from_attributes=True, use_attribute_docstrings=True)

    notice_no: str
    """The case number and the notice's number on the case, e.g. 371600-20261128-000042-N02."""
    kind: NoticeKind
    title: str
    body: str
    """The full Chinese text, as printed for the applicant."""
    issued_at: datetime


@router.get("/{case_no}/notices", response_model=list[NoticeOut])
async def read_notices(
    case_no: CaseNo,
    _actor: Reader,
    session: SessionDep,
) -> list[NoticeOut]:
    """The notices issued on the case, in issue order; an empty list before the first."""
    return [NoticeOut.model_validate(row) for row in notices_of(session, case_no)]


@router.get(
    "/{case_no}/notices/{notice_no}.pdf",
    response_class=Response,
    responses={
        200: {"content": {PDF: {}}, "description": "the notice as a PDF (A4)"},
        **problem_answers(503),
    },
)
async def print_notice(
    case_no: CaseNo,
    notice_no: NoticeNo,
    _actor: Reader,
    session: SessionDep,
    service: ServiceDep,
) -> Response:
    """One notice of the case printed as a PDF: the centre's header, the title, the case
    number, the check code (查询码) and the QR code of the public progress page, the notice's
    text as recorded, the date and a place for the seal. 404 (``notice_not_found``) when the
    case has no such notice; 503 (``printing_unavailable``) when PDFs cannot be made here."""
    centre = service.catalogue.centre
    try:
        file = await printed_notice(session, service.settings, centre, case_no, notice_no)
    except PrintRefusal as refusal:
        return JSONResponse(status_code=refusal.status_code, content={"detail": refusal.detail})
    return pdf_answer(file)
