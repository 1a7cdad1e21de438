"""The people who act through the HTTP API and the console, their bearer tokens and their
passwords (R22). Only a token's keyed hash is stored, and a password's argon2id hash. A console
sign-in is a token of its own that expires; a system's token lasts until it is revoked."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from approval.config import get_settings
from approval.store.schema import (
    ApiTokenRow,
    UserRow,
)

log = structlog.get_logger(__name__)


TOKEN_BYTES = 32
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
_PASSWORDS = PasswordHasher()
"""argon2id with the library's recommended parameters (RFC 9106's second choice)."""


@cache
def _nobodys_hash() -> str:
    """Verified against when the name is unknown, so that a wrong name costs as long as a wrong
    password and the answer's time does not tell which names exist."""
    return _PASSWORDS.hash(secrets.token_urlsafe(16))


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be a console password (Chinese), or None when it may."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"密码至少 {PASSWORD_MIN_LENGTH} 个字符"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"密码至多 {PASSWORD_MAX_LENGTH} 个字符"
    if password.strip() != password:
        return "密码的首尾不能是空格"
    return None


def set_password(session: Session, user: UserRow, password: str) -> None:
    """Give the user a new console password (only its argon2id hash is kept); ValueError with
    the reason when the password is not acceptable (password_problem)."""
    problem = password_problem(password)
    if problem:
        raise ValueError(f"password: {problem}")
    user.password_hash = _PASSWORDS.hash(password)
    session.flush()


def user_by_password(session: Session, name: str, password: str) -> UserRow | None:
    """The active user called ``name`` when ``password`` is theirs, else None. A hash made with
    older parameters is made again with the current ones."""
    user = user_by_name(session, name)
    stored = user.password_hash if user is not None and user.active else None
    try:
        _PASSWORDS.verify(stored or _nobodys_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None:
        return None
    if _PASSWORDS.check_needs_rehash(stored):
        user.password_hash = _PASSWORDS.hash(password)
        session.flush()
    return user


def open_sign_in(session: Session, user_id: int, now: datetime, lifetime: timedelta) -> str:
    """A console sign-in: a new token of the user's that stops working ``lifetime`` from now."""
    return issue_token(session, user_id, now, expires_at=now + lifetime)


def close_sign_in(session: Session, token: str) -> None:
    """Sign out: the sign-in's token stops working. A system's token (no expiry) used in the
    console is left alone: signing out of a browser does not revoke a system's access."""
    session.execute(
        delete(ApiTokenRow).where(
            ApiTokenRow.token_hash == hash_token(token), ApiTokenRow.expires_at.is_not(None)
        )
    )


def close_other_sign_ins(session: Session, user_id: int, token: str) -> None:
    """Every console sign-in of the user but the one of ``token`` stops working (after a
    password change: whoever knew the old password is signed out)."""
    session.execute(
        delete(ApiTokenRow).where(
            ApiTokenRow.user_id == user_id,
            ApiTokenRow.expires_at.is_not(None),
            ApiTokenRow.token_hash != hash_token(token),
        )
    )


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
        raise ValueError(f"name: 用户 {name!r} 已存在")
    user = UserRow(name=name, role=role, department=department, active=active)
    session.add(user)
    session.flush()
    return user


def user_by_name(session: Session, name: str) -> UserRow | None:
    """The user called ``name``, if any."""
    return session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()


def issue_token(
    session: Session,
    user_id: int,
    now: datetime,
    *,
    key: bytes | None = None,
    expires_at: datetime | None = None,
) -> str:
    """A new bearer token for the user, lasting until ``expires_at`` (None: until revoked).
    Only its keyed hash is stored (hash_token): the token returned here is the only copy."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiTokenRow(
        token_hash=hash_token(token, key), user_id=user_id, created_at=now, expires_at=expires_at
    )
    session.add(row)
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


def user_by_token(
    session: Session, token: str, *, key: bytes | None = None, now: datetime | None = None
) -> UserRow | None:
    """The active user a bearer token belongs to, or None; an expired sign-in's token
    (``now``, by default the clock's, past its expiry) is None too. A token stored in the
    legacy form (bare SHA-256) authenticates too, and its row is re-stored in the keyed form at
    once, so that no existing user is locked out by the change and the legacy form does not
    last."""
    keyed, legacy = hash_token(token, key), legacy_token_hash(token)
    moment = now or datetime.now(UTC)
    stmt = (
        select(UserRow, ApiTokenRow.token_hash)
        .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
        .where(
            ApiTokenRow.token_hash.in_((keyed, legacy)),
            UserRow.active.is_(True),
            or_(ApiTokenRow.expires_at.is_(None), ApiTokenRow.expires_at > moment),
        )
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
