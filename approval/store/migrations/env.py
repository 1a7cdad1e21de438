"""Alembic's environment for the store: the models of approval.store.schema are the target.

Run from code (``approval.store.migrations.migrate``), the migrations use the connection
handed over in ``config.attributes["connection"]`` and its transaction. Run from the command
line (``uv run alembic ...``), they connect to ``-x url=...``, else to ``sqlalchemy.url``,
else to the settings' store (APPROVAL_DATABASE_URL or the SQLite file in the data directory).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from approval.store.schema import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    """The database to migrate when no connection was handed over."""
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return url
    has_ini_section = config.file_config.has_section(config.config_ini_section)
    url = config.get_main_option("sqlalchemy.url") if has_ini_section else None
    if url:
        return url
    from approval.config import get_settings

    return get_settings().store_url


def _configure(connection: Connection) -> None:
    """Run the migrations on ``connection``; in batch mode so that SQLite can alter tables."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Write the migrations' SQL instead of running them (``alembic upgrade --sql``)."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on the handed-over connection, or on a new engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    from approval.store.database import make_engine

    engine = make_engine(_url())
    try:
        with engine.begin() as new_connection:
            _configure(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
