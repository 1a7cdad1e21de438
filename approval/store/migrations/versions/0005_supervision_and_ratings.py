"""Supervision and ratings

The read model's facts for the efficiency figures (R19, R20): who received each case, its
deemed acceptance, one-time notices, closing and rating; each task's first dispatch, working
days used, reminder, red mark, absence consent and supplement request; the follow-ups of bad
ratings and complaints; every reminder and red mark by party. Rows written before it have the
defaults (older cases record no reminders, red marks or ratings).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    """UTCDateTime's column type: a timestamp with time zone."""
    return sa.DateTime(timezone=True)


CASE_COLUMNS: tuple[sa.Column[object], ...] = (
    sa.Column("clerk_id", sa.String(64), nullable=True),
    sa.Column("deemed_accepted", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("intake_notices", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("closed_at", _timestamp(), nullable=True),
    sa.Column("rating", sa.String(40), nullable=True),
    sa.Column("rated_at", _timestamp(), nullable=True),
)
TASK_COLUMNS: tuple[sa.Column[object], ...] = (
    sa.Column("dispatched_at", _timestamp(), nullable=True),
    sa.Column("used_wd", sa.Integer(), nullable=True),
    sa.Column("reminded_at", _timestamp(), nullable=True),
    sa.Column("red_marked", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("absent_at_meeting", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("supplement_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
)


def upgrade() -> None:
    """Add the columns of cases and review_tasks; create follow_ups and supervision_marks."""
    for column in CASE_COLUMNS:
        op.add_column("cases", column)
    for column in TASK_COLUMNS:
        op.add_column("review_tasks", column)
    op.create_table(
        "follow_ups",
        sa.Column("follow_up_no", sa.String(40), primary_key=True),
        sa.Column(
            "case_no",
            sa.String(32),
            sa.ForeignKey("cases.case_no", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("party", sa.String(40), nullable=False),
        sa.Column("party_name", sa.String(200), nullable=False),
        sa.Column("cause", sa.String(40), nullable=False),
        sa.Column("opened_at", _timestamp(), nullable=False),
        sa.Column("due_at", _timestamp(), nullable=False),
        sa.Column("period_wd", sa.Integer(), nullable=False),
        sa.Column("answered_at", _timestamp(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.Column("red_marked", sa.Boolean(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
    )
    op.create_index("ix_follow_ups_case_no", "follow_ups", ["case_no"])
    op.create_table(
        "supervision_marks",
        sa.Column(
            "case_no",
            sa.String(32),
            sa.ForeignKey("cases.case_no", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("colour", sa.String(8), nullable=False),
        sa.Column("clock", sa.String(40), nullable=False),
        sa.Column("party", sa.String(40), nullable=False),
        sa.Column("follow_up_no", sa.String(40), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("marked_at", _timestamp(), nullable=False),
    )
    op.create_index("ix_supervision_marks_party", "supervision_marks", ["party", "marked_at"])


def downgrade() -> None:
    """Drop the tables and columns again."""
    op.drop_table("supervision_marks")
    op.drop_table("follow_ups")
    with op.batch_alter_table("review_tasks") as batch:
        for column in TASK_COLUMNS:
            batch.drop_column(column.name)
    with op.batch_alter_table("cases") as batch:
        for column in CASE_COLUMNS:
            batch.drop_column(column.name)
