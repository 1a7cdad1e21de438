"""How fast a reviewer's inbox answers with a large store: a store filled with many cases of
realistic shape (bench.fill), then a department's first page of open tasks read exactly as
GET /inbox reads it (``department_inbox`` in a session of its own, the open states, 50 rows),
many times over varied departments; p50 / p95 / p99, on SQLite (a throw-away file) and on
PostgreSQL (a schema of its own, dropped afterwards). Prints the query plans of the two
statements the inbox runs (the count and the page) and the figures; asserts nothing.

    uv run python -m bench.inbox_query [--cases 100000] [--queries 500]
        [--postgres-url URL] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from approval.domain.state import OPEN_TASK_STATES
from approval.runtime import open_store
from approval.store.queries import department_inbox
from bench.common import load_now, machine, percentiles
from bench.fill import FillSummary, default_postgres_url, fill_store, postgres_schema, store_version

OPEN_STATES = [s.value for s in sorted(OPEN_TASK_STATES)]
"""The states GET /inbox lists by default, in its order."""
PAGE = 50
"""GET /inbox's default page size."""
WARM_UP = 20
"""Queries run before timing, to fill the caches as a running server's would be."""
BACKENDS = ("sqlite", "postgresql")


def first_page(sessions: sessionmaker[Session], department: str) -> int:
    """One inbox request's store work: a session of its own, the total and the first page of
    open tasks. Returns the rows on the page."""
    with sessions() as session:
        _, rows = department_inbox(session, department, OPEN_STATES, limit=PAGE, offset=0)
    return len(rows)


def time_queries(
    sessions: sessionmaker[Session], departments: list[str], queries: int, seed: int
) -> list[float]:
    """The milliseconds of ``queries`` first pages, each of a department drawn at random."""
    rng = random.Random(seed)
    for department in departments * (WARM_UP // len(departments) + 1):
        first_page(sessions, department)
    samples = []
    for _ in range(queries):
        department = rng.choice(departments)
        started = time.perf_counter()
        first_page(sessions, department)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def inbox_statements(sessions: sessionmaker[Session], department: str) -> list[tuple[str, Any]]:
    """The SQL statements (and their parameters) that one inbox request sends, as sent."""
    engine: Engine = sessions.kw["bind"]
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        first_page(sessions, department)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return sent


def query_plans(sessions: sessionmaker[Session], department: str) -> list[str]:
    """EXPLAIN QUERY PLAN (SQLite) or EXPLAIN ANALYZE (PostgreSQL) of each statement of one
    inbox request, as printable lines."""
    engine: Engine = sessions.kw["bind"]
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    lines = []
    for statement, parameters in inbox_statements(sessions, department):
        lines.append("  " + " ".join(statement.split())[:160] + " …")
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(explain + statement, parameters)
            lines += [f"    {_plan_line(row)}" for row in cursor.fetchall()]
        finally:
            connection.close()
    return lines


def _plan_line(row: Any) -> str:
    """One row of a plan: SQLite's (id, parent, notused, detail) or PostgreSQL's text."""
    return str(row[-1])


@contextmanager
def store_at(backend: str, postgres_url: str, scratch: Path) -> Iterator[str]:
    """The URL of an empty store on ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{scratch / 'inbox.sqlite3'}"
        return
    if not postgres_url:
        raise SystemExit("--postgres-url: none given and APPROVAL_TEST_POSTGRES_URL is not set")
    with postgres_schema(postgres_url) as url:
        yield url


def fill(sessions: sessionmaker[Session], cases: int) -> FillSummary:
    """Fill the store and, on PostgreSQL, vacuum and analyze the two tables as autovacuum does
    soon after a bulk insert (statistics for the planner, the visibility map for index-only
    scans). The engine never ANALYZEs its SQLite store, so neither does this."""
    started = time.perf_counter()
    summary = fill_store(sessions, cases)
    engine: Engine = sessions.kw["bind"]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) cases, review_tasks"))
    seconds = time.perf_counter() - started
    open_counts = [summary.open_tasks(d) for d in summary.departments]
    print(
        f"  filled {summary.cases} cases, {summary.tasks} review tasks across "
        f"{len(summary.departments)} departments in {seconds:.1f} s; open tasks per "
        f"department {min(open_counts)}–{max(open_counts)} "
        f"(of {summary.tasks // len(summary.departments)} tasks on average)"
    )
    return summary


def bench_backend(backend: str, args: argparse.Namespace, scratch: Path) -> None:
    """Fill a store on ``backend``, print the plans and the inbox's latencies."""
    with store_at(backend, args.postgres_url, scratch) as url:
        sessions = open_store(url)
        engine: Engine = sessions.kw["bind"]
        try:
            print(f"{store_version(engine)}:")
            summary = fill(sessions, args.cases)
            busiest = max(summary.departments, key=summary.open_tasks)
            print(f"  plan of one inbox request ({busiest}, the most open tasks):")
            print("\n".join(query_plans(sessions, busiest)))
            samples = time_queries(sessions, summary.departments, args.queries, args.seed)
            print(f"  first page of open tasks ({PAGE} rows): {percentiles(samples)}; {load_now()}")
        finally:
            engine.dispose()


def main() -> None:
    """Measure the inbox on each backend and print the figures."""
    parser = argparse.ArgumentParser(description="Inbox latency with a large store.")
    parser.add_argument("--cases", type=int, default=100_000, help="cases in the store")
    parser.add_argument("--queries", type=int, default=500, help="inbox requests timed")
    parser.add_argument("--seed", type=int, default=5, help="seed of the department draw")
    parser.add_argument(
        "--postgres-url", default=default_postgres_url(), help="PostgreSQL server (admin URL)"
    )
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated: sqlite, postgresql"
    )
    args = parser.parse_args()
    backends = args.backends.split(",")
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"--backends: {', '.join(sorted(unknown))} is not sqlite or postgresql")
    if args.cases < 1:
        parser.error("--cases: must be at least 1")
    if args.queries < 2:
        parser.error("--queries: must be at least 2 (for percentiles)")
    print(machine())
    with tempfile.TemporaryDirectory(prefix="approval-bench-") as scratch:
        for backend in backends:
            bench_backend(backend, args, Path(scratch))


if __name__ == "__main__":
    main()
