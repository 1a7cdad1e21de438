"""The people who act through the HTTP API and their bearer tokens (R22); only a token's
keyed hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from approval.config import get_settings
from approval.store.schema import (
    ApiTokenRow,
    UserRow,
)

log = structlog.get_logger(__name__)


TOKEN_BYTES = 32


def hash_token(token: str, key: bytes | None = None) -> str:
    """The stored form of a bearer token: HMAC-SHA256 under the server's token key (``key``,
    by default this process's: Settings.token_key_bytes), hex. A copy of the store alone does
    not let anyone test a guessed token, nor a row written into it make one."""
    secret = get_settings().token_key_bytes if key is None else key
    return hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()


def legacy_token_hash(token: str) -> str:
    """The form tokens were stored in before they were keyed: the bare SHA-256, hex. Such a
    row still authenticates, once, and is then re-stored keyed (user_by_token)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session, *, name: str, role: str, department: str | None, active: bool = True
) -> UserRow:
    """Add a user; ValueError when the name is taken."""
    if session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none() is not None:
        raise ValueError(f"name: user {name!r} exists already")
    user = UserRow(name=name, role=role, department=department, active=active)
    session.add(user)
    session.flush()
    return user


def user_by_name(session: Session, name: str) -> UserRow | None:
    """The user called ``name``, if any."""
    return session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()


def issue_token(session: Session, user_id: int, now: datetime, *, key: bytes | None = None) -> str:
    """A new bearer token for the user. Only its keyed hash is stored (hash_token): the token
    returned here is the only copy."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(ApiTokenRow(token_hash=hash_token(token, key), user_id=user_id, created_at=now))
    session.flush()
    return token


def create_users_with_tokens(
    session: Session, accounts: Iterable[tuple[str, str, str | None]], now: datetime
) -> dict[str, str]:
    """Create each ``(name, role, department)`` user with a new bearer token: name → token."""
    return {
        name: issue_token(
            session, create_user(session, name=name, role=role, department=department).id, now
        )
        for name, role, department in accounts
    }


def user_by_token(session: Session, token: str, *, key: bytes | None = None) -> UserRow | None:
    """The active user a bearer token belongs to, or None. A token stored in the legacy form
    (bare SHA-256) authenticates too, and its row is re-stored in the keyed form at once, so
    that no existing user is locked out by the change and the legacy form does not last."""
    keyed, legacy = hash_token(token, key), legacy_token_hash(token)
    stmt = (
        select(UserRow, ApiTokenRow.token_hash)
        .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
        .where(ApiTokenRow.token_hash.in_((keyed, legacy)), UserRow.active.is_(True))
    )
    found = session.execute(stmt).one_or_none()
    if found is None:
        return None
    user, stored = found
    if stored == legacy:
        _upgrade_token_hash(session, legacy, keyed)
    return user


def _upgrade_token_hash(session: Session, legacy: str, keyed: str) -> None:
    """Re-store a legacy token hash in the keyed form, in a short transaction of its own: the
    caller's session is often a reader that never commits. (The one writer here that commits.)
    A failure leaves the legacy row, upgraded at the next use."""
    try:
        with Session(session.get_bind()) as writer, writer.begin():
            writer.execute(
                update(ApiTokenRow).where(ApiTokenRow.token_hash == legacy).values(token_hash=keyed)
            )
    except SQLAlchemyError as error:
        log.warning("token.upgrade_failed", error=str(error))
    else:
        log.info("token.upgraded")
