"""Shared pieces of the benchmarks: a store filled with many cases of realistic shape, a fresh
PostgreSQL schema of the benchmark's own, and the store's database version.

The rows are those the engine's recorder writes (``record_case``: one ``cases`` row per case,
one ``review_tasks`` row per reviewing department of its matter, same columns and values of
the same kinds), inserted in bulk with the store's own ``insert_ignoring_duplicates``. Matters
and their departments come from the demo catalogue; most cases are closed, the newest
``open_share`` of them are still open (in review, awaiting a supplement, or just received).

The efficiency figures' facts (R19, R20) are filled too, plausibly: each case's receiving
clerk, one-time notices and deemed acceptance, closing and rating; each task's first dispatch,
working days used, reminder, red mark, absence consent and supplement request; a
``supervision_marks`` row per reminder and red mark (of the tasks, the window and the
follow-ups); a ``follow_ups`` row per bad rating and per complaint. They are drawn from a
random source of their own, so that the other columns are those an older fill wrote (but
``overdue``, now set on the tasks deemed approved by silence or answered late).
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

from approval.domain.aftercare import WINDOW_NAME
from approval.domain.calendar import SHANGHAI
from approval.domain.catalogue import DepartmentReview, Matter
from approval.domain.models import WINDOW, RatingLevel
from approval.domain.state import FollowUpCause, Stage, SupervisedClock, TaskState
from approval.store.database import insert_ignoring_duplicates
from approval.store.schema import (
    CaseRow,
    FollowUpRow,
    ReviewTaskRow,
    SupervisionMarkRow,
)
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
# The efficiency figures' facts (R19, R20).
CLERKS = 12
INTAKE_NOTICE_SHARE = 0.12
DEEMED_ACCEPTANCE_SHARE = 0.02
RATED_SHARE = 0.8
RATING_WEIGHTS = {
    RatingLevel.VERY_SATISFIED: 0.55,
    RatingLevel.SATISFIED: 0.25,
    RatingLevel.BASICALLY_SATISFIED: 0.12,
    RatingLevel.DISSATISFIED: 0.05,
    RatingLevel.VERY_DISSATISFIED: 0.03,
}
COMPLAINT_SHARE = 0.005
ABSENT_SHARE_OF_DEEMED = 0.25
LATE_ANSWER_SHARE = 0.03
ASKED_SHARE_OF_APPROVED = 0.08
FOLLOW_UP_ANSWERED, FOLLOW_UP_ON_TIME = 0.85, 0.8
FOLLOW_UP_PERIOD_WD = 5
CASE_FACTS = {
    "clerk_id": None,
    "deemed_accepted": False,
    "intake_notices": 0,
    "closed_at": None,
    "rating": None,
    "rated_at": None,
}
TASK_FACTS = {
    "dispatched_at": None,
    "used_wd": None,
    "reminded_at": None,
    "red_marked": False,
    "absent_at_meeting": False,
    "supplement_requested": False,
}
"""The facts as a case or task without them holds them (every row of a batch has every key)."""


@dataclass
class FillSummary:
    """What was written: cases, tasks, and the tasks per (department, state)."""

    cases: int = 0
    tasks: int = 0
    follow_ups: int = 0
    marks: int = 0
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
    """Write ``cases`` cases with their review tasks, follow-ups and supervision marks into
    the store, in batches."""
    catalogue = bench_catalogue()
    reviewed = [m for m in catalogue.matters if m.reviews]
    rng, facts = random.Random(seed), random.Random(seed + 1_000_003)
    now = now or datetime.now(UTC)
    first_open = cases - round(cases * open_share)
    summary = FillSummary()
    for start in range(0, cases, BATCH_CASES):
        batch = _Batch()
        for index in range(start, min(cases, start + BATCH_CASES)):
            matter = rng.choice(reviewed)
            case, tasks = _case_with_tasks(
                catalogue.region_code, index, cases, matter, rng, now, first_open
            )
            batch.add(case, tasks, _supervision(case, tasks, matter, facts))
        batch.write(sessions)
        summary.cases += len(batch.cases)
        summary.tasks += len(batch.tasks)
        summary.follow_ups += len(batch.follow_ups)
        summary.marks += len(batch.marks)
        summary.by_department_state.update((t["department"], t["state"]) for t in batch.tasks)
    return summary


Rows = list[dict[str, Any]]


@dataclass
class _Batch:
    """The rows of one transaction."""

    cases: Rows = field(default_factory=list)
    tasks: Rows = field(default_factory=list)
    follow_ups: Rows = field(default_factory=list)
    marks: Rows = field(default_factory=list)

    def add(self, case: dict[str, Any], tasks: Rows, supervision: tuple[Rows, Rows]) -> None:
        """A case, its tasks, its follow-ups and its marks."""
        self.cases.append(case)
        self.tasks.extend(tasks)
        self.follow_ups.extend(supervision[0])
        self.marks.extend(supervision[1])

    def write(self, sessions: sessionmaker[Session]) -> None:
        """Insert every row in one transaction."""
        with sessions.begin() as session:
            insert_ignoring_duplicates(session, CaseRow, self.cases)
            insert_ignoring_duplicates(session, ReviewTaskRow, self.tasks)
            if self.follow_ups:
                insert_ignoring_duplicates(session, FollowUpRow, self.follow_ups)
            if self.marks:
                insert_ignoring_duplicates(session, SupervisionMarkRow, self.marks)


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


# ---- the efficiency figures' facts (R19, R20) ---------------------------------------------


@dataclass
class _Marks:
    """A case's supervision marks as they are drawn, numbered from after its last event."""

    case_no: str
    seq: int
    rows: Rows = field(default_factory=list)

    def add(
        self, colour: str, clock: SupervisedClock, party: str, at: datetime, number: str | None
    ) -> None:
        """One reminder (``yellow``) or red mark."""
        self.seq += 1
        self.rows.append(
            {
                "case_no": self.case_no,
                "seq": self.seq,
                "colour": colour,
                "clock": clock.value,
                "party": party,
                "follow_up_no": number,
                "last_day": at.astimezone(SHANGHAI).date(),
                "marked_at": at,
            }
        )


def _supervision(
    case: dict[str, Any], tasks: Rows, matter: Matter, rng: random.Random
) -> tuple[Rows, Rows]:
    """Fill the case's and its tasks' efficiency facts in place; its follow-ups and marks."""
    marks = _Marks(case["case_no"], case["last_seq"])
    case.update(CASE_FACTS)
    for task in tasks:
        task.update(TASK_FACTS)
    _intake_facts(case, marks, rng)
    periods = {r.department: r.period_wd for r in matter.reviews}
    for task in tasks:
        _task_facts(task, case, periods[task["department"]], marks, rng)
    follow_ups = _rating(case, [t["department"] for t in tasks], marks, rng)
    if rng.random() < COMPLAINT_SHARE and tasks:
        party = rng.choice(tasks)["department"]
        opened = case["received_at"] + timedelta(days=3)
        follow_ups.append(_follow_up(case, 2, party, FollowUpCause.COMPLAINT, opened, marks, rng))
    return follow_ups, marks.rows


def _intake_facts(case: dict[str, Any], marks: _Marks, rng: random.Random) -> None:
    """The receiving clerk, one-time notices, a deemed acceptance (with the window's red mark),
    the closing."""
    case["clerk_id"] = f"clerk-{rng.randrange(CLERKS):02d}"
    case["intake_notices"] = int(rng.random() < INTAKE_NOTICE_SHARE)
    deemed = case["accepted_at"] is not None and rng.random() < DEEMED_ACCEPTANCE_SHARE
    case["deemed_accepted"] = deemed
    if deemed:
        at = case["accepted_at"]
        marks.add("yellow", SupervisedClock.INTAKE, WINDOW, at - timedelta(days=1), None)
        marks.add("red", SupervisedClock.INTAKE, WINDOW, at, None)
    stage = case["stage"]
    if stage == Stage.COMPLETED.value:
        case["closed_at"] = case["decided_at"] + timedelta(days=1)
    elif stage == Stage.WITHDRAWN.value:
        case["closed_at"] = case["received_at"] + timedelta(days=3)


def _task_facts(
    task: dict[str, Any], case: dict[str, Any], period: int, marks: _Marks, rng: random.Random
) -> None:
    """A task's first dispatch, working days used, reminder, red mark, absence, request."""
    state = task["state"]
    if state == TaskState.WAITING.value or case["accepted_at"] is None:
        return
    dispatched = case["accepted_at"] + timedelta(minutes=1)
    task["dispatched_at"] = dispatched
    deemed = state == TaskState.DEEMED_APPROVED.value
    absent = deemed and rng.random() < ABSENT_SHARE_OF_DEEMED
    asked = state == TaskState.SUPPLEMENT_REQUESTED.value or (
        state == TaskState.APPROVED.value and rng.random() < ASKED_SHARE_OF_APPROVED
    )
    late = state in (TaskState.APPROVED.value, TaskState.REJECTED.value) and (
        rng.random() < LATE_ANSWER_SHARE
    )
    answered = state not in (TaskState.PENDING.value, TaskState.CANCELLED.value)
    if answered:
        used = period if deemed and not absent else rng.randint(1, period)
        task["used_wd"] = used + rng.randint(1, 3) if late else used
    task["absent_at_meeting"], task["supplement_requested"] = absent, asked
    task["overdue"] = late or (deemed and not absent)
    reminded = (task["used_wd"] or 0) >= period - 1 or (not answered and rng.random() < 0.3)
    due = dispatched + timedelta(days=period * 7 // 5)
    if reminded:
        task["reminded_at"] = due - timedelta(days=1)
        marks.add(
            "yellow", SupervisedClock.REVIEW, task["department"], due - timedelta(days=1), None
        )
    if task["overdue"]:
        task["red_marked"] = True
        marks.add("red", SupervisedClock.REVIEW, task["department"], due, None)


def _rating(
    case: dict[str, Any], departments: list[str], marks: _Marks, rng: random.Random
) -> Rows:
    """The rating of a completed case, and the follow-up of a bad one."""
    if case["stage"] != Stage.COMPLETED.value or rng.random() >= RATED_SHARE:
        return []
    levels, weights = zip(*RATING_WEIGHTS.items(), strict=True)
    level = rng.choices(levels, weights)[0]
    rated = case["closed_at"] + timedelta(days=rng.uniform(0, 10))
    case["rating"], case["rated_at"] = level.value, rated
    if not level.is_bad:
        return []
    party = rng.choice([*departments, WINDOW])
    return [_follow_up(case, 1, party, FollowUpCause.RATING, rated, marks, rng)]


def _follow_up(
    case: dict[str, Any],
    number: int,
    party: str,
    cause: FollowUpCause,
    opened: datetime,
    marks: _Marks,
    rng: random.Random,
) -> dict[str, Any]:
    """A follow-up row, answered on time, late or not yet, with its marks."""
    follow_up_no = f"{case['case_no']}-F{number:02d}"
    due = opened + timedelta(days=FOLLOW_UP_PERIOD_WD * 7 // 5)
    answered = rng.random() < FOLLOW_UP_ANSWERED
    on_time = answered and rng.random() < FOLLOW_UP_ON_TIME
    reminded = not on_time or rng.random() < 0.3
    if reminded:
        marks.add("yellow", SupervisedClock.FOLLOW_UP, party, due - timedelta(days=1), follow_up_no)
    if not on_time:
        marks.add("red", SupervisedClock.FOLLOW_UP, party, due, follow_up_no)
    answered_at = opened + timedelta(days=2) if on_time else due + timedelta(days=2)
    return {
        "follow_up_no": follow_up_no,
        "case_no": case["case_no"],
        "party": party,
        "party_name": WINDOW_NAME if party == WINDOW else party,
        "cause": cause.value,
        "opened_at": opened,
        "due_at": due,
        "period_wd": FOLLOW_UP_PERIOD_WD,
        "answered_at": answered_at if answered else None,
        "on_time": on_time if answered else None,
        "reminded": reminded,
        "red_marked": not on_time,
        "last_seq": case["last_seq"],
    }


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
