"""A case's written notices as issued to the applicant (受理通知书、一次性告知书、不予受理通知书、
决定书 …), each as rendered, in the order they were issued. Read by the roles that read its
materials, under the same rules (R22): a reviewer only where its department has a task."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from approval.api.deps import CaseNo, case_reader
from approval.domain.models import Actor
from approval.domain.notices import NoticeKind
from approval.http.deps import SessionDep
from approval.http.refusals import REFUSALS
from approval.store.audit_log import notices_of

router = APIRouter(prefix="/cases", tags=["cases"], responses=REFUSALS)


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
    _actor: Annotated[Actor, Depends(case_reader("read_notices"))],
    session: SessionDep,
) -> list[NoticeOut]:
    """The notices issued on the case, in issue order; an empty list before the first."""
    return [NoticeOut.model_validate(row) for row in notices_of(session, case_no)]
