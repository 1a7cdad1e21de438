"""How long the efficiency report takes with a large store: a store filled with many cases of
realistic shape (bench.fill, with the efficiency figures' facts: dispatches, working days used,
reminders, red marks, ratings, follow-ups), then the report for a year, every department and
matter and the window (``efficiency_report`` in a session of its own), timed beside one plain
full scan of the ``review_tasks`` rows in the same run (every column of every row fetched, in a
session of its own), alternately, after a warm-up of each; the medians and their ratio (goal
≤ 2). On SQLite (a file, throw-away unless ``--sqlite-file`` names one to keep and reuse) and on
PostgreSQL (a schema of its own, dropped afterwards unless ``--postgres-schema`` names one to
keep and reuse). Asserts nothing.

    uv run --frozen python -m bench.efficiency_report [--cases 100000] [--repeats 7]
        [--postgres-url URL] [--backends sqlite,postgresql] [--sqlite-file PATH]
        [--postgres-schema NAME] [--plans]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from approval.domain.calendar import SHANGHAI
from approval.domain.catalogue import Catalogue
from approval.runtime import open_store
from approval.store.efficiency import EfficiencyReport, ReportPeriod, efficiency_report
from approval.store.schema import CaseRow, ReviewTaskRow
from bench.common import catalogue as bench_catalogue
from bench.common import load_now, machine
from bench.fill import default_postgres_url, fill_store, postgres_schema, store_version

BACKENDS = ("sqlite", "postgresql")
FILLED_UNTIL = datetime(2026, 12, 1, tzinfo=SHANGHAI)
"""The filled cases are received over the days before this (250 days for 100,000 cases), so
that the year's report covers them all, whenever the benchmark runs."""
PERIOD = ReportPeriod.year(2026)
ANALYZED = "cases, review_tasks, follow_ups, supervision_marks"
TASK_SCAN = select(ReviewTaskRow.__table__)
"""The plain full scan: every column of every review task."""


def report_once(sessions: sessionmaker[Session], catalogue: Catalogue) -> EfficiencyReport:
    """The year's report, every department and matter, in a session of its own."""
    with sessions() as session:
        return efficiency_report(session, catalogue, PERIOD)


def scan_once(sessions: sessionmaker[Session]) -> int:
    """Every review task fetched, every column, in a session of its own; how many."""
    with sessions() as session:
        return len(session.execute(TASK_SCAN).all())


def timed(action: Any) -> float:
    """The milliseconds ``action()`` takes."""
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def time_both(
    sessions: sessionmaker[Session], catalogue: Catalogue, repeats: int
) -> tuple[list[float], list[float]]:
    """The milliseconds of ``repeats`` reports and as many scans, alternating which goes
    first, after one of each to warm the caches."""
    report_once(sessions, catalogue)
    scan_once(sessions)
    reports: list[float] = []
    scans: list[float] = []
    for round_ in range(repeats):
        pair = [
            (reports, lambda: report_once(sessions, catalogue)),
            (scans, lambda: scan_once(sessions)),
        ]
        for samples, action in pair if round_ % 2 == 0 else reversed(pair):
            samples.append(timed(action))
    return reports, scans


def statements_of(sessions: sessionmaker[Session], catalogue: Catalogue) -> list[tuple[str, Any]]:
    """The SQL statements (and parameters) one report sends, as sent."""
    engine: Engine = sessions.kw["bind"]
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        report_once(sessions, catalogue)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return sent


def query_plans(sessions: sessionmaker[Session], catalogue: Catalogue) -> list[str]:
    """EXPLAIN QUERY PLAN (SQLite) or EXPLAIN ANALYZE (PostgreSQL) of each statement of one
    report, as printable lines."""
    engine: Engine = sessions.kw["bind"]
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    lines = []
    for statement, parameters in statements_of(sessions, catalogue):
        lines.append("  " + " ".join(statement.split())[:150] + " …")
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(explain + statement, parameters)
            lines += [f"    {row[-1]}" for row in cursor.fetchall()]
        finally:
            connection.close()
    return lines


@contextmanager
def store_at(backend: str, args: argparse.Namespace, scratch: Path) -> Iterator[str]:
    """The URL of the store on ``backend``: the one to keep, or a throw-away one."""
    if backend == "sqlite":
        path = Path(args.sqlite_file) if args.sqlite_file else scratch / "efficiency.sqlite3"
        yield f"sqlite:///{path}"
        return
    if not args.postgres_url:
        raise SystemExit("--postgres-url: none given and APPROVAL_TEST_POSTGRES_URL is not set")
    if not args.postgres_schema:
        with postgres_schema(args.postgres_url) as url:
            yield url
        return
    admin = create_engine(args.postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{args.postgres_schema}"'))
    admin.dispose()
    options = {"options": f"-csearch_path={args.postgres_schema}"}
    yield make_url(args.postgres_url).update_query_dict(options).render_as_string(False)


def filled(sessions: sessionmaker[Session], cases: int) -> None:
    """Fill the store unless it holds ``cases`` cases already (then it is reused); on
    PostgreSQL, vacuum and analyze the tables as autovacuum does soon after a bulk insert."""
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(CaseRow)) or 0
    if stored == cases:
        print(f"  reused the store of {stored} cases")
        return
    if stored:
        raise SystemExit(f"the store holds {stored} cases, not {cases}: name another one")
    started = time.perf_counter()
    summary = fill_store(sessions, cases, now=FILLED_UNTIL)
    engine: Engine = sessions.kw["bind"]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"VACUUM (ANALYZE) {ANALYZED}"))
    print(
        f"  filled {summary.cases} cases, {summary.tasks} review tasks, {summary.follow_ups} "
        f"follow-ups, {summary.marks} reminders and red marks in "
        f"{time.perf_counter() - started:.1f} s"
    )


def describe(report: EfficiencyReport) -> str:
    """What the report holds, in one line."""
    tasks = sum(d.tasks.received for d in report.departments)
    ratings = sum(m.ratings.total for m in report.matters)
    best, worst = report.departments[0], report.departments[-1]
    return (
        f"  report {PERIOD.start}..{PERIOD.end}: {len(report.departments)} departments "
        f"({tasks} tasks), {len(report.matters)} matters, {len(report.window.clerks)} clerks, "
        f"{ratings} ratings; best {best.department} {best.score:.1f}, "
        f"worst {worst.department} {worst.score:.1f}"
    )


def bench_backend(backend: str, args: argparse.Namespace, scratch: Path) -> None:
    """Fill (or reuse) a store on ``backend``; print the figures."""
    catalogue = bench_catalogue()
    with store_at(backend, args, scratch) as url:
        sessions = open_store(url)
        engine: Engine = sessions.kw["bind"]
        try:
            print(f"{store_version(engine)}:")
            filled(sessions, args.cases)
            print(describe(report_once(sessions, catalogue)))
            if args.plans:
                print("  plans of one report's statements:")
                print("\n".join(query_plans(sessions, catalogue)))
            reports, scans = time_both(sessions, catalogue, args.repeats)
            print(f"  {scan_once(sessions)} review tasks scanned; {load_now()}")
            print(line("efficiency report", reports))
            print(line("full scan of review_tasks", scans))
            ratio = statistics.median(reports) / statistics.median(scans)
            print(f"  ratio report / scan (medians): {ratio:.2f} (goal ≤ 2)")
        finally:
            engine.dispose()


def line(what: str, samples: list[float]) -> str:
    """Median, fastest and slowest of ``samples`` (ms)."""
    return (
        f"  {what}: median {statistics.median(samples):.0f} ms, "
        f"min {min(samples):.0f} ms, max {max(samples):.0f} ms (n={len(samples)})"
    )


def main() -> None:
    """Measure the report on each backend and print the figures."""
    parser = argparse.ArgumentParser(description="The efficiency report with a large store.")
    parser.add_argument("--cases", type=int, default=100_000, help="cases in the store")
    parser.add_argument("--repeats", type=int, default=7, help="timed reports (and scans)")
    parser.add_argument(
        "--postgres-url", default=default_postgres_url(), help="PostgreSQL server (admin URL)"
    )
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument("--sqlite-file", help="SQLite store to fill once and reuse (kept)")
    parser.add_argument("--postgres-schema", help="PostgreSQL schema to fill once and reuse")
    parser.add_argument("--plans", action="store_true", help="print the statements' plans")
    args = parser.parse_args()
    backends = args.backends.split(",")
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"--backends: {', '.join(sorted(unknown))} is not sqlite or postgresql")
    if args.cases < 1 or args.repeats < 1:
        parser.error("--cases and --repeats: at least 1")
    print(machine())
    with tempfile.TemporaryDirectory(prefix="approval-bench-") as scratch:
        for backend in backends:
            bench_backend(backend, args, Path(scratch))


if __name__ == "__main__":
    main()
