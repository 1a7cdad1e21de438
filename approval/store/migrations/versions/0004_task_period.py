"""Task period

Each review task's period in working days, beside its deadline, so that the inbox shows the
same light as the case's status (R19: yellow once 80 % of the period is used) without asking
the workflow. Rows written before it have none; their light counts the days left alone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add review_tasks.period_wd (nullable)."""
    op.add_column("review_tasks", sa.Column("period_wd", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop review_tasks.period_wd."""
    with op.batch_alter_table("review_tasks") as batch:
        batch.drop_column("period_wd")
