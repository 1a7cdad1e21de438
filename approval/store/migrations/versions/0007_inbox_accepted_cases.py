"""Index of the cases not yet accepted

A department's inbox lists only the tasks of accepted cases (R7). The cases the window has not
accepted (yet) are few, so the inbox leaves out their tasks by probing a partial index that
holds only them, instead of reading every case to find the accepted ones (bench/inbox_query.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_ACCEPTED = sa.text("accepted_at IS NULL")


def upgrade() -> None:
    """Create the partial index of the cases without an acceptance."""
    op.create_index(
        "ix_cases_not_accepted",
        "cases",
        ["case_no"],
        unique=False,
        sqlite_where=NOT_ACCEPTED,
        postgresql_where=NOT_ACCEPTED,
    )


def downgrade() -> None:
    """Drop the partial index."""
    op.drop_index("ix_cases_not_accepted", table_name="cases")
