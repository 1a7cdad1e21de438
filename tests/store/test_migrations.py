"""The store's schema migrations (approval.store.migrations), on SQLite and on PostgreSQL: every
revision upgrades to the newest, the result is exactly the models of approval.store.schema,
every revision downgrades, and a store made before there were migrations is taken over."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from approval.store.database import create_schema, make_engine
from approval.store.migrations import (
    BASELINE_COLUMNS,
    BASELINE_REVISION,
    VERSION_TABLE,
    UnmigratableStoreError,
    alembic_config,
    head,
    migrate,
    revisions,
)
from approval.store.schema import Base

MODEL_TABLES = set(Base.metadata.tables)
REVISIONS = revisions()


@pytest.fixture
def empty(store_url: str) -> Iterator[Engine]:
    """An engine on an empty database of the test's own (conftest's ``store_url``)."""
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


def tables(engine: Engine) -> set[str]:
    """The tables in the database."""
    return set(inspect(engine).get_table_names())


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: none, or no version table)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def differences(engine: Engine) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to ``revision`` in one transaction."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def make_legacy_store(engine: Engine) -> None:
    """A store as ``metadata.create_all`` made it before there were migrations: the baseline
    revision's schema (which was the models' then, see the comparison tests) without a version
    table."""
    migrate(engine, BASELINE_REVISION)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {VERSION_TABLE}"))


def test_the_revisions_form_one_line_from_the_baseline() -> None:
    """The migrations are one unbranched line that starts at the baseline and ends at head."""
    assert REVISIONS[0] == BASELINE_REVISION
    assert REVISIONS[-1] == head()
    assert len(set(REVISIONS)) == len(REVISIONS)


def test_upgrade_from_empty_to_head_creates_every_table(
    empty: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """create_schema on an empty database runs every migration, from any current directory,
    and leaves the database at head with every table of the models."""
    monkeypatch.chdir(tmp_path)
    create_schema(empty)
    assert tables(empty) == MODEL_TABLES | {VERSION_TABLE}
    assert current(empty) == head()


def test_the_migrated_schema_matches_the_models(empty: Engine) -> None:
    """Autogenerate finds nothing to change between the migrated database and the models:
    columns, types, nullability, keys, unique constraints and indexes all agree."""
    migrate(empty)
    assert differences(empty) == []


def test_migrating_a_store_at_head_again_changes_nothing(empty: Engine) -> None:
    """Every process opens the store with create_schema: at head that is a no-op that keeps
    the rows."""
    create_schema(empty)
    with empty.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO submissions (idempotency_key, case_no, matter_code, created_at) "
                "VALUES ('k-1', '371600-20261128-000001', 'FOOD-LIC', :at)"
            ),
            {"at": datetime(2026, 11, 28, tzinfo=UTC)},
        )
    create_schema(empty)
    assert current(empty) == head()
    with empty.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM submissions")).scalar_one() == 1


@pytest.mark.parametrize("start", REVISIONS)
def test_upgrade_from_every_earlier_revision_to_head(empty: Engine, start: str) -> None:
    """A store left at any revision upgrades to head and then matches the models."""
    migrate(empty, start)
    assert current(empty) == start
    migrate(empty)
    assert current(empty) == head()
    assert differences(empty) == []


def test_downgrade_to_base_removes_every_table(empty: Engine) -> None:
    """Downgrading from head to base drops every table of the models; upgrading again
    rebuilds them."""
    migrate(empty)
    downgrade(empty, "base")
    assert tables(empty) <= {VERSION_TABLE}
    assert current(empty) is None
    migrate(empty)
    assert current(empty) == head()
    assert differences(empty) == []


def test_every_revision_downgrades_one_step(empty: Engine) -> None:
    """From head, each downgrade of one step lands on the revision before, down to base."""
    migrate(empty)
    for expected in [*reversed(REVISIONS[:-1]), None]:
        downgrade(empty, "-1")
        assert current(empty) == expected
    assert tables(empty) <= {VERSION_TABLE}


def test_a_store_created_before_migrations_is_stamped_and_upgraded(empty: Engine) -> None:
    """A store that create_all made (tables, no version table) is stamped at the baseline and
    upgraded to head; its rows stay."""
    make_legacy_store(empty)
    with empty.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO submissions (idempotency_key, case_no, matter_code, created_at) "
                "VALUES ('k-1', '371600-20261128-000001', 'FOOD-LIC', :at)"
            ),
            {"at": datetime(2026, 11, 28, tzinfo=UTC)},
        )
    assert VERSION_TABLE not in tables(empty)
    create_schema(empty)
    assert current(empty) == head()
    assert differences(empty) == []
    with empty.connect() as connection:
        keys = connection.execute(text("SELECT idempotency_key FROM submissions")).scalars()
        assert list(keys) == ["k-1"]


def test_the_baseline_columns_are_those_of_the_baseline_revision(empty: Engine) -> None:
    """The baseline's tables and columns (what a pre-migration store is checked against) are
    those of the baseline revision itself."""
    migrate(empty, BASELINE_REVISION)
    inspector = inspect(empty)
    found = {
        table: frozenset(c["name"] for c in inspector.get_columns(table))
        for table in inspector.get_table_names()
        if table != VERSION_TABLE
    }
    assert found == BASELINE_COLUMNS


def test_a_store_with_only_part_of_the_schema_is_refused(empty: Engine) -> None:
    """A database with some of the store's tables, no version table and not the baseline's
    columns is not guessed at: migrating it fails, naming what is missing, and changes
    nothing."""
    with empty.begin() as connection:
        connection.execute(text("CREATE TABLE case_events (id INTEGER PRIMARY KEY)"))
    with pytest.raises(UnmigratableStoreError, match=r"case_events lacks .*prev_hash") as error:
        create_schema(empty)
    assert "table cases is missing" in str(error.value)
    assert tables(empty) == {"case_events"}


def test_two_processes_opening_a_new_store_at_once_both_succeed(store_url: str) -> None:
    """The worker and a command may open a new store at the same moment: the migration lock
    lets one build it and the other find it built."""
    engines = [make_engine(store_url) for _ in range(2)]
    barrier = threading.Barrier(len(engines))
    failures: list[BaseException] = []

    def open_store(engine: Engine) -> None:
        barrier.wait()
        try:
            create_schema(engine)
        except BaseException as failure:
            failures.append(failure)

    threads = [threading.Thread(target=open_store, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert failures == []
        assert current(engines[0]) == head()
        assert tables(engines[0]) == MODEL_TABLES | {VERSION_TABLE}
    finally:
        for engine in engines:
            engine.dispose()


def review_task_indexes(engine: Engine) -> dict[str, list[str | None]]:
    """The indexes on review_tasks, by name, with their columns."""
    return {
        i["name"]: i["column_names"]
        for i in inspect(engine).get_indexes("review_tasks")
        if i["name"]
    }


def test_the_inbox_index_replaces_the_department_state_index_and_back(empty: Engine) -> None:
    """Revision 0003 gives review_tasks the inbox's index (department, state, due_at, case_no)
    in place of (department, state); downgrading to 0002 restores the old index."""
    migrate(empty, "0003")
    assert review_task_indexes(empty) == {
        "ix_review_tasks_inbox": ["department", "state", "due_at", "case_no"]
    }
    downgrade(empty, "0002")
    assert review_task_indexes(empty) == {
        "ix_review_tasks_department_state": ["department", "state"]
    }
