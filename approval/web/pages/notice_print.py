"""A notice of the case printed as a PDF, from the console's case page: the same PDF as the
API's (approval.printing), read by whoever may open the case page (a reviewer only where its
department has a task, R22). A case without that notice is the 404 page with its line and
machine code."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from approval.http.deps import ServiceDep, SessionDep, reviewer_with_task
from approval.printing.recorded import PrintRefusal, pdf_answer, printed_notice
from approval.web.access import SignedIn, or_forbidden
from approval.web.rendering import page

router = APIRouter()

PATH = "/cases/{case_no}/notices/{notice_no}.pdf"
"""Under the console's prefix: ``/web/cases/{case_no}/notices/{notice_no}.pdf``."""


@router.get(PATH, response_class=Response)
async def print_notice(
    case_no: str,
    notice_no: str,
    request: Request,
    actor: SignedIn,
    service: ServiceDep,
    session: SessionDep,
) -> Response:
    """The notice ``notice_no`` of the case as a PDF to download."""
    await or_forbidden(actor, reviewer_with_task(service, session, case_no, actor, "read_notices"))
    centre = service.catalogue.centre
    try:
        file = await printed_notice(session, service.settings, centre, case_no, notice_no)
    except PrintRefusal as refusal:
        return page(
            request,
            "error.html",
            actor,
            refusal.status_code,
            error=refusal.line,
            error_code=refusal.code,
        )
    return pdf_answer(file)
