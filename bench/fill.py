"""Shared pieces of the benchmarks: a store filled with many cases of realistic shape, a fresh
PostgreSQL schema of the benchmark's own, and the store's database version.

The rows are those the engine's recorder writes (``record_case``: one ``cases`` row per case,
one ``review_tasks`` row per reviewing department of its matter, same columns and values of
the same kinds), inserted in bulk with the store's own ``insert_ignoring_duplicates``. Matters
and their departments come from the demo catalogue; most cases are closed, the newest
``open_share`` of them are still open (in review, awaiting a supplement, or just received).
"""

from __future__ import annotations

import os
import random
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from approval.domain.calendar import SHANGHAI
from approval.domain.catalogue import DepartmentReview, Matter
from approval.domain.state import Stage, TaskState
from approval.store.database import insert_ignoring_duplicates
from approval.store.schema import CaseRow, ReviewTaskRow
from bench.common import catalogue as bench_catalogue

POSTGRES_URL_VARIABLE = "APPROVAL_TEST_POSTGRES_URL"
CASES_PER_DAY = 400
"""Cases received per day: the filled store spans cases / CASES_PER_DAY days up to now."""
BATCH_CASES = 5_000
"""Cases per transaction while filling."""

# How open cases stand (the rest of the newest share is in review).
SUPPLEMENT_SHARE = 0.12
RECEIVED_SHARE = 0.05
# How closed cases ended (the rest completed with every department agreeing).
WITHDRAWN_SHARE = 0.04
REJECTED_SHARE = 0.05
DEEMED_SHARE = 0.03
# An open task of a case in review has already been decided with this probability.
DECIDED_IN_REVIEW = 0.35


@dataclass
class FillSummary:
    """What was written: cases, tasks, and the tasks per (department, state)."""

    cases: int = 0
    tasks: int = 0
    by_department_state: Counter[tuple[str, str]] = field(default_factory=Counter)

    def open_tasks(self, department: str) -> int:
        """The department's tasks in an open state (what its inbox lists)."""
        open_states = (TaskState.WAITING, TaskState.PENDING, TaskState.SUPPLEMENT_REQUESTED)
        return sum(self.by_department_state[(department, s.value)] for s in open_states)

    @property
    def departments(self) -> list[str]:
        """Every department that has a task, by code."""
        return sorted({d for d, _ in self.by_department_state})


def fill_store(
    sessions: sessionmaker[Session],
    cases: int,
    *,
    open_share: float = 0.08,
    seed: int = 5,
    now: datetime | None = None,
) -> FillSummary:
    """Write ``cases`` cases with their review tasks into the store, in batches."""
    catalogue = bench_catalogue()
    reviewed = [m for m in catalogue.matters if m.reviews]
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    first_open = cases - round(cases * open_share)
    summary = FillSummary()
    for start in range(0, cases, BATCH_CASES):
        case_rows: list[dict[str, Any]] = []
        task_rows: list[dict[str, Any]] = []
        for index in range(start, min(cases, start + BATCH_CASES)):
            case, tasks = _case_with_tasks(
                catalogue.region_code, index, cases, rng.choice(reviewed), rng, now, first_open
            )
            case_rows.append(case)
            task_rows.extend(tasks)
        with sessions.begin() as session:
            insert_ignoring_duplicates(session, CaseRow, case_rows)
            insert_ignoring_duplicates(session, ReviewTaskRow, task_rows)
        summary.cases += len(case_rows)
        summary.tasks += len(task_rows)
        summary.by_department_state.update((t["department"], t["state"]) for t in task_rows)
    return summary


def _case_with_tasks(
    region: str,
    index: int,
    cases: int,
    matter: Matter,
    rng: random.Random,
    now: datetime,
    first_open: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The rows of case ``index``: received (cases - index) / CASES_PER_DAY days ago."""
    received = now - timedelta(days=(cases - index) / CASES_PER_DAY, minutes=rng.randrange(60))
    day = received.astimezone(SHANGHAI).date()
    case_no = f"{region}-{day:%Y%m%d}-{index % 999_999 + 1:06d}"
    stage = _open_stage(rng) if index >= first_open else _closed_stage(rng)
    accepted = None if stage is Stage.RECEIVED else received + timedelta(hours=2)
    states = _task_states(matter, stage, rng)
    last_seq = 6 + 3 * len(states)
    closed = stage in (Stage.COMPLETED, Stage.WITHDRAWN)
    decided = received + timedelta(days=matter.committed_period_wd) if closed else None
    case = {
        "case_no": case_no,
        "matter_code": matter.code,
        "matter_name": matter.name,
        "applicant_name": f"申请人{index:06d}有限公司",
        "catalogue_version": "2026.11-demo",
        "stage": stage.value,
        "received_at": received,
        "accepted_at": accepted,
        "decided_at": decided if stage is Stage.COMPLETED else None,
        "approved": (TaskState.REJECTED.value not in states.values())
        if stage is Stage.COMPLETED
        else None,
        "case_last_day": (received + timedelta(days=matter.committed_period_wd * 7 // 5)).date()
        if accepted
        else None,
        "provisional": False,
        "overdue": False,
        "last_seq": last_seq,
        "updated_at": decided or now,
    }
    tasks = [
        _task_row(case_no, review, states[review.department], received, last_seq)
        for review in matter.reviews
        if review.department in states
    ]
    return case, tasks


def _task_row(
    case_no: str, review: DepartmentReview, state: str, received: datetime, last_seq: int
) -> dict[str, Any]:
    """A review_tasks row as the recorder writes it; a waiting task has no running clock, so
    no deadline (its period, in calendar days, roughly that many working days)."""
    running = state != TaskState.WAITING
    due = received + timedelta(days=review.period_wd * 7 // 5 + 1)
    decided = state not in (TaskState.WAITING, TaskState.PENDING, TaskState.SUPPLEMENT_REQUESTED)
    return {
        "case_no": case_no,
        "department": review.department,
        "name": review.name,
        "state": state,
        "round": 1,
        "due_at": due if running else None,
        "last_day": due.astimezone(SHANGHAI).date() if running else None,
        "provisional": False,
        "overdue": False,
        "escalated": False,
        "decided_by": f"reviewer-{review.department}" if decided else None,
        "decided_at": received + timedelta(days=2) if decided else None,
        "last_seq": last_seq,
    }


def _open_stage(rng: random.Random) -> Stage:
    """How an open case stands."""
    draw = rng.random()
    if draw < RECEIVED_SHARE:
        return Stage.RECEIVED
    if draw < RECEIVED_SHARE + SUPPLEMENT_SHARE:
        return Stage.AWAITING_SUPPLEMENT
    return Stage.IN_REVIEW


def _closed_stage(rng: random.Random) -> Stage:
    """How a closed case ended (rejections and silent consents are completed cases too)."""
    return Stage.WITHDRAWN if rng.random() < WITHDRAWN_SHARE else Stage.COMPLETED


def _task_states(matter: Matter, stage: Stage, rng: random.Random) -> dict[str, str]:
    """Each reviewing department's task state for a case at ``stage`` (none before
    acceptance)."""
    if stage is Stage.RECEIVED:
        return {}
    departments = [r.department for r in matter.reviews]
    if stage is Stage.COMPLETED:
        return _completed_states(departments, rng)
    if stage is Stage.WITHDRAWN:
        return dict.fromkeys(departments, TaskState.CANCELLED.value)
    states: dict[str, str] = {}
    for review in matter.reviews:
        if any(states.get(d) != TaskState.APPROVED for d in review.depends_on):
            states[review.department] = TaskState.WAITING.value
        elif rng.random() < DECIDED_IN_REVIEW:
            states[review.department] = TaskState.APPROVED.value
        else:
            states[review.department] = TaskState.PENDING.value
    if stage is Stage.AWAITING_SUPPLEMENT:
        states[rng.choice(departments)] = TaskState.SUPPLEMENT_REQUESTED.value
    return states


def _completed_states(departments: list[str], rng: random.Random) -> dict[str, str]:
    """A decided case: every department agreed, one by silent consent, or one rejected."""
    states = dict.fromkeys(departments, TaskState.APPROVED.value)
    draw = rng.random()
    if draw < REJECTED_SHARE:
        states[rng.choice(departments)] = TaskState.REJECTED.value
    elif draw < REJECTED_SHARE + DEEMED_SHARE:
        states[rng.choice(departments)] = TaskState.DEEMED_APPROVED.value
    return states


# ---- PostgreSQL ------------------------------------------------------------------------------


@contextmanager
def postgres_schema(admin_url: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema of the benchmark's own (the connections'
    search_path), dropped with everything in it afterwards."""
    admin = create_engine(admin_url)
    schema = f"bench_{uuid.uuid4().hex[:16]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def default_postgres_url() -> str:
    """The PostgreSQL server the tests use, if the environment names one."""
    return os.environ.get(POSTGRES_URL_VARIABLE, "")


# ---- the store's version ---------------------------------------------------------------------


def store_version(engine: Engine) -> str:
    """The database the store runs on and its version, e.g. ``SQLite 3.46.1``."""
    if engine.dialect.name != "postgresql":
        return f"SQLite {sqlite3.sqlite_version}"
    with engine.connect() as connection:
        return f"PostgreSQL {connection.execute(text('SHOW server_version')).scalar_one()}"
