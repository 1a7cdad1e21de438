"""Initial schema

The store as the models declared it when migrations began: case numbers (submissions), the
read model (cases, review_tasks), the hash-chained audit log (case_events, notices) and what
the departments received (department_messages).

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the lengths in approval.store.schema: a revision never changes later.
CODE = 40
CASE_NO = 32
NAME = 200
STATE = 40


def _timestamp() -> sa.DateTime:
    """UTCDateTime's column type: a timestamp with time zone."""
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the six tables with their keys, unique constraints and indexes."""
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("case_no", sa.String(CASE_NO), nullable=False),
        sa.Column("matter_code", sa.String(CODE), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("case_no"),
    )
    op.create_table(
        "cases",
        sa.Column("case_no", sa.String(CASE_NO), nullable=False),
        sa.Column("matter_code", sa.String(CODE), nullable=False),
        sa.Column("matter_name", sa.String(NAME), nullable=False),
        sa.Column("applicant_name", sa.String(NAME), nullable=False),
        sa.Column("catalogue_version", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(STATE), nullable=False),
        sa.Column("received_at", _timestamp(), nullable=False),
        sa.Column("accepted_at", _timestamp(), nullable=True),
        sa.Column("decided_at", _timestamp(), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=True),
        sa.Column("case_last_day", sa.Date(), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("case_no"),
    )
    op.create_table(
        "review_tasks",
        sa.Column("case_no", sa.String(CASE_NO), nullable=False),
        sa.Column("department", sa.String(CODE), nullable=False),
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("state", sa.String(STATE), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("due_at", _timestamp(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", _timestamp(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_no"], ["cases.case_no"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_no", "department"),
    )
    op.create_index(
        "ix_review_tasks_department_state", "review_tasks", ["department", "state"], unique=False
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_no", sa.String(CASE_NO), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("occurred_at", _timestamp(), nullable=False),
        sa.Column("actor_role", sa.String(STATE), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_department", sa.String(CODE), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_no", "seq", name="uq_case_events_case_no_seq"),
    )
    op.create_table(
        "notices",
        sa.Column("notice_no", sa.String(64), nullable=False),
        sa.Column("case_no", sa.String(CASE_NO), nullable=False),
        sa.Column("kind", sa.String(STATE), nullable=False),
        sa.Column("title", sa.String(NAME), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("issued_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("notice_no"),
    )
    op.create_index("ix_notices_case_no", "notices", ["case_no"], unique=False)
    op.create_table(
        "department_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("department", sa.String(CODE), nullable=False),
        sa.Column("case_no", sa.String(CASE_NO), nullable=False),
        sa.Column("kind", sa.String(STATE), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("received_at", _timestamp(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "department", "case_no", "kind", "round", name="uq_department_messages_delivery"
        ),
    )


def downgrade() -> None:
    """Drop the six tables (the ones that others reference last)."""
    op.drop_table("department_messages")
    op.drop_index("ix_notices_case_no", table_name="notices")
    op.drop_table("notices")
    op.drop_table("case_events")
    op.drop_index("ix_review_tasks_department_state", table_name="review_tasks")
    op.drop_table("review_tasks")
    op.drop_table("cases")
    op.drop_table("submissions")
