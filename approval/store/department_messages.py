"""What the departments' systems received: one row per department, case, kind and round
(R7, R23)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from approval.contracts import DepartmentMessageKind
from approval.store.database import FRESH, insert_ignoring_duplicates
from approval.store.schema import DepartmentMessageRow


def record_department_message(
    session: Session,
    *,
    department: str,
    case_no: str,
    kind: str,
    round: int,
    received_at: datetime,
    payload: dict[str, Any],
) -> bool:
    """Record what a department's system received; True when it was new, False for a
    repeat of the same department, case, kind (task, supplement, cancel) and round (R23)."""
    row = {
        "department": department,
        "case_no": case_no,
        "kind": DepartmentMessageKind(kind).value,
        "round": round,
        "received_at": received_at,
        "payload": payload,
    }
    return insert_ignoring_duplicates(session, DepartmentMessageRow, [row]) == 1


def department_messages_of(
    session: Session, *, department: str | None = None, case_no: str | None = None
) -> list[DepartmentMessageRow]:
    """The messages departments received, oldest first, optionally for one department
    and/or one case."""
    stmt = select(DepartmentMessageRow).order_by(DepartmentMessageRow.id)
    if department is not None:
        stmt = stmt.where(DepartmentMessageRow.department == department)
    if case_no is not None:
        stmt = stmt.where(DepartmentMessageRow.case_no == case_no)
    return list(session.scalars(stmt.execution_options(**FRESH)))
