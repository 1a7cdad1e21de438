"""A case's materials: what the applicant submitted and supplemented, each with its name from
the catalogue, the events that brought it, and the document the departments received; and the
items obtained by data sharing (免提交, R2), marked. A reviewer reads only the cases its
department has a task on (R22); the clerk, the supervisor and the auditor read any."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from approval.api.deps import CaseNo, case_reader
from approval.domain.catalogue import Catalogue, MaterialRequirement
from approval.domain.errors import DomainError
from approval.domain.models import Actor
from approval.http.deps import ServiceDep, SessionDep
from approval.http.refusals import REFUSALS
from approval.store.queries import CaseMaterial, case_materials

router = APIRouter(prefix="/cases", tags=["cases"], responses=REFUSALS)


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


@router.get("/{case_no}/materials", response_model=MaterialsOut)
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
