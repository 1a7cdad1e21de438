"""The store's database: engines and sessions for SQLite and PostgreSQL, the schema, and the
idempotent writes every table uses (INSERT … ON CONFLICT DO NOTHING, and an upsert that only
moves a row forward), so that a retried step stores nothing twice (R23).

Sessions belong to the caller: nothing here commits. Use them as::

    with factory.begin() as session:
        record_case(session, ...)
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from approval.store.migrations import migrate
from approval.store.schema import (
    Base,
)

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
)
"""WAL with ``synchronous=NORMAL``: a commit survives a crash of the process; a power loss
may undo the last commits, which ``auditor.py rebuild`` restores from the Temporal histories
(the store is the record's projection; the case itself lives in Temporal). It makes a step's
write 2-4 times faster (bench/PROFILE.md)."""


SQLITE_OPEN_ATTEMPTS = 100
"""Tries (50 ms apart) to open a new SQLite file while another process switches it to WAL."""


ROWS_PER_STATEMENT = 500
"""Rows per multi-row INSERT: well under the bound-parameter limits of SQLite and PostgreSQL."""


DialectInsert = sqlite.Insert | postgresql.Insert


# The writers above go through Core, past the session's identity map: every reader asks for
# `populate_existing` so that rows loaded earlier in the same session are refreshed.
FRESH = {"populate_existing": True}


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite or PostgreSQL). Every statement's row count is kept, so
    that an INSERT reports how many rows it added on every driver (psycopg's is gone once the
    cursor closes). For SQLite: the file's directory is created, and every connection runs in
    WAL mode with a 5 s busy timeout and foreign keys on, usable from any thread."""
    parsed = make_url(url)
    options: dict[str, Any] = {
        "json_serializer": _json_dumps,
        "execution_options": {"preserve_rowcount": True},
    }
    if parsed.get_backend_name() != "sqlite":
        # A connection of the pool is tested before use: after the database server restarts,
        # the first request finds a fresh connection instead of failing on a dead one.
        return create_engine(parsed, pool_pre_ping=True, **options)
    _create_parent_dir(parsed.database)
    engine = create_engine(parsed, connect_args={"check_same_thread": False}, **options)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    if parsed.database and parsed.database != ":memory:":
        # Processes opening a new file at once race to switch it to WAL, and SQLite answers the
        # loser "database is locked" without waiting: connect once now, retrying, so that the
        # file is in WAL mode (which stays) before anything else runs on it.
        for attempt in range(1, SQLITE_OPEN_ATTEMPTS + 1):
            try:
                engine.connect().close()
                break
            except OperationalError as error:
                if "locked" not in str(error) or attempt == SQLITE_OPEN_ATTEMPTS:
                    raise
                time.sleep(0.05)
    return engine


def create_schema(engine: Engine) -> None:
    """Bring the store's schema to the newest migration (approval.store.migrations): a new
    database gets every table, an older one its missing revisions, and one made before
    migrations existed is stamped at the baseline and upgraded."""
    migrate(engine)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine``; rows stay readable after the caller's transaction ends."""
    return sessionmaker(engine, expire_on_commit=False)


def _json_dumps(value: Any) -> str:
    """JSON that keeps Chinese text readable in the database."""
    return json.dumps(value, ensure_ascii=False)


def _create_parent_dir(database: str | None) -> None:
    """Create the directory of a SQLite database file (not for in-memory or URI databases)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _set_sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    """Run the SQLite pragmas on a new DBAPI connection."""
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def insert_ignoring_duplicates(
    session: Session, table: Table | type[Base], rows: list[dict[str, Any]]
) -> int:
    """INSERT ``rows`` into ``table``, skipping any row that collides with a primary key or a
    unique constraint (ON CONFLICT DO NOTHING). Returns how many rows were inserted.

    Every row must have the same keys. Works on SQLite and PostgreSQL.
    """
    stmt = _insert_ignoring(_dialect_of(session), _table_of(table))
    # The rows go as parameters of one statement (executemany), not into it as a multi-row
    # VALUES: SQLAlchemy compiles a multi-row VALUES anew at every call, a parametrised
    # statement once (its cache), which profiling the store activity showed to matter.
    connection = session.connection()
    return sum(_rowcount(connection.execute(stmt, chunk)) for chunk in _chunks(rows))


def upsert_if_newer(
    session: Session, table: Table | type[Base], rows: list[dict[str, Any]], keys: Sequence[str]
) -> None:
    """INSERT ``rows``; on a key conflict overwrite the stored row only when the new row's
    ``last_seq`` is at least the stored one, so a late retry cannot roll the read model back."""
    upsert = _upsert_moving_forward(_dialect_of(session), _table_of(table), tuple(keys))
    connection = session.connection()
    for chunk in _chunks(rows):
        connection.execute(upsert, chunk)  # parameters, not VALUES: compiled once (see above)


@functools.cache
def _insert_ignoring(dialect: str, table: Table) -> DialectInsert:
    """INSERT … ON CONFLICT DO NOTHING for ``table``, built once per dialect."""
    return _dialect_insert(dialect, table).on_conflict_do_nothing()


@functools.cache
def _upsert_moving_forward(dialect: str, table: Table, keys: tuple[str, ...]) -> DialectInsert:
    """The guarded upsert of ``table``, built once per dialect (its ``excluded`` alias costs
    a column collection each time it is made)."""
    stmt = _dialect_insert(dialect, table)
    excluded = stmt.excluded
    updates = {c.name: excluded[c.name] for c in table.columns if c.name not in keys}
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_=updates, where=table.c.last_seq <= excluded.last_seq
    )


def _dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def _dialect_insert(dialect: str, table: Table) -> DialectInsert:
    """The INSERT construct of the dialect, which knows ON CONFLICT."""
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"{dialect}: the store supports SQLite and PostgreSQL only")


def _table_of(table: Table | type[Base]) -> Table:
    """The Table of an ORM class (or the Table itself)."""
    if isinstance(table, Table):
        return table
    mapped = table.__table__
    if not isinstance(mapped, Table):
        raise TypeError(f"{table.__name__} is not mapped to a table")
    return mapped


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """``rows`` in slices of at most ROWS_PER_STATEMENT."""
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        yield rows[start : start + ROWS_PER_STATEMENT]


def _rowcount(result: Any) -> int:
    """Rows affected by a DML statement."""
    return cast(CursorResult[Any], result).rowcount
