"""The window's case list: the cases of the read model found by what a clerk knows of one —
part of its number, the applicant's name, the matter, its stage, the day it was received, the
clerk who received it (首问负责人) — newest first, a page at a time.

Like the rest of the store, nothing here commits: sessions belong to the caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from approval.domain.calendar import SHANGHAI
from approval.store.database import FRESH
from approval.store.schema import CaseRow


@dataclass(frozen=True)
class CaseSearch:
    """What to look for; every criterion left empty matches every case."""

    text: str = ""
    """Part of the case number or of the applicant's name."""
    matter_code: str = ""
    stage: str = ""
    received_from: date | None = None
    """The first day (Beijing time) of receipt."""
    received_to: date | None = None
    """The last day (Beijing time) of receipt, included."""
    clerk_id: str = ""
    """Only the cases this clerk received (首问负责人)."""


def _start_of(day: date) -> datetime:
    """The first moment of ``day`` in Beijing time."""
    return datetime.combine(day, time.min, SHANGHAI)


def _contains(column: ColumnElement[str] | object, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text`` literally (``%`` and ``_`` in it match only themselves)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped.lower()}%", escape="\\")


def _criteria(search: CaseSearch) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a search."""
    where: list[ColumnElement[bool]] = []
    if search.text:
        text = search.text
        where.append(_contains(CaseRow.case_no, text) | _contains(CaseRow.applicant_name, text))
    if search.matter_code:
        where.append(CaseRow.matter_code == search.matter_code)
    if search.stage:
        where.append(CaseRow.stage == search.stage)
    if search.received_from:
        where.append(CaseRow.received_at >= _start_of(search.received_from))
    if search.received_to:
        where.append(CaseRow.received_at < _start_of(search.received_to + timedelta(days=1)))
    if search.clerk_id:
        where.append(CaseRow.clerk_id == search.clerk_id)
    return where


def search_cases(
    session: Session, search: CaseSearch, *, limit: int, offset: int
) -> tuple[int, list[CaseRow]]:
    """The cases found, newest receipt first: ``(total, page)``."""
    where = _criteria(search)
    total = session.scalar(select(func.count()).select_from(CaseRow).where(*where)) or 0
    stmt = (
        select(CaseRow)
        .where(*where)
        .order_by(CaseRow.received_at.desc(), CaseRow.case_no.desc())
        .limit(limit)
        .offset(offset)
    )
    return total, list(session.scalars(stmt.execution_options(**FRESH)))
