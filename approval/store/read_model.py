"""The read model (tables ``cases`` and ``review_tasks``): written from each step's events by
their projection (approval.domain.projection), or, for a step recorded before steps carried
their events only, from the status it carried. Rows only move forward: a late retry of an
older step cannot roll them back (R23).

Like the rest of the store, nothing here commits: sessions belong to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from approval.domain.events import (
    ApplicationReceived,
    CaseEvent,
    ClockWarned,
    FollowUpAnswered,
    FollowUpOpened,
    RedMarkRecorded,
)
from approval.domain.projection import CaseView, received
from approval.domain.status import CaseStatus, TaskStatus
from approval.store.database import insert_ignoring_duplicates, upsert_if_newer
from approval.store.schema import CaseRow, FollowUpRow, ReviewTaskRow, SupervisionMarkRow

CASE_COLUMNS = tuple(c.name for c in CaseRow.__table__.columns)
TASK_COLUMNS = tuple(
    c.name for c in ReviewTaskRow.__table__.columns if c.name not in ("case_no", "last_seq")
)


CASE_ROW = select(CaseRow.__table__).where(CaseRow.case_no == bindparam("case_no"))
TASK_ROWS = select(ReviewTaskRow.__table__).where(ReviewTaskRow.case_no == bindparam("case_no"))
FOLLOW_UP_ROWS = select(FollowUpRow.__table__).where(FollowUpRow.case_no == bindparam("case_no"))
"""A case's rows (built once: every step reads them)."""
FOLLOW_UP_COLUMNS = tuple(
    c.name for c in FollowUpRow.__table__.columns if c.name not in ("case_no", "last_seq")
)
FOLLOW_UP_EVENTS = (FollowUpOpened, FollowUpAnswered, ClockWarned, RedMarkRecorded)
"""The events that change a follow-up's row."""


def project_step(
    session: Session, case_no: str, events: Sequence[CaseEvent], view: CaseView | None = None
) -> CaseView | None:
    """Fold a step's events into the case's rows (created by its receipt), from ``view`` when
    the caller holds the rows as stored before the step (it is changed), else from the stored
    rows. Returns the view written, or None for a record without a receipt (refused at
    intake), which has no read model."""
    if view is None:
        view = stored_view(session, case_no)
    if view is None:
        first = events[0] if events else None
        if not isinstance(first, ApplicationReceived):
            return None
        view = received(case_no, first)
    view.apply(events)
    write_view(session, view, follow_ups=any(isinstance(e, FOLLOW_UP_EVENTS) for e in events))
    write_marks(session, case_no, events)
    return view


def stored_view(session: Session, case_no: str) -> CaseView | None:
    """The case's rows as a view, or None before its receipt is recorded."""
    connection, key = session.connection(), {"case_no": case_no}
    case = connection.execute(CASE_ROW, key).mappings().first()
    if case is None:
        return None
    task_rows = connection.execute(TASK_ROWS, key).mappings()
    follow_ups = connection.execute(FOLLOW_UP_ROWS, key).mappings()
    return CaseView.model_validate(
        {
            **case,
            "tasks": {t["department"]: dict(t) for t in task_rows},
            "follow_ups": {f["follow_up_no"]: dict(f) for f in follow_ups},
        }
    )


def write_view(session: Session, view: CaseView, *, follow_ups: bool = True) -> None:
    """Store the view's rows, unless newer ones are stored already; its follow-ups' rows
    only when ``follow_ups`` (a step that changed none leaves them)."""
    case_row, task_rows = view_rows(view)
    upsert_if_newer(session, CaseRow, [case_row], keys=("case_no",))
    upsert_if_newer(session, ReviewTaskRow, task_rows, keys=("case_no", "department"))
    rows = follow_up_rows(view) if follow_ups else []
    if rows:
        upsert_if_newer(session, FollowUpRow, rows, keys=("follow_up_no",))


def follow_up_rows(view: CaseView) -> list[dict[str, Any]]:
    """The ``follow_ups`` rows of a view."""
    return [
        {
            **{name: getattr(follow_up, name) for name in FOLLOW_UP_COLUMNS},
            "case_no": view.case_no,
            "last_seq": view.last_seq,
        }
        for follow_up in view.follow_ups.values()
    ]


def write_marks(session: Session, case_no: str, events: Sequence[CaseEvent]) -> None:
    """One ``supervision_marks`` row per reminder and red mark of the step (a retry writes
    none twice)."""
    rows = [
        {
            "case_no": case_no,
            "seq": e.seq,
            "colour": "yellow" if isinstance(e, ClockWarned) else "red",
            "clock": e.clock.value,
            "party": e.party,
            "follow_up_no": e.follow_up_no,
            "last_day": e.last_day,
            "marked_at": e.at,
        }
        for e in events
        if isinstance(e, ClockWarned | RedMarkRecorded)
    ]
    if rows:
        insert_ignoring_duplicates(session, SupervisionMarkRow, rows)


def view_rows(view: CaseView) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``cases`` row and the ``review_tasks`` rows of a view."""
    case_row = {name: getattr(view, name) for name in CASE_COLUMNS}
    case_row["stage"] = view.stage.value
    task_rows = [
        {
            **{name: getattr(task, name) for name in TASK_COLUMNS},
            "state": task.state.value,
            "case_no": view.case_no,
            "last_seq": view.last_seq,
        }
        for task in view.tasks.values()
    ]
    return case_row, task_rows


# ---- steps recorded with the status they carried (before events alone) -----------------------


def write_status(session: Session, status: CaseStatus, last_seq: int) -> None:
    """The rows as a carried status states them."""
    upsert_if_newer(session, CaseRow, [status_case_row(status, last_seq)], keys=("case_no",))
    tasks = [status_task_row(status.case_no, t, last_seq) for t in status.tasks]
    upsert_if_newer(session, ReviewTaskRow, tasks, keys=("case_no", "department"))


def status_case_row(status: CaseStatus, last_seq: int) -> dict[str, Any]:
    """The ``cases`` row a status states."""
    decision, clock = status.decision, status.case_clock
    return {
        "case_no": status.case_no,
        "matter_code": status.matter_code,
        "matter_name": status.matter_name,
        "applicant_name": status.applicant_name,
        "catalogue_version": status.catalogue_version,
        "stage": status.stage.value,
        "received_at": status.received_at,
        "accepted_at": status.accepted_at,
        "decided_at": decision.decided_at if decision else None,
        "approved": decision.approved if decision else None,
        "case_last_day": clock.last_day if clock else None,
        "provisional": status.provisional,
        "overdue": status.case_overdue,
        "last_seq": last_seq,
        "updated_at": status.as_of,
    }


def status_task_row(case_no: str, task: TaskStatus, last_seq: int) -> dict[str, Any]:
    """The ``review_tasks`` row a status states; the deadline is that of its running clock."""
    clock = task.clock
    return {
        "case_no": case_no,
        "department": task.department,
        "name": task.name,
        "state": task.state.value,
        "round": task.round,
        "due_at": clock.due if clock else None,
        "last_day": clock.last_day if clock else None,
        "provisional": bool(clock and clock.provisional),
        "period_wd": clock.period_wd if clock else None,
        "overdue": task.overdue,
        "escalated": task.escalated,
        "decided_by": task.decided_by,
        "decided_at": task.decided_at,
        "last_seq": last_seq,
    }
