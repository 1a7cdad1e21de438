"""The store's schema migrations (Alembic), run from code: ``migrate(engine)`` brings any
database to the newest revision, whatever the current directory.

A database that ``metadata.create_all`` made before the store had migrations (its tables are
there, ``alembic_version`` is not) is first stamped at the baseline revision, whose schema it
has, and then upgraded like any other. Migrations run in one transaction that holds a lock,
so two processes opening a new store at once (the worker and a command) do not both build it:
on PostgreSQL an advisory lock, on SQLite the database's write lock (BEGIN IMMEDIATE).

New revisions: ``uv run alembic revision --autogenerate -m "what changes"`` (the settings'
store URL, or ``-x url=...``), then review the file it writes under ``versions/``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS_DIR = Path(__file__).resolve().parent
BASELINE_REVISION = "0001"
"""The revision whose schema ``metadata.create_all`` made before there were migrations."""
BASELINE_COLUMNS: dict[str, frozenset[str]] = {
    "submissions": frozenset({"id", "idempotency_key", "case_no", "matter_code", "created_at"}),
    "cases": frozenset(
        {
            "case_no",
            "matter_code",
            "matter_name",
            "applicant_name",
            "catalogue_version",
            "stage",
            "received_at",
            "accepted_at",
            "decided_at",
            "approved",
            "case_last_day",
            "provisional",
            "overdue",
            "last_seq",
            "updated_at",
        }
    ),
    "review_tasks": frozenset(
        {
            "case_no",
            "department",
            "name",
            "state",
            "round",
            "due_at",
            "last_day",
            "provisional",
            "overdue",
            "escalated",
            "decided_by",
            "decided_at",
            "last_seq",
        }
    ),
    "case_events": frozenset(
        {
            "id",
            "case_no",
            "seq",
            "type",
            "occurred_at",
            "actor_role",
            "actor_id",
            "actor_department",
            "payload",
            "prev_hash",
            "hash",
        }
    ),
    "notices": frozenset({"notice_no", "case_no", "kind", "title", "body", "issued_at"}),
    "department_messages": frozenset(
        {"id", "department", "case_no", "kind", "round", "received_at", "payload"}
    ),
}
"""Every table and column of the baseline revision (0001)."""
VERSION_TABLE = "alembic_version"
POSTGRES_LOCK_KEY = 0x617070726F76616C
"""pg_advisory_xact_lock key that serialises migrations of one PostgreSQL database."""


class UnmigratableStoreError(RuntimeError):
    """The database has some of the store's tables but is not a store this code can migrate."""


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration of the store's migrations; with ``connection``, the
    migrations run on it (inside its transaction) instead of on the settings' store."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def head() -> str:
    """The newest revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"{MIGRATIONS_DIR}: no revisions")
    return head


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database of ``engine`` to ``revision`` (default: the newest), in one
    transaction under a lock. A database made by ``create_all`` before migrations is stamped
    at the baseline first; one with only part of the store's tables is refused."""
    with engine.begin() as connection:
        _lock(connection)
        config = alembic_config(connection)
        _stamp_if_created_without_migrations(connection, config)
        command.upgrade(config, revision)


def _lock(connection: Connection) -> None:
    """Hold the database's migration lock until the transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        # The driver opens no transaction before DDL: take the write lock explicitly, so the
        # whole migration is one transaction and a concurrent one waits (busy_timeout).
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _stamp_if_created_without_migrations(connection: Connection, config: Config) -> None:
    """Stamp a store made by ``create_all`` (tables present, no version table) at the
    baseline. Raises UnmigratableStoreError when only part of the baseline schema is there."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    if VERSION_TABLE in tables or not tables & BASELINE_COLUMNS.keys():
        return
    problems = []
    for table, columns in sorted(BASELINE_COLUMNS.items()):
        if table not in tables:
            problems.append(f"table {table} is missing")
            continue
        present = {c["name"] for c in inspector.get_columns(table)}
        if missing := sorted(columns - present):
            problems.append(f"{table} lacks {', '.join(missing)}")
    if problems:
        raise UnmigratableStoreError(
            f"{connection.engine.url!r}: the store has no migration history and is not the "
            f"schema of revision {BASELINE_REVISION} ({'; '.join(problems)}); "
            "migrate it by hand or start from an empty database"
        )
    command.stamp(config, BASELINE_REVISION)
