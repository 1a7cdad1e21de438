"""Who the command line acts as (R22): the bearer token of ``--token``, else of the demo user
``--as USER`` (development only), else of ``APPROVAL_TOKEN``. The API checks the token and
the role; the command line only carries it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from approval.cli.common import fail

if TYPE_CHECKING:
    from approval.config import Settings

TOKEN_VARIABLE = "APPROVAL_TOKEN"
DEMO_TOKENS_FILE = "demo-tokens.txt"
"""In the data directory, written by ``make run``: one demo user a line, its name first and
its token last."""


@dataclass(frozen=True)
class Credentials:
    """What the command line was told about who acts."""

    token: str | None = None
    """``--token``."""
    as_user: str | None = None
    """``--as``: a demo user's name."""


def bearer_token(credentials: Credentials, settings: Settings) -> str:
    """The token to act with; without one, a one-line refusal (exit status 2)."""
    if credentials.token and credentials.as_user:
        fail("token: 只能选一种身份 give either --token or --as, not both")
    if credentials.token:
        return credentials.token
    if credentials.as_user:
        return demo_token(credentials.as_user, settings)
    from_environment = os.environ.get(TOKEN_VARIABLE, "").strip()
    if from_environment:
        return from_environment
    fail(
        "token: 需要登录令牌 a token is required: --token TOKEN or "
        f"{TOKEN_VARIABLE} (development: --as USER)"
    )


def demo_token(name: str, settings: Settings) -> str:
    """The token ``make run`` issued to the demo user ``name``; development only."""
    if not settings.development:
        fail(
            "as: --as 仅限开发环境 only in development (APPROVAL_ENVIRONMENT=development); "
            f"give --token or {TOKEN_VARIABLE}"
        )
    path = settings.data_dir / DEMO_TOKENS_FILE
    tokens = read_demo_tokens(path)
    if name not in tokens:
        known = ", ".join(tokens) or f"none: `make run` writes {path.name}"
        fail(f"as: {name!r} 不是演示用户 is not a demo user ({known})")
    return tokens[name]


def read_demo_tokens(path: Path) -> dict[str, str]:
    """Demo user → token, from the file ``make run`` writes; empty when there is none."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    fields = [line.split() for line in lines]
    return {words[0]: words[-1] for words in fields if len(words) >= 2}
