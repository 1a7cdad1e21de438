"""The main job's demo users (one per role and a reviewer per department, each with a token),
and how every user's token is stored: keyed with the server's secret (R22)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from approval.config import get_settings
from approval.demo_users import ensure_demo_users
from approval.domain.catalogue import Catalogue
from approval.store.schema import ApiTokenRow
from approval.store.users import (
    create_user,
    hash_token,
    issue_token,
    legacy_token_hash,
    user_by_token,
)


def test_R22_demo_users_are_created_once_and_every_start_issues_working_tokens(
    sessions: sessionmaker[Session], catalogue: Catalogue
) -> None:
    """R22: a reviewer exists for every reviewing department of the catalogue and one user for
    each other role; a second start creates no duplicate and both starts' tokens identify
    the same users."""
    first = ensure_demo_users(sessions, catalogue, datetime.now(UTC))
    second = ensure_demo_users(sessions, catalogue, datetime.now(UTC))
    departments = {r.department for m in catalogue.matters for r in m.reviews}
    assert {u.department for u in first if u.role == "reviewer"} == departments
    assert {u.role.value for u in first} == {"clerk", "reviewer", "supervisor", "auditor"}
    assert [u.name for u in first] == [u.name for u in second]
    with sessions() as session:
        for old, new in zip(first, second, strict=True):
            user_old, user_new = (
                user_by_token(session, old.token),
                user_by_token(session, new.token),
            )
            assert user_old is not None and user_new is not None
            assert (user_old.id, user_old.department) == (user_new.id, new.department)


# ---- how every user's token is stored ------------------------------------------------------------


def _stored_hashes(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(ApiTokenRow.token_hash)))


def test_R22_a_token_is_stored_keyed_never_as_its_bare_sha256(
    sessions: sessionmaker[Session],
) -> None:
    """R22: only an HMAC of a token under the server's key is stored — not the token, not its
    bare SHA-256 (a copy of the store alone cannot test a guessed token) — and a token is
    known only under the key it was issued with."""
    with sessions.begin() as session:
        user = create_user(session, name="zj-01", role="reviewer", department="ZJJ")
        token = issue_token(session, user.id, datetime.now(UTC))
    key = get_settings().token_key_bytes
    expected = hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
    assert _stored_hashes(sessions) == [expected]
    assert hashlib.sha256(token.encode()).hexdigest() not in _stored_hashes(sessions)
    with sessions() as session:
        found = user_by_token(session, token)
        assert found is not None and found.name == "zj-01"
        assert user_by_token(session, token, key=b"another server's key") is None


def test_R22_a_legacy_sha256_token_still_authenticates_and_is_upgraded_on_first_use(
    sessions: sessionmaker[Session],
) -> None:
    """R22: a token stored before tokens were keyed (its bare SHA-256) is not locked out: its
    first use authenticates its user and re-stores it keyed, in a transaction of its own even
    though the caller's session only reads; the next use finds the keyed row."""
    token = "a-token-issued-before-keying"
    with sessions.begin() as session:
        user = create_user(session, name="cl-legacy", role="clerk", department=None)
        session.add(
            ApiTokenRow(
                token_hash=legacy_token_hash(token), user_id=user.id, created_at=datetime.now(UTC)
            )
        )
    with sessions() as session:
        first = user_by_token(session, token)
    assert first is not None and first.name == "cl-legacy"
    assert _stored_hashes(sessions) == [hash_token(token)]
    with sessions() as session:
        again = user_by_token(session, token)
    assert again is not None and again.id == first.id
