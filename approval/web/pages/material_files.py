"""A case's material files in the console: each material the case recorded, downloaded as it
was kept (approval.materials), its hash checked before and while it streams. Whoever reads
the case page reads its materials: the clerk, the supervisor, the auditor, and a reviewer
only where its department has a task on the case (R22, the attempt kept otherwise)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from approval.http.deps import ServiceDep, SessionDep, reviewer_with_task
from approval.materials.serving import file_response, open_case_material
from approval.materials.store import MaterialError
from approval.web.access import SignedIn, or_forbidden
from approval.web.rendering import problem_page, refusal_line

router = APIRouter()


@router.get("/cases/{case_no}/materials/{code}/file")
async def download_material(
    case_no: str,
    code: str,
    request: Request,
    actor: SignedIn,
    service: ServiceDep,
    session: SessionDep,
) -> Response:
    """The file of the case's material ``code``: an attachment with its original name and
    its SHA-256 (``X-Content-SHA256``); a missing or altered file is its refusal's page."""
    await or_forbidden(
        actor, reviewer_with_task(service, session, case_no, actor, "read_materials")
    )
    try:
        opened = await open_case_material(session, case_no, code, service.settings)
    except MaterialError as refusal:
        return problem_page(request, refusal.status, refusal_line(refusal), refusal.code)
    return file_response(opened)
