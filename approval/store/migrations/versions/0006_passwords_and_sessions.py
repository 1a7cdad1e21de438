"""Passwords and console sessions

People sign in to the console with their user name and password (an argon2id hash in
users.password_hash); each sign-in is a token of its own that expires (api_tokens.expires_at).
Rows written before it have neither: their users sign in with tokens, which never expire.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add users.password_hash and api_tokens.expires_at (both nullable)."""
    op.add_column("users", sa.Column("password_hash", sa.String(255), nullable=True))
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop both columns."""
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_hash")
