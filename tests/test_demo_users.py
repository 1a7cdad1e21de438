"""The main job's demo users: one per role and a reviewer per department, each with a token."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from approval.demo_users import ensure_demo_users
from approval.domain.catalogue import Catalogue
from approval.store.repository import user_by_token


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
