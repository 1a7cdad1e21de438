"""The tables of the store: the audit log (case_events, notices), the case numbers handed out
(submissions), the read model (cases, review_tasks) and what the departments received.

Every timestamp column is `UTCDateTime`: only timezone-aware datetimes may be written, they are
stored in UTC, and they are read back timezone-aware in UTC on every backend (SQLite keeps no
offset and would otherwise hand back naive datetimes).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

CODE = 40
"""Length of matter, department and region codes."""
CASE_NO = 32
NAME = 200
STATE = 40
NOT_ACCEPTED = text("accepted_at IS NULL")
"""A case the window has not accepted (yet): the condition of ix_cases_not_accepted."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored in UTC and read back aware in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; convert aware ones to UTC before they are stored."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{value!r}: only timezone-aware datetimes may be stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """A stored timestamp as an aware UTC datetime (SQLite returns it naive, in UTC)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """The declarative base of every table of the store."""


class SubmissionRow(Base):
    """A case number handed out for one submission, keyed by its idempotency key (R23)."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    case_no: Mapped[str] = mapped_column(String(CASE_NO), unique=True)
    matter_code: Mapped[str] = mapped_column(String(CODE))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseRow(Base):
    """Read model: one case as last recorded."""

    __tablename__ = "cases"
    __table_args__ = (
        # The few cases the window has not accepted (yet): the inbox leaves out their tasks by
        # probing this small index, not the whole table (department_inbox).
        Index(
            "ix_cases_not_accepted",
            "case_no",
            sqlite_where=NOT_ACCEPTED,
            postgresql_where=NOT_ACCEPTED,
        ),
    )

    case_no: Mapped[str] = mapped_column(String(CASE_NO), primary_key=True)
    matter_code: Mapped[str] = mapped_column(String(CODE))
    matter_name: Mapped[str] = mapped_column(String(NAME))
    applicant_name: Mapped[str] = mapped_column(String(NAME))
    catalogue_version: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(STATE))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    approved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    case_last_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    provisional: Mapped[bool] = mapped_column(Boolean)
    overdue: Mapped[bool] = mapped_column(Boolean)
    last_seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    clerk_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The clerk who received the application (首问负责)."""
    deemed_accepted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    intake_notices: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """One-time notices issued at the window (R3)."""
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rating: Mapped[str | None] = mapped_column(String(STATE), nullable=True)
    """The applicant's rating (R20), once given."""
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ReviewTaskRow(Base):
    """Read model: one department's review task on a case."""

    __tablename__ = "review_tasks"
    __table_args__ = (
        # A department's tasks in a state, earliest deadline first (the inbox): the page can be
        # chosen from the index alone.
        Index("ix_review_tasks_inbox", "department", "state", "due_at", "case_no"),
    )

    case_no: Mapped[str] = mapped_column(
        String(CASE_NO), ForeignKey("cases.case_no", ondelete="CASCADE"), primary_key=True
    )
    department: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    state: Mapped[str] = mapped_column(String(STATE))
    round: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    provisional: Mapped[bool] = mapped_column(Boolean)
    period_wd: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The running period's length in working days, for the light (R19)."""
    overdue: Mapped[bool] = mapped_column(Boolean)
    escalated: Mapped[bool] = mapped_column(Boolean)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the department first received the task (the efficiency figures' period)."""
    used_wd: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Working days of its period used when last answered (R19)."""
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the task turned yellow and its department was reminded (催办, R19)."""
    red_marked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    absent_at_meeting: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    supplement_requested: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class FollowUpRow(Base):
    """Read model: one follow-up of a bad rating or a complaint (R20)."""

    __tablename__ = "follow_ups"

    follow_up_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_no: Mapped[str] = mapped_column(
        String(CASE_NO), ForeignKey("cases.case_no", ondelete="CASCADE"), index=True
    )
    party: Mapped[str] = mapped_column(String(CODE))
    party_name: Mapped[str] = mapped_column(String(NAME))
    cause: Mapped[str] = mapped_column(String(STATE))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    period_wd: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)
    red_marked: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seq: Mapped[int] = mapped_column(Integer)


class SupervisionMarkRow(Base):
    """Read model: a yellow reminder or a red mark of a supervised clock (R19), by party."""

    __tablename__ = "supervision_marks"
    __table_args__ = (Index("ix_supervision_marks_party", "party", "marked_at"),)

    case_no: Mapped[str] = mapped_column(
        String(CASE_NO), ForeignKey("cases.case_no", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    colour: Mapped[str] = mapped_column(String(8))
    """``yellow`` (a reminder) or ``red`` (a red mark)."""
    clock: Mapped[str] = mapped_column(String(STATE))
    party: Mapped[str] = mapped_column(String(CODE))
    follow_up_no: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_day: Mapped[date] = mapped_column(Date)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseEventRow(Base):
    """Audit log: one event of a case, numbered per case from 1 and hash-chained (R21, R23)."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_no", "seq", name="uq_case_events_case_no_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_no: Mapped[str] = mapped_column(String(CASE_NO))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_role: Mapped[str] = mapped_column(String(STATE))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_department: Mapped[str | None] = mapped_column(String(CODE), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    """HMAC-SHA256 link to the previous event of the case (R21, approval.domain.audit)."""


class NoticeRow(Base):
    """Audit log: one written notice as rendered and handed to the applicant."""

    __tablename__ = "notices"

    notice_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(CASE_NO), index=True)
    kind: Mapped[str] = mapped_column(String(STATE))
    title: Mapped[str] = mapped_column(String(NAME))
    body: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DepartmentMessageRow(Base):
    """What the (stub) department system received: one message per department, case, kind
    and round."""

    __tablename__ = "department_messages"
    __table_args__ = (
        UniqueConstraint(
            "department", "case_no", "kind", "round", name="uq_department_messages_delivery"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    department: Mapped[str] = mapped_column(String(CODE))
    case_no: Mapped[str] = mapped_column(String(CASE_NO))
    kind: Mapped[str] = mapped_column(String(STATE))
    round: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class UserRow(Base):
    """A person who acts through the HTTP API (R22): one role, and a department for reviewers.
    ``name`` is the personal id that the case's record shows as the actor."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(STATE))
    department: Mapped[str | None] = mapped_column(String(CODE), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    """The console password's argon2id hash (repository.set_password); None: no password, the
    person signs in with a token only."""


class ApiTokenRow(Base):
    """A bearer token of a user; only its keyed hash is stored (HMAC-SHA256 under the server's
    token key, repository.hash_token), never the token, which is shown once. A row of the older
    bare SHA-256 form authenticates once and is then stored keyed (repository.user_by_token)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When a console sign-in's token stops working; None for a system's token, which lasts
    until it is revoked."""
