"""The clerk's intake (收件): the form with the chosen matter's materials checklist (免提交 items
marked), and its post, which receives the application through the engine as the API's
POST /cases does and goes to the new case's page."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from approval.domain.catalogue import Catalogue, Matter
from approval.domain.errors import DomainError
from approval.domain.models import Actor, Application, Role
from approval.http.deps import ServiceDep
from approval.web.access import person
from approval.web.case_actions import materials_of
from approval.web.rendering import page, refusal_code, refusal_line

router = APIRouter()
Clerk = Annotated[Actor, Depends(person("submit", Role.CLERK))]


def intake_page(
    request: Request,
    actor: Actor,
    catalogue: Catalogue,
    matter_code: str | None,
    code: int = status.HTTP_200_OK,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    """The intake form, with the chosen matter's checklist."""
    matter: Matter | None = None
    if matter_code:
        matter = next((m for m in catalogue.matters if m.code == matter_code), None)
    return page(
        request,
        "intake.html",
        actor,
        code,
        matters=catalogue.matters,
        matter=matter,
        error=error,
        form=form or {},
        key=f"web-{uuid.uuid4().hex}",
    )


@router.get("/cases/new", response_class=HTMLResponse)
async def intake_form(
    request: Request, actor: Clerk, service: ServiceDep, matter: str | None = None
) -> Response:
    """The clerk's intake form (收件)."""
    return intake_page(request, actor, service.catalogue, matter)


@router.post("/cases", response_class=HTMLResponse)
async def submit(request: Request, actor: Clerk, service: ServiceDep) -> Response:
    """Receive the application and go to its case page."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    catalogue = service.catalogue
    matter_code = values.get("matter_code", "")
    matter = next((m for m in catalogue.matters if m.code == matter_code), None)
    try:
        if matter is None:
            return intake_page(
                request,
                actor,
                catalogue,
                None,
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "matter_code: 请选择事项目录中的事项",
                values,
            )
        application = Application.model_validate(
            {
                "matter_code": matter.code,
                "applicant": {
                    "name": values.get("applicant_name", "").strip(),
                    "id_number": values.get("id_number", "").strip().upper(),
                },
                "materials": await materials_of(
                    [r.code for r in matter.demanded_materials], form, service.settings
                ),
                "idempotency_key": values.get("idempotency_key") or f"web-{uuid.uuid4().hex}",
            }
        )
        submission = await service.submit(application, actor)
    except (DomainError, ValidationError) as error:
        return intake_page(
            request,
            actor,
            catalogue,
            matter_code,
            refusal_code(error),
            refusal_line(error),
            values,
        )
    return RedirectResponse(f"/web/cases/{submission.case_no}", status.HTTP_303_SEE_OTHER)
