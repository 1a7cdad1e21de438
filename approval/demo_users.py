"""The demo users the main job creates, one per role and one reviewer per department of the
catalogue, each with a fresh API token and a fresh console password (R22)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from approval.domain.catalogue import Catalogue
from approval.domain.models import Role
from approval.store.users import create_user, issue_token, set_password, user_by_name

DEMO_PASSWORD_BYTES = 9
"""A demo password's random bytes: 12 URL-safe characters."""


@dataclass(frozen=True)
class DemoUser:
    """A demo user, the token issued to it now and its new console password."""

    name: str
    role: Role
    department: str | None
    token: str
    password: str


def demo_accounts(catalogue: Catalogue) -> list[tuple[str, Role, str | None]]:
    """(name, role, department) of every demo user."""
    departments = sorted({r.department for m in catalogue.matters for r in m.reviews})
    fixed = [
        ("clerk-01", Role.CLERK, None),
        ("supervisor-01", Role.SUPERVISOR, None),
        ("auditor-01", Role.AUDITOR, None),
    ]
    return fixed + [(f"reviewer-{d}", Role.REVIEWER, d) for d in departments]


def ensure_demo_users(
    sessions: sessionmaker[Session], catalogue: Catalogue, now: datetime
) -> list[DemoUser]:
    """Create the demo users that are missing and give each a new token and password."""
    issued = []
    with sessions.begin() as session:
        for name, role, department in demo_accounts(catalogue):
            user = user_by_name(session, name) or create_user(
                session, name=name, role=role.value, department=department
            )
            password = secrets.token_urlsafe(DEMO_PASSWORD_BYTES)
            set_password(session, user, password)
            token = issue_token(session, user.id, now)
            issued.append(DemoUser(name, role, department, token, password))
    return issued
