"""Case numbers (办件编号): one per submission, keyed by its idempotency key (R23)."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from approval.store.database import insert_ignoring_duplicates
from approval.store.schema import (
    SubmissionRow,
)

NUMBERING_ATTEMPTS = 3
"""Tries to number a submission when a concurrent transaction takes the number first."""


REGION_CODE = re.compile(r"\d{6}")


MAX_DAILY_SEQ = 999_999


def allocate_case_number(
    session: Session,
    *,
    region_code: str,
    day: date,
    idempotency_key: str,
    matter_code: str,
    now: datetime,
) -> tuple[str, bool]:
    """The case number of the submission with ``idempotency_key``: ``(case_no, created)``.

    A key seen before gets its existing number and ``created=False`` (R23). A new key gets
    ``{region_code}-{day:%Y%m%d}-{seq:06d}``, seq being 1 + the submissions already numbered
    for that region and day. Raises ValueError for a region code that is not six digits or
    when the day's numbers are exhausted.
    """
    if not REGION_CODE.fullmatch(region_code):
        raise ValueError(f"region_code: {region_code!r} is not six digits")
    existing = _case_no_for_key(session, idempotency_key)
    if existing is not None:
        return existing, False
    prefix = f"{region_code}-{day:%Y%m%d}-"
    for _ in range(NUMBERING_ATTEMPTS):
        case_no = _next_case_no(session, prefix)
        row = {
            "idempotency_key": idempotency_key,
            "case_no": case_no,
            "matter_code": matter_code,
            "created_at": now,
        }
        if insert_ignoring_duplicates(session, SubmissionRow, [row]):
            return case_no, True
        existing = _case_no_for_key(session, idempotency_key)
        if existing is not None:  # a concurrent retry of the same submission won
            return existing, False
    raise RuntimeError(f"{prefix}: could not number the submission {idempotency_key!r}")


def _case_no_for_key(session: Session, idempotency_key: str) -> str | None:
    """The case number already given to ``idempotency_key``, if any."""
    stmt = select(SubmissionRow.case_no).where(SubmissionRow.idempotency_key == idempotency_key)
    return session.scalars(stmt).one_or_none()


def _next_case_no(session: Session, prefix: str) -> str:
    """The next free case number under ``prefix`` (region and day)."""
    stmt = (
        select(func.count())
        .select_from(SubmissionRow)
        .where(SubmissionRow.case_no.startswith(prefix, autoescape=True))
    )
    seq = session.scalars(stmt).one() + 1
    if seq > MAX_DAILY_SEQ:
        raise ValueError(f"{prefix}: no case numbers left for this region and day")
    return f"{prefix}{seq:06d}"


def case_known(session: Session, case_no: str) -> bool:
    """Whether ``case_no`` was ever handed out (accepted or not)."""
    stmt = select(SubmissionRow.case_no).where(SubmissionRow.case_no == case_no)
    return session.scalars(stmt).one_or_none() is not None
