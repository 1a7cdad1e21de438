"""Inbox index

A department's open tasks in deadline order come from one index: (department, state, due_at,
case_no) holds every column the inbox filters and sorts on, so the first page can be chosen
from the index alone and only its rows fetched (bench/inbox_query.py). It replaces the index
on (department, state), which is its prefix.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the inbox index, then drop the index it makes redundant."""
    op.create_index(
        "ix_review_tasks_inbox",
        "review_tasks",
        ["department", "state", "due_at", "case_no"],
        unique=False,
    )
    op.drop_index("ix_review_tasks_department_state", table_name="review_tasks")


def downgrade() -> None:
    """Bring back the index on (department, state), then drop the inbox index."""
    op.create_index(
        "ix_review_tasks_department_state", "review_tasks", ["department", "state"], unique=False
    )
    op.drop_index("ix_review_tasks_inbox", table_name="review_tasks")
