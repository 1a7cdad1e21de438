"""Read queries over the read model and the audit log that more than one reader shares: the
supervisor's escalations and overdue work (the API's /supervision and the web board), and the
materials of a case as its record and the departments' systems hold them.

Like the rest of the store, nothing here commits: sessions belong to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from approval.contracts import DepartmentMessage
from approval.domain.events import ApplicationReceived, Document, SupplementReceived
from approval.domain.models import SubmittedMaterial
from approval.domain.state import OPEN_TASK_STATES
from approval.store.audit_log import events_of, typed
from approval.store.database import FRESH
from approval.store.department_messages import department_messages_of
from approval.store.schema import (
    CaseEventRow,
    CaseRow,
    DepartmentMessageRow,
    FollowUpRow,
    ReviewTaskRow,
)

OPEN_STATES = sorted(s.value for s in OPEN_TASK_STATES)
MATERIAL_EVENTS = (ApplicationReceived.kind(), SupplementReceived.kind())
"""The events that bring materials to a case: the submission and each supplement (补正)."""
DELIVERY_OVERDUE = "DeliveryOverdue"

TaskPage = tuple[int, list[tuple[ReviewTaskRow, CaseRow]]]


# ---- supervision ------------------------------------------------------------------------------


def escalated_open_tasks(session: Session, *, limit: int, offset: int) -> TaskPage:
    """Tasks escalated to the supervisor because their period passed where silent consent is
    excluded (R9), still open, with their cases, earliest deadline first: ``(total, page)``."""
    where = and_(ReviewTaskRow.escalated.is_(True), ReviewTaskRow.state.in_(OPEN_STATES))
    return _task_page(session, where, _earliest_deadline_first(), limit=limit, offset=offset)


def flagged_tasks(session: Session, *, limit: int, offset: int) -> TaskPage:
    """The overdue or escalated review tasks with their cases, by case: ``(total, page)``."""
    where = or_(ReviewTaskRow.overdue.is_(True), ReviewTaskRow.escalated.is_(True))
    order = (ReviewTaskRow.case_no, ReviewTaskRow.department)
    return _task_page(session, where, order, limit=limit, offset=offset)


def _task_page(
    session: Session, where: Any, order: tuple[Any, ...], *, limit: int, offset: int
) -> TaskPage:
    """A page of the review tasks matching ``where`` with their cases, and their total."""
    total = session.scalar(select(func.count()).select_from(ReviewTaskRow).where(where)) or 0
    stmt = (
        select(ReviewTaskRow, CaseRow)
        .join(CaseRow, CaseRow.case_no == ReviewTaskRow.case_no)
        .where(where)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(stmt.execution_options(**FRESH)).all()
    return total, [(task, case) for task, case in rows]


def _earliest_deadline_first() -> tuple[Any, ...]:
    return (
        ReviewTaskRow.due_at.is_(None),
        ReviewTaskRow.due_at,
        ReviewTaskRow.case_no,
        ReviewTaskRow.department,
    )


@dataclass
class OverdueCase:
    """A case with something overdue: its own period (R13), its delivery (R16), or the review
    tasks of departments that let their periods pass (R9)."""

    case: CaseRow
    case_overdue: bool
    delivery_overdue: bool
    tasks: list[ReviewTaskRow] = field(default_factory=list)


def _delivery_overdue(case_no: Any) -> ColumnElement[bool]:
    return exists().where(CaseEventRow.case_no == case_no, CaseEventRow.type == DELIVERY_OVERDUE)


def _task_overdue(case_no: Any) -> ColumnElement[bool]:
    return exists().where(ReviewTaskRow.case_no == case_no, ReviewTaskRow.overdue.is_(True))


def overdue_cases(session: Session, *, limit: int, offset: int) -> tuple[int, list[OverdueCase]]:
    """Cases with an overdue case period, delivery or review task, oldest received first:
    ``(total, page)``; each with its overdue tasks, by department."""
    where = or_(
        CaseRow.overdue.is_(True),
        _delivery_overdue(CaseRow.case_no),
        _task_overdue(CaseRow.case_no),
    )
    total = session.scalar(select(func.count()).select_from(CaseRow).where(where)) or 0
    stmt = (
        select(CaseRow, _delivery_overdue(CaseRow.case_no))
        .where(where)
        .order_by(CaseRow.received_at, CaseRow.case_no)
        .limit(limit)
        .offset(offset)
    )
    page = [
        OverdueCase(case=case, case_overdue=case.overdue, delivery_overdue=bool(late))
        for case, late in session.execute(stmt.execution_options(**FRESH)).all()
    ]
    by_case = {item.case.case_no: item for item in page}
    tasks = select(ReviewTaskRow).where(
        and_(ReviewTaskRow.case_no.in_(list(by_case)), ReviewTaskRow.overdue.is_(True))
    )
    for task in session.scalars(
        tasks.order_by(ReviewTaskRow.department).execution_options(**FRESH)
    ):
        by_case[task.case_no].tasks.append(task)
    return total, page


# ---- materials --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialDelivery:
    """One event that brought a material to the case: the submission or a supplement."""

    seq: int
    type: str
    at: datetime
    actor_id: str


@dataclass
class CaseMaterial:
    """A material of the case: every event that brought it, and the latest document
    (reference and SHA-256) it brought."""

    code: str
    deliveries: list[MaterialDelivery] = field(default_factory=list)
    document_ref: str | None = None
    sha256: str | None = None


@dataclass
class CaseMaterials:
    """What the record says of a case's materials."""

    matter_code: str | None
    materials: list[CaseMaterial]

    def submitted(self) -> tuple[SubmittedMaterial, ...]:
        """Every material with its latest document, by code (one without a document is left
        out)."""
        return tuple(
            SubmittedMaterial(code=m.code, document_ref=m.document_ref, sha256=m.sha256)
            for m in self.materials
            if m.document_ref is not None and m.sha256 is not None
        )

    def last_delivery_seq(self) -> int:
        """The seq of the latest event that brought a material (0 if none did)."""
        return max((d.seq for m in self.materials for d in m.deliveries), default=0)


def case_materials(session: Session, case_no: str, up_to_seq: int | None = None) -> CaseMaterials:
    """The materials of a case, by code, from its audit log (up to ``up_to_seq``, if given):
    which event brought each and the document it brought (reference and SHA-256). Cases
    recorded before the events named their documents take them from the department messages
    (what the departments received)."""
    matter_code: str | None = None
    found: dict[str, CaseMaterial] = {}
    rows = events_of(session, case_no, types=MATERIAL_EVENTS, up_to_seq=up_to_seq)
    events = [
        e for e in map(typed, rows) if isinstance(e, ApplicationReceived | SupplementReceived)
    ]
    if not all("documents" in event.model_fields_set for event in events):
        messages = department_messages_of(session, case_no=case_no)
        _take_documents(found, {m.code: m for m in _documents_received(messages)})
    for event in events:
        if isinstance(event, ApplicationReceived):
            matter_code = event.matter_code
        delivery = MaterialDelivery(event.seq, event.type, event.at, event.actor.id)
        for code in event.materials:
            found.setdefault(code, CaseMaterial(code)).deliveries.append(delivery)
        _take_documents(found, event.documents)
    return CaseMaterials(matter_code, sorted(found.values(), key=lambda m: m.code))


def materials_as_of(session: Session, case_no: str, seq: int) -> tuple[SubmittedMaterial, ...]:
    """Every material of the case with its latest document as of event ``seq``, by code: what
    a department is sent with its task (R7)."""
    return case_materials(session, case_no, seq).submitted()


def _take_documents(
    found: dict[str, CaseMaterial], documents: Mapping[str, Document | SubmittedMaterial]
) -> None:
    """Note each code's document (a later one replaces an earlier one)."""
    for code, document in documents.items():
        material = found.setdefault(code, CaseMaterial(code))
        material.document_ref, material.sha256 = document.document_ref, document.sha256


def _documents_received(messages: Sequence[DepartmentMessageRow]) -> list[SubmittedMaterial]:
    """The materials in the messages, oldest first, so that a later one overrides."""
    return [
        material
        for message in messages
        for material in DepartmentMessage.model_validate(message.payload).materials
    ]


# ---- the desks: a case's rows, a department's inbox --------------------------------------


def case_row(session: Session, case_no: str) -> CaseRow | None:
    """The read-model row of a case, or None if it was never recorded."""
    stmt = select(CaseRow).where(CaseRow.case_no == case_no)
    return session.scalars(stmt.execution_options(**FRESH)).one_or_none()


def task_rows(session: Session, case_no: str) -> list[ReviewTaskRow]:
    """The review tasks of a case, by department code."""
    stmt = (
        select(ReviewTaskRow)
        .where(ReviewTaskRow.case_no == case_no)
        .order_by(ReviewTaskRow.department)
    )
    return list(session.scalars(stmt.execution_options(**FRESH)))


def has_task(session: Session, case_no: str, department: str) -> bool:
    """Whether ``department`` has a review task on the case (any state)."""
    stmt = select(ReviewTaskRow.case_no).where(
        ReviewTaskRow.case_no == case_no, ReviewTaskRow.department == department
    )
    return session.scalars(stmt.execution_options(**FRESH)).first() is not None


def department_inbox(
    session: Session, department: str, states: Sequence[str], *, limit: int, offset: int
) -> tuple[int, list[tuple[ReviewTaskRow, CaseRow]]]:
    """A department's review tasks in ``states`` on accepted cases, with their cases, earliest
    deadline first: ``(total, page)``. A case the window has not accepted (yet) has no task
    to work on: its departments see it once it is accepted (R7); its tasks are left out through
    the small index of cases not accepted (ix_cases_not_accepted). The page's case numbers are
    chosen from the inbox index, then joined to their rows (bench/README.md, Inbox query)."""
    where = (
        ReviewTaskRow.department == department,
        ReviewTaskRow.state.in_(list(states)),
        ReviewTaskRow.case_no.not_in(select(CaseRow.case_no).where(CaseRow.accepted_at.is_(None))),
    )
    total = session.scalar(select(func.count()).select_from(ReviewTaskRow).where(*where)) or 0
    deadline_order = (ReviewTaskRow.due_at.is_(None), ReviewTaskRow.due_at, ReviewTaskRow.case_no)
    page = (
        select(ReviewTaskRow.case_no)
        .where(*where)
        .order_by(*deadline_order)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    stmt = (
        select(ReviewTaskRow, CaseRow)
        .join(page, page.c.case_no == ReviewTaskRow.case_no)
        .join(CaseRow, CaseRow.case_no == ReviewTaskRow.case_no)
        .where(ReviewTaskRow.department == department)
        .order_by(*deadline_order)
    )
    rows = session.execute(stmt.execution_options(**FRESH)).all()
    return total, [(task, case) for task, case in rows]


def follow_ups_of(
    session: Session, party: str | None, *, open_only: bool, limit: int, offset: int
) -> tuple[int, list[tuple[FollowUpRow, CaseRow]]]:
    """The follow-ups addressed to ``party`` (every party's when None), open ones only when
    ``open_only``, earliest deadline first, with their cases: ``(total, page)``."""
    where = [FollowUpRow.party == party] if party is not None else []
    if open_only:
        where.append(FollowUpRow.answered_at.is_(None))
    total = session.scalar(select(func.count()).select_from(FollowUpRow).where(*where)) or 0
    stmt = (
        select(FollowUpRow, CaseRow)
        .join(CaseRow, CaseRow.case_no == FollowUpRow.case_no)
        .where(*where)
        .order_by(FollowUpRow.due_at, FollowUpRow.follow_up_no)
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(stmt.execution_options(**FRESH)).all()
    return total, [(follow_up, case) for follow_up, case in rows]
