"""Users, their API tokens and their console passwords (R22): ``python -m approval.cli.users
create NAME --role reviewer --department ZJJ`` adds a user and prints its token, which is shown
this once (only its hash is stored); ``python -m approval.cli.users password NAME`` sets the
person's console password (asked twice, never echoed; only its argon2id hash is stored). Bad
input prints one line and exits with status 2. It runs on this machine, on the store of the
settings (APPROVAL_DATABASE_URL), not through the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import ValidationError

from approval.cli.common import fail
from approval.config import get_settings
from approval.domain.models import Actor, Role
from approval.store.engine import open_store
from approval.store.users import create_user, issue_token, set_password, user_by_name
from approval.validation import problem_line

API_ROLES = (Role.CLERK, Role.REVIEWER, Role.SUPERVISOR, Role.AUDITOR)

app = typer.Typer(
    help="用户、API 令牌与控制台密码（R22）",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """用户、API 令牌与控制台密码。"""


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="personal id, shown as the actor, e.g. zr-01")],
    role: Annotated[str, typer.Option("--role", help="clerk, reviewer, supervisor or auditor")],
    department: Annotated[
        str | None, typer.Option("--department", help="department code; reviewers only")
    ] = None,
) -> None:
    """Add a user and print a new bearer token for it (shown once)."""
    if role not in {r.value for r in API_ROLES}:
        fail(f"role: 角色 {role!r} 无效，应为 {'、'.join(r.value for r in API_ROLES)} 之一")
    if (role == Role.REVIEWER.value) != (department is not None):
        fail("department: 部门审批人员必须指定部门，其他角色不能指定部门")
    try:
        Actor(role=Role(role), id=name, department=department)
    except ValidationError as error:
        fail(problem_line(error, unnamed="input"))
    sessions = open_store(get_settings().store_url)
    try:
        with sessions.begin() as session:
            user = create_user(session, name=name, role=role, department=department)
            token = issue_token(session, user.id, datetime.now(UTC))
    except ValueError as error:
        fail(str(error))
    finally:
        sessions.kw["bind"].dispose()
    print(token)


@app.command()
def password(
    name: Annotated[str, typer.Argument(help="用户名，例如 zr-01")],
    new_password: Annotated[
        str,
        typer.Option(
            "--password",
            prompt="新密码",
            confirmation_prompt=True,
            hide_input=True,
            help="新密码（至少 8 个字符）；不给出时提示输入两次",
        ),
    ],
) -> None:
    """设置用户的控制台登录密码（只保存其 argon2id 散列）。"""
    sessions = open_store(get_settings().store_url)
    try:
        with sessions.begin() as session:
            user = user_by_name(session, name)
            if user is None:
                fail(f"name: 用户 {name!r} 不存在")
            set_password(session, user, new_password)
    except ValueError as error:
        fail(str(error))
    finally:
        sessions.kw["bind"].dispose()
    print(f"已设置 {name} 的密码")


if __name__ == "__main__":
    app()
