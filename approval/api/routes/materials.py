"""A case's materials: what the applicant submitted and supplemented, each with its name from
the catalogue, the events that brought it, and the document the departments received; and the
items obtained by data sharing (免提交, R2), marked. A reviewer reads only the cases its
department has a task on (R22); the clerk, the supervisor and the auditor read any.

The files themselves (approval.materials): the clerk uploads one (``POST /materials``, streamed
into the store by content hash) and names it in a submission or supplement by the reference and
SHA-256 the upload answered, so no file ever enters the engine; whoever reads the case's
materials downloads each (``GET /cases/{case_no}/materials/{code}/file``), its hash checked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from approval.api.deps import CaseNo, allowed, case_reader
from approval.config import Settings
from approval.domain.catalogue import Catalogue, MaterialRequirement
from approval.domain.errors import DomainError
from approval.domain.models import Actor, Role
from approval.http.deps import ServiceDep, SessionDep
from approval.http.refusals import REFUSALS, problem_answers
from approval.materials.serving import file_response, open_case_material, receive_upload
from approval.materials.store import MaterialError
from approval.store.queries import CaseMaterial, case_materials

router = APIRouter(tags=["cases"], responses=REFUSALS)

CODE_PATTERN = r"^[A-Za-z0-9_.-]{1,40}$"
MaterialCode = Annotated[
    str,
    Path(min_length=1, max_length=40, description="a material's code in the catalogue, e.g. SQB"),
]
"""Any code: one the case has no material of is 404, told in Chinese."""
UploadCode = Annotated[
    str, Query(pattern=CODE_PATTERN, description="the code of the material the file is, e.g. SQB")
]
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
"""The upload's body in the OpenAPI document: the route reads it itself, as it streams in."""


class Delivery(BaseModel):
    """An event that brought the material: the submission (ApplicationReceived) or a
    supplement (SupplementReceived)."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    type: str
    at: datetime
    actor_id: str


class MaterialOut(BaseModel):
    """One material of the case."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    code: str
    name: str | None
    """The name in the catalogue; None for a code the catalogue no longer lists."""
    shared: bool
    """Obtainable by data sharing (免提交, R2): never demanded from the applicant."""
    shared_from: str | None
    submitted: bool
    """Brought by the applicant; false for a shared item that nobody submitted."""
    deliveries: list[Delivery]
    """The submission and every supplement that brought it, in seq order."""
    document_ref: str | None
    """The document the departments' systems last received for it; None until a department
    received the case's materials (on acceptance)."""
    sha256: str | None


class MaterialsOut(BaseModel):
    """The materials of a case: submitted and supplemented ones by code, then the shared ones
    nobody had to bring."""

    case_no: str
    matter_code: str | None
    materials: list[MaterialOut]


@router.get("/cases/{case_no}/materials", response_model=MaterialsOut)
async def read_materials(
    case_no: CaseNo,
    _actor: Annotated[Actor, Depends(case_reader("read_materials"))],
    service: ServiceDep,
    session: SessionDep,
) -> MaterialsOut:
    """The case's materials; a reviewer sees only cases its department has a task on (R22)."""
    record = case_materials(session, case_no)
    catalogue = _requirements(service.catalogue, record.matter_code)
    submitted = [_submitted(m, catalogue.get(m.code)) for m in record.materials]
    brought = {m.code for m in record.materials}
    shared = [_shared(r) for r in catalogue.values() if r.shared and r.code not in brought]
    return MaterialsOut(
        case_no=case_no, matter_code=record.matter_code, materials=submitted + shared
    )


class StoredMaterialOut(BaseModel):
    """A file kept in the store: name it in a submission or supplement by ``code``,
    ``document_ref`` and ``sha256`` (the bytes never go to the engine)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    code: str
    sha256: str
    """The SHA-256 of the bytes kept, in hex."""
    size: int
    """Bytes."""
    document_ref: str
    """The reference the case records: ``doc:<sha256>``."""
    name: str
    """The original file name (made safe), which a download is saved under."""
    media_type: str


@router.post(
    "/materials",
    status_code=status.HTTP_201_CREATED,
    response_model=StoredMaterialOut,
    tags=["materials"],
    openapi_extra=UPLOAD_BODY,
    responses=problem_answers(413, 500),
)
async def upload_material(
    request: Request,
    code: UploadCode,
    _actor: Annotated[Actor, Depends(allowed("upload_material", Role.CLERK))],
) -> Response | StoredMaterialOut:
    """Keep a material's file (multipart field ``file``) by its SHA-256, streamed: the clerk
    only (R22). A file past APPROVAL_MATERIAL_MAX_BYTES is refused (413, the material named),
    nothing kept of it."""
    try:
        stored = await receive_upload(request, code, settings_of(request))
    except MaterialError as error:
        return material_refusal(error)
    return StoredMaterialOut(
        code=stored.code,
        sha256=stored.sha256,
        size=stored.size,
        document_ref=stored.document_ref,
        name=stored.name,
        media_type=stored.media_type,
    )


@router.get(
    "/cases/{case_no}/materials/{code}/file",
    response_class=Response,
    tags=["materials"],
    responses={200: {"content": {"application/octet-stream": {}}}, **problem_answers(500)},
)
async def download_material(
    request: Request,
    case_no: CaseNo,
    code: MaterialCode,
    _actor: Annotated[Actor, Depends(case_reader("download_material"))],
    session: SessionDep,
) -> Response:
    """The file of the case's material ``code`` (its latest submission or supplement),
    streamed, with its original name and its SHA-256 (``X-Content-SHA256``, ``Digest``):
    whoever reads the case's materials, a reviewer only where its department has a task (R22).
    404 when the case has no such material or its file is not kept; 500
    ``material_integrity_failed`` when the kept bytes do not match the recorded hash."""
    try:
        opened = await open_case_material(session, case_no, code, settings_of(request))
    except MaterialError as error:
        return material_refusal(error)
    return file_response(opened)


def settings_of(request: Request) -> Settings:
    """The app's settings (where its files are kept, how large one may be)."""
    settings: Settings = request.app.state.settings
    return settings


def material_refusal(error: MaterialError) -> JSONResponse:
    """A refused upload or download: its status, ``{"detail": {"field", "reason", "code"}}``."""
    detail = {"field": error.field, "reason": error.reason, "code": error.code}
    return JSONResponse(status_code=error.status, content={"detail": detail})


def _requirements(catalogue: Catalogue, matter_code: str | None) -> dict[str, MaterialRequirement]:
    """The matter's list of materials by code; empty for a matter the catalogue lacks."""
    if matter_code is None:
        return {}
    try:
        matter = catalogue.matter(matter_code)
    except DomainError:
        return {}
    return {r.code: r for r in matter.materials}


def _submitted(material: CaseMaterial, requirement: MaterialRequirement | None) -> MaterialOut:
    return MaterialOut(
        code=material.code,
        name=requirement.name if requirement else None,
        shared=bool(requirement and requirement.shared),
        shared_from=requirement.shared_from if requirement else None,
        submitted=True,
        deliveries=[Delivery.model_validate(d) for d in material.deliveries],
        document_ref=material.document_ref,
        sha256=material.sha256,
    )


def _shared(requirement: MaterialRequirement) -> MaterialOut:
    return MaterialOut(
        code=requirement.code,
        name=requirement.name,
        shared=True,
        shared_from=requirement.shared_from,
        submitted=False,
        deliveries=[],
        document_ref=None,
        sha256=None,
    )
