"""Users and their API tokens (R22): ``python -m approval.cli.users create NAME --role reviewer
--department ZJJ`` adds a user and prints its token, which is shown this once (only its hash
is stored). Bad input prints one line and exits with status 2. It runs on this machine, on the
store of the settings (APPROVAL_DATABASE_URL), not through the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import ValidationError

from approval.cli.common import fail
from approval.config import get_settings
from approval.domain.models import Actor, Role
from approval.store.engine import open_store
from approval.store.users import create_user, issue_token
from approval.validation import problem_line

API_ROLES = (Role.CLERK, Role.REVIEWER, Role.SUPERVISOR, Role.AUDITOR)

app = typer.Typer(
    help="API users and tokens (R22)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """API users and tokens."""


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
        fail(f"role: {role!r} is not one of {', '.join(r.value for r in API_ROLES)}")
    if (role == Role.REVIEWER.value) != (department is not None):
        fail("department: a reviewer needs a department, and only a reviewer has one")
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


if __name__ == "__main__":
    app()
