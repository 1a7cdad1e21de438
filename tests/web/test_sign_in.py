"""Signing in to the console with a user name and password (R22): only the password's argon2id
hash is kept; a sign-in is a token of its own that expires and that signing out ends; a
password change ends the person's other sign-ins; a wrong name and a wrong password get the
same answer; tokens still sign systems in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from approval.store.schema import ApiTokenRow, UserRow
from approval.store.users import set_password, user_by_name, user_by_password, user_by_token
from approval.web.security import COOKIE
from tests.web.test_web import app, console_client, tokens

__all__ = ["app", "tokens"]

PASSWORD = "窗口-correct-horse-7"


def give_password(sessions: sessionmaker[Session], name: str, password: str = PASSWORD) -> None:
    """Set ``name``'s console password in the store."""
    with sessions.begin() as session:
        user = user_by_name(session, name)
        assert user is not None
        set_password(session, user, password)


async def signed_in(app: FastAPI, name: str, password: str = PASSWORD) -> httpx.AsyncClient:
    """A browser-like client signed in with ``name`` and ``password``."""
    client = await console_client(app)
    response = await client.post("/web/login", data={"name": name, "password": password})
    assert response.status_code == 303, response.text
    return client


async def test_R22_a_clerk_signs_in_with_a_password_and_only_its_hash_is_kept(
    app: FastAPI, sessions: sessionmaker[Session], tokens: dict[str, str]
) -> None:
    """R22: the clerk's user name and password lead to the clerk's desk; the store holds an
    argon2id hash, never the password; the cookie is a new expiring token, not the password
    nor the clerk's system token."""
    give_password(sessions, "clerk")
    client = await console_client(app)
    try:
        response = await client.post("/web/login", data={"name": "clerk", "password": PASSWORD})
        assert (response.status_code, response.headers["location"]) == (303, "/web/cases")
        cookie = response.cookies[COOKIE]
        assert cookie not in (PASSWORD, tokens["clerk"])
        assert "max-age=28800" in response.headers["set-cookie"].lower()
        desk = await client.get("/web/cases")
        assert desk.status_code == 200 and "窗口工作台" in desk.text
    finally:
        await client.aclose()
    with sessions() as session:
        user = user_by_name(session, "clerk")
        assert user is not None and user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        expiry = session.scalars(
            select(ApiTokenRow.expires_at).where(ApiTokenRow.expires_at.is_not(None))
        ).one()
    assert expiry is not None
    assert timedelta(hours=7, minutes=59) < expiry - datetime.now(UTC) <= timedelta(hours=8)


async def test_R22_a_wrong_password_and_an_unknown_name_get_the_same_refusal(
    app: FastAPI, sessions: sessionmaker[Session], tokens: dict[str, str]
) -> None:
    """R22: a wrong password, an unknown user name and a user without a password are each
    refused with the same 401 page and machine code, naming neither which part was wrong;
    the name typed stays in the form and nothing signs in."""
    give_password(sessions, "clerk")
    client = await console_client(app)
    try:
        answers = [
            await client.post("/web/login", data={"name": name, "password": PASSWORD + "x"})
            for name in ("clerk", "nobody", "auditor")
        ]
        for answer in answers:
            assert answer.status_code == 401
            assert 'data-code="sign_in_failed"' in answer.text
            assert "用户名或密码不正确" in answer.text
        assert 'value="nobody"' in answers[1].text
        assert (await client.get("/web/cases")).status_code == 303
    finally:
        await client.aclose()


async def test_R22_a_sign_in_expires_and_signing_out_ends_it(
    app: FastAPI, sessions: sessionmaker[Session], tokens: dict[str, str]
) -> None:
    """R22: the sign-in's token stops working once its expiry has passed, and at once when the
    person signs out (the same cookie sent again is sent to the login page); the clerk's
    system token is not touched by either."""
    give_password(sessions, "clerk")
    client = await signed_in(app, "clerk")
    try:
        cookie = client.cookies[COOKIE]
        with sessions() as session:
            later = datetime.now(UTC) + timedelta(hours=8, seconds=1)
            assert user_by_token(session, cookie) is not None
            assert user_by_token(session, cookie, now=later) is None
        assert (await client.post("/web/logout")).status_code == 303
        client.cookies.set(COOKIE, cookie, path="/web")
        again = await client.get("/web/cases")
        assert (again.status_code, again.headers["location"]) == (303, "/web/login")
    finally:
        await client.aclose()
    with sessions() as session:
        assert user_by_token(session, cookie) is None
        assert user_by_token(session, tokens["clerk"]) is not None


async def test_R22_a_password_change_needs_the_current_one_and_ends_other_sign_ins(
    app: FastAPI, sessions: sessionmaker[Session], tokens: dict[str, str]
) -> None:
    """R22: a wrong current password or two different new ones are refused (422, nothing
    changed); a good change keeps this sign-in, ends the one on another browser, and the new
    password signs in while the old one no longer does."""
    give_password(sessions, "rev-SCJG")
    here, there = await signed_in(app, "rev-SCJG"), await signed_in(app, "rev-SCJG")
    new = "新的密码-2026-12"
    try:
        wrong = {"current": "not it", "new": new, "repeated": new}
        differ = {"current": PASSWORD, "new": new, "repeated": new + "x"}
        short = {"current": PASSWORD, "new": "short", "repeated": "short"}
        for form, field in ((wrong, "current"), (differ, "repeated"), (short, "password")):
            refused = await here.post("/web/password", data=form)
            assert refused.status_code == 422 and f"{field}：" in refused.text
        changed = await here.post(
            "/web/password", data={"current": PASSWORD, "new": new, "repeated": new}
        )
        assert changed.status_code == 200 and "密码已修改" in changed.text
        assert (await here.get("/web/inbox")).status_code == 200
        assert (await there.get("/web/inbox")).status_code == 303
    finally:
        await here.aclose()
        await there.aclose()
    with sessions() as session:
        assert user_by_password(session, "rev-SCJG", PASSWORD) is None
        assert user_by_password(session, "rev-SCJG", new) is not None
        assert user_by_token(session, tokens["rev-SCJG"]) is not None


def test_R22_an_inactive_user_cannot_sign_in_with_a_right_password(
    sessions: sessionmaker[Session], tokens: dict[str, str]
) -> None:
    """R22: a user set inactive is not found by its right password."""
    give_password(sessions, "auditor")
    with sessions.begin() as session:
        user = session.scalars(select(UserRow).where(UserRow.name == "auditor")).one()
        user.active = False
    with sessions() as session:
        assert user_by_password(session, "auditor", PASSWORD) is None
