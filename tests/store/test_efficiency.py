"""R19, R20: the efficiency figures (approval.store.efficiency) of a store of 600 cases of mixed
paths equal an independent count over the audit events as stored.

The cases are driven through the case's rules (approval.domain.case.Case, under the default
supervision policy) along seeded-random paths — accepted, deemed accepted (R3), refused, lapsed
(R6), withdrawn (R18); departments approving, rejecting, asking for a supplement (R11), silent
(R9: deemed approved, or escalated where silent consent is excluded and answered late),
absent from a joint meeting (R10); fees, deliveries on time and late; ratings of every level,
bad ones and complaints followed up on time, late or never (R20) — with every deadline applied
at its instant, as the workflow wakes for it. Each step is recorded with ``record_step`` into a
real store, on SQLite and on PostgreSQL. The expected figures are folded here from the stored
``case_events`` rows (typed with ``as_events``), never from the read model."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from approval.config import DEVELOPMENT_AUDIT_KEY
from approval.contracts import RecordRequest
from approval.domain.calendar import SHANGHAI
from approval.domain.case import Case
from approval.domain.catalogue import CasePolicy, Matter
from approval.domain.errors import DomainError
from approval.domain.events import (
    ApplicationAccepted,
    ApplicationDeemedAccepted,
    ApplicationReceived,
    CaseApproved,
    CaseClosed,
    CaseEvent,
    CaseRated,
    CaseRejected,
    ClockWarned,
    FollowUpAnswered,
    FollowUpOpened,
    OneTimeNoticeIssued,
    RedMarkRecorded,
    ReviewApproved,
    ReviewDeemedApproved,
    ReviewDeemedApprovedInAbsence,
    ReviewEscalated,
    ReviewRejected,
    ReviewSupplementRequested,
    ReviewTaskCancelled,
    ReviewTaskDispatched,
    SupplementForwarded,
    TaskAnswer,
    as_events,
)
from approval.domain.models import (
    WINDOW,
    Accept,
    AnswerFollowUp,
    CaseCommand,
    CollectFee,
    Complain,
    Deliver,
    IssueNotice,
    Rate,
    RatingLevel,
    RecordMeeting,
    Refuse,
    Supplement,
    Withdraw,
)
from approval.domain.state import Stage, TaskState
from approval.runtime import open_store
from approval.store.efficiency import (
    EfficiencyReport,
    ReportPeriod,
    composite_score,
    efficiency_report,
    flat,
    nearest_rank,
)
from approval.store.recording import CaseTail, record_step
from approval.store.schema import CaseEventRow
from tests.conftest import STORE_BACKENDS
from tests.domain_fixtures import (
    APPLICANT,
    CALENDAR,
    CATALOGUE,
    applicant_actor,
    approve,
    at,
    clerk,
    demanded,
    item,
    material,
    reject,
    request,
    reviewer,
    supervisor,
)

KEY = DEVELOPMENT_AUDIT_KEY.encode()
CASES = 600
SEED = 11
FIRST_DAY, LAST_DAY = date(2026, 1, 5), date(2026, 12, 24)
"""Days of receipt: the later cases run into 2027, outside the year's report."""
CLERKS = [f"clerk-{n:02d}" for n in range(1, 7)]
WEIGHTS = CATALOGUE.supervision.weights
BAD = {RatingLevel.DISSATISFIED.value, RatingLevel.VERY_DISSATISFIED.value}


# ---- driving cases through the rules -------------------------------------------------------


class Driver:
    """One case under the rules as its workflow drives it: every deadline and reminder applied
    at its instant, each step's events handed to the store as a RecordRequest."""

    def __init__(self, case: Case, now: datetime) -> None:
        self.case, self.now = case, now
        self.steps: list[RecordRequest] = []
        self.flush()

    @property
    def stage(self) -> Stage:
        """Where the case stands now."""
        return self.case.state.stage

    def flush(self) -> None:
        """The events since the last step, as one step."""
        events = self.case.drain()
        if events:
            self.steps.append(
                RecordRequest(
                    case_no=self.case.state.case_no,
                    centre=CATALOGUE.centre,
                    events=tuple(events),
                    last_seq=events[-1].seq,
                )
            )

    def wait_until(self, moment: datetime) -> None:
        """Time passes until ``moment``: each deadline on the way is applied at its instant."""
        for _ in range(500):
            due = self.case.next_due()
            if due is None or due > moment:
                self.now = max(self.now, moment)
                return
            self.now = max(self.now, due)
            self.case.advance_time(self.now)
            self.flush()
        raise AssertionError(f"{self.case.state.case_no}: a deadline that does not pass")

    def wait_for(self, done: Callable[[], bool]) -> None:
        """Time passes from deadline to deadline until ``done``."""
        while not done():
            due = self.case.next_due()
            assert due is not None, "nothing left to wait for"
            self.wait_until(due)

    def act(self, command: CaseCommand, moment: datetime) -> bool:
        """The command at ``moment`` (after the deadlines before it), unless the rules refuse
        it now."""
        self.wait_until(moment)
        self.case.advance_time(self.now)
        try:
            self.case.check(command)
        except DomainError:
            self.flush()
            return False
        self.case.handle(command, self.now)
        self.flush()
        return True

    def later(self, rng: random.Random, low_hours: float, high_hours: float) -> datetime:
        """A moment some hours from now."""
        return self.now + timedelta(hours=rng.uniform(low_hours, high_hours))


MATTERS = list(CATALOGUE.matters)
REVIEW_PLANS = ("approve", "approve", "approve", "reject", "ask", "silent")


def drive_case(index: int, rng: random.Random) -> list[RecordRequest]:
    """The steps of one case along a random path, from receipt to its last reminder."""
    matter = rng.choice(MATTERS)
    day = FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days))
    received_at = at(day, rng.randrange(8, 18), rng.randrange(60))
    needed = demanded(matter)
    brought = needed if rng.random() < 0.8 else needed[:-1]
    receiving = clerk(rng.choice(CLERKS))
    case = Case.receive(
        case_no=f"371600-{day:%Y%m%d}-{index:06d}",
        catalogue_version=CATALOGUE.version,
        matter=matter,
        applicant=APPLICANT,
        materials=[material(code) for code in brought],
        clerk=receiving,
        now=received_at,
        calendar=CALENDAR,
        review_periods_capped=True,
        policy=CasePolicy(),
    )
    driver = Driver(case, received_at)
    intake(driver, rng)
    left_open = rng.random() < 0.05
    if driver.stage in (Stage.IN_REVIEW, Stage.AWAITING_SUPPLEMENT):
        review(driver, rng, matter, looks=rng.randint(1, 4) if left_open else 300)
    if left_open and not driver.case.state.is_closed:
        return driver.steps
    finish(driver, rng, matter)
    aftercare(driver, rng)
    driver.wait_until(driver.now + timedelta(days=20))
    return driver.steps


def intake(d: Driver, rng: random.Random) -> None:
    """At the window: refused, a one-time notice (then a supplement, or a lapse), a deemed
    acceptance, or an acceptance (R1, R3, R6)."""
    window = clerk(d.case.state.clerk.id)
    if rng.random() < 0.04:
        d.act(Refuse(actor=window, reason="申请材料不齐全且不予补正"), d.later(rng, 1, 30))
        return
    missing = d.case.missing_materials()
    if missing:
        d.act(IssueNotice(actor=window), d.later(rng, 1, 30))
        if rng.random() < 0.15:
            d.wait_until(d.now + timedelta(days=35))
            return
        supplement = Supplement(actor=window, materials=tuple(material(c) for c in missing))
        d.act(supplement, d.later(rng, 24, 240))
    if rng.random() < 0.08:
        d.wait_for(lambda: d.stage is not Stage.RECEIVED)
    else:
        d.act(Accept(actor=window), d.later(rng, 0.5, 40))


def review(d: Driver, rng: random.Random, matter: Matter, looks: int) -> None:
    """The departments answer as each one's plan says; a joint meeting, a complaint or a
    withdrawal now and then; supplements come, or not (R7–R11, R18, R20). After ``looks``
    looks the case is left as it stands (still open at the end of the record)."""
    plans: dict[str, str] = {}
    meeting, complaint, withdrawal = (rng.random() < p for p in (0.08, 0.06, 0.04))
    lapse = rng.random() < 0.1
    for _ in range(looks):
        if d.stage is Stage.AWAITING_SUPPLEMENT:
            if lapse:
                d.wait_until(d.now + timedelta(days=35))
                return
            asked = d.case.state.open_notice_items
            sent = Supplement(
                actor=applicant_actor(), materials=tuple(material(i.code) for i in asked)
            )
            d.act(sent, d.later(rng, 24, 200))
            continue
        if d.stage is not Stage.IN_REVIEW:
            return
        d.wait_until(d.later(rng, 2, 20))
        if d.stage is not Stage.IN_REVIEW:
            continue
        roll = rng.random()
        if withdrawal and roll < 0.04:
            d.act(Withdraw(actor=applicant_actor()), d.now)
            return
        if complaint and roll < 0.1:
            complaint = False
            concerns = rng.sample([*d.case.state.tasks, WINDOW], k=rng.randint(0, 2))
            d.act(
                Complain(actor=applicant_actor(), text="办理进度缓慢", concerns=tuple(concerns)),
                d.now,
            )
            continue
        if meeting and roll < 0.2:
            meeting = False
            hold_meeting(d, rng)
            continue
        answer_tasks(d, rng, matter, plans)


def hold_meeting(d: Driver, rng: random.Random) -> None:
    """A joint meeting with some pending departments absent (缺席默认, R10)."""
    departments = list(d.case.state.tasks)
    pending = [t.department for t in d.case.state.tasks_in(TaskState.PENDING)]
    absent = rng.sample(pending, k=rng.randint(1, len(pending))) if pending else []
    present = [dep for dep in departments if dep not in absent] or departments[:1]
    absent = [dep for dep in absent if dep not in present]
    facts = {"present": tuple(present), "absent": tuple(absent), "minutes": "联合审查会议纪要"}
    d.act(RecordMeeting(actor=supervisor(), **facts), d.now)


def answer_tasks(d: Driver, rng: random.Random, matter: Matter, plans: dict[str, str]) -> None:
    """Each pending department acts on its plan, about every other look."""
    askable = [m.code for m in matter.demanded_materials]
    for task in d.case.state.tasks_in(TaskState.PENDING):
        if d.stage is not Stage.IN_REVIEW:
            return
        plan = plans.setdefault(task.department, rng.choice(REVIEW_PLANS))
        if rng.random() < 0.5:
            continue
        department = task.department
        if plan == "silent" and not task.escalated:
            continue
        if plan == "reject":
            d.act(reject(department), d.now)
        elif plan == "ask" and task.round == 1 and d.case.state.consolidated_items is None:
            d.act(request(department, item(rng.choice(askable))), d.now)
        elif plan != "silent" or rng.random() < 0.3:
            d.act(approve(department), d.now)


def finish(d: Driver, rng: random.Random, matter: Matter) -> None:
    """The fee (R15) and the delivery, now and then late (R16)."""
    window = clerk(d.case.state.clerk.id)
    if d.stage is Stage.AWAITING_FEE:
        fee = CollectFee(actor=window, amount_yuan=matter.fee_yuan, receipt_no="SF-0001")
        d.act(fee, d.later(rng, 2, 72))
    if d.stage is Stage.AWAITING_DELIVERY:
        hours = (300, 400) if rng.random() < 0.05 else (1, 72)
        d.act(Deliver(actor=window), d.later(rng, *hours))


def aftercare(d: Driver, rng: random.Random) -> None:
    """A rating of the completed case, of any level, and the follow-ups answered on time,
    late or never (R20)."""
    if d.stage is Stage.COMPLETED and rng.random() < 0.85:
        level = rng.choice(list(RatingLevel))
        parties = [*d.case.state.tasks, WINDOW]
        concerns = tuple(rng.sample(parties, k=rng.randint(0, min(2, len(parties)))))
        rating = Rate(actor=applicant_actor(), level=level, concerns=concerns)
        d.act(rating, d.later(rng, 1, 300))
    answers = []
    for follow_up in d.case.state.follow_ups.values():
        plan = rng.choice(("on_time", "on_time", "late", "never"))
        due = follow_up.clock.deadline.due if follow_up.clock.deadline else d.now
        moment = d.later(rng, 1, 60) if plan == "on_time" else due + timedelta(hours=30)
        if plan != "never":
            answers.append((moment, follow_up.follow_up_no, follow_up.party))
    for moment, number, party in sorted(answers):
        actor = clerk() if party == WINDOW else reviewer(party)
        answer = AnswerFollowUp(
            actor=actor, follow_up_no=number, explanation="已核实", remedy="已整改"
        )
        d.act(answer, moment)


def simulated_cases() -> list[list[RecordRequest]]:
    """The steps of every case, the same on every run."""
    rng = random.Random(SEED)
    return [drive_case(index, rng) for index in range(1, CASES + 1)]


# ---- the stores -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def steps() -> list[list[RecordRequest]]:
    """The cases' steps, driven once for both stores."""
    return simulated_cases()


@pytest.fixture(scope="module", params=STORE_BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, steps: Any
) -> Iterator[sessionmaker[Session]]:
    """A store of its own on each backend, every case recorded into it step by step."""
    with _store_url(request, tmp_path_factory.mktemp("efficiency")) as url:
        sessions = open_store(url)
        try:
            for case_steps in steps:
                record_case_steps(sessions, case_steps)
            yield sessions
        finally:
            sessions.kw["bind"].dispose()


class _store_url:
    """An empty SQLite file, or a fresh PostgreSQL schema dropped afterwards."""

    def __init__(self, request: pytest.FixtureRequest, directory: Path) -> None:
        self.request, self.directory = request, directory
        self.schema: str | None = None

    def __enter__(self) -> str:
        if self.request.param == "sqlite":
            return f"sqlite:///{self.directory / 'store.sqlite3'}"
        admin: Engine = self.request.getfixturevalue("postgres_admin")
        self.schema = f"test_{uuid.uuid4().hex[:16]}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        url = make_url(admin.url).update_query_dict({"options": f"-csearch_path={self.schema}"})
        return url.render_as_string(hide_password=False)

    def __exit__(self, *_: object) -> None:
        if self.schema is None:
            return
        admin: Engine = self.request.getfixturevalue("postgres_admin")
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))


def record_case_steps(sessions: sessionmaker[Session], case_steps: list[RecordRequest]) -> None:
    """A case's steps, each through record_step as the store activity writes it (one
    transaction a case, each step from the tail the previous one left)."""
    tail: CaseTail | None = None
    with sessions.begin() as session:
        for step in case_steps:
            tail = record_step(session, KEY, step, tail)


# ---- the independent count over the stored events ------------------------------------------


@dataclass
class TaskFacts:
    """A department's task as its events tell it."""

    dispatched_at: datetime | None = None
    state: str = TaskState.WAITING.value
    overdue: bool = False
    escalated: bool = False
    absent: bool = False
    asked: bool = False
    used_wd: int | None = None


@dataclass
class FollowUpFacts:
    """A follow-up as its events tell it."""

    party: str
    cause: str
    opened_at: datetime
    on_time: bool | None = None


@dataclass
class CaseFacts:
    """A case as its stored events tell it."""

    matter: str
    clerk: str
    received_at: datetime
    accepted: bool = False
    deemed_accepted: bool = False
    intake_notices: int = 0
    approved: bool | None = None
    closed_stage: str | None = None
    rating: str | None = None
    rated_at: datetime | None = None
    tasks: dict[str, TaskFacts] = field(default_factory=lambda: defaultdict(TaskFacts))
    follow_ups: dict[str, FollowUpFacts] = field(default_factory=dict)
    marks: list[tuple[str, str, datetime]] = field(default_factory=list)
    """(party, colour, at) of every reminder and red mark."""


def fold(events: list[CaseEvent]) -> CaseFacts:
    """The facts of a case from its events alone."""
    first = events[0]
    assert isinstance(first, ApplicationReceived)
    facts = CaseFacts(matter=first.matter_code, clerk=first.actor.id, received_at=first.at)
    for event in events[1:]:
        _fold_case(facts, event)
        if isinstance(event, ReviewTaskDispatched | SupplementForwarded | TaskAnswer):
            _fold_task(facts.tasks[event.department], event)
        if isinstance(event, ReviewTaskCancelled):
            facts.tasks[event.department].state = TaskState.CANCELLED.value
    return facts


def _fold_case(facts: CaseFacts, event: CaseEvent) -> None:
    if isinstance(event, ApplicationAccepted | ApplicationDeemedAccepted):
        facts.accepted = True
        facts.deemed_accepted = isinstance(event, ApplicationDeemedAccepted)
    elif isinstance(event, OneTimeNoticeIssued):
        facts.intake_notices += 1
    elif isinstance(event, CaseApproved | CaseRejected):
        facts.approved = isinstance(event, CaseApproved)
    elif isinstance(event, CaseClosed):
        facts.closed_stage = event.stage.value
    elif isinstance(event, CaseRated):
        facts.rating, facts.rated_at = event.level.value, event.at
    elif isinstance(event, FollowUpOpened):
        facts.follow_ups[event.follow_up_no] = FollowUpFacts(
            event.party, event.cause.value, event.at
        )
    elif isinstance(event, FollowUpAnswered):
        facts.follow_ups[event.follow_up_no].on_time = event.on_time
    elif isinstance(event, ClockWarned | RedMarkRecorded):
        colour = "yellow" if isinstance(event, ClockWarned) else "red"
        facts.marks.append((event.party, colour, event.at))


def _fold_task(task: TaskFacts, event: CaseEvent) -> None:
    if isinstance(event, TaskAnswer) and event.used_wd is not None:
        task.used_wd = event.used_wd
    if isinstance(event, ReviewTaskDispatched):
        task.dispatched_at = task.dispatched_at or event.at
        task.state = TaskState.PENDING.value
    elif isinstance(event, SupplementForwarded):
        task.state = TaskState.PENDING.value
    elif isinstance(event, ReviewApproved):
        task.state = TaskState.APPROVED.value
    elif isinstance(event, ReviewRejected):
        task.state = TaskState.REJECTED.value
    elif isinstance(event, ReviewSupplementRequested):
        task.state, task.asked = TaskState.SUPPLEMENT_REQUESTED.value, True
    elif isinstance(event, ReviewDeemedApproved):
        task.state, task.overdue = TaskState.DEEMED_APPROVED.value, True
    elif isinstance(event, ReviewDeemedApprovedInAbsence):
        task.state, task.absent = TaskState.DEEMED_APPROVED.value, True
    elif isinstance(event, ReviewEscalated):
        task.overdue = task.escalated = True


@pytest.fixture(scope="module")
def facts(store: sessionmaker[Session]) -> list[CaseFacts]:
    """Every case's facts, folded from the store's audit log."""
    with store() as session:
        rows = session.scalars(select(CaseEventRow).order_by(CaseEventRow.case_no)).all()
    by_case: dict[str, list[CaseEventRow]] = defaultdict(list)
    for row in rows:
        by_case[row.case_no].append(row)
    return [fold(as_events(case_rows)) for case_rows in by_case.values()]


# ---- the expected figures --------------------------------------------------------------------


def instant(day: date) -> datetime:
    """Midnight in Shanghai at the start of ``day``."""
    return datetime.combine(day, time(), SHANGHAI)


@dataclass(frozen=True)
class Within:
    """A period and the filters, as the test reads them."""

    start: datetime
    end: datetime
    department: str | None
    matter: str | None

    def has(self, moment: datetime | None) -> bool:
        """Whether ``moment`` lies in the period."""
        return moment is not None and self.start <= moment < self.end

    def against(self, party: str) -> bool:
        """Whether a mark or follow-up against ``party`` counts for the department's share."""
        return self.department in (None, party)

    def reviewed(self, case: CaseFacts) -> bool:
        """Whether the case counts for the department's share."""
        if self.department is None:
            return True
        task = case.tasks.get(self.department)
        return task is not None and task.dispatched_at is not None


def rate(part: int, whole: int) -> float:
    """The test's own share, 1 with nothing to count."""
    return 1.0 if whole == 0 else part / whole


def percentile(values: list[int], percent: int) -> int | None:
    """The nearest-rank percentile, from the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (percent * len(ordered) + 99) // 100
    return ordered[position - 1]


def period_wd(matter: str, department: str) -> int:
    """The department's period for the matter, in the catalogue."""
    return CATALOGUE.matter(matter).review(department).period_wd


def task_part(tasks: list[tuple[str, str, TaskFacts]]) -> dict[str, Any]:
    """The task figures of (matter, department, task) triples."""
    decided = [t for _, _, t in tasks if t.state in ("approved", "rejected", "deemed_approved")]
    on_time = sum(t.state in ("approved", "rejected") and not t.overdue for _, _, t in tasks)
    answered = [(m, d, t.used_wd) for m, d, t in tasks if t.used_wd is not None]
    used = [u for _, _, u in answered if u is not None]
    periods = [period_wd(m, d) for m, d, _ in answered]
    return {
        "tasks.received": len(tasks),
        "tasks.decided": len(decided),
        "tasks.on_time": on_time,
        "tasks.deemed_by_silence": sum(
            t.state == "deemed_approved" and not t.absent for t in decided
        ),
        "tasks.absence_consents": sum(t.absent for _, _, t in tasks),
        "tasks.escalations": sum(t.escalated for _, _, t in tasks),
        "tasks.supplement_requests": sum(t.asked for _, _, t in tasks),
        "tasks.rejections": sum(t.state == "rejected" for _, _, t in tasks),
        "tasks.on_time_rate": rate(on_time, len(decided)),
        "working_days.answered": len(used),
        "working_days.median_used_wd": percentile(used, 50),
        "working_days.p90_used_wd": percentile(used, 90),
        "working_days.median_period_wd": percentile(periods, 50),
        "working_days.p90_period_wd": percentile(periods, 90),
    }


def marks_part(prefix: str, colours: list[str]) -> dict[str, Any]:
    """Reminders and red marks."""
    return {
        f"{prefix}reminders": colours.count("yellow"),
        f"{prefix}red_marks": colours.count("red"),
    }


def ratings_part(levels: list[str]) -> dict[str, Any]:
    """Ratings by level."""
    counts = Counter(levels)
    bad = sum(counts[level] for level in BAD)
    part = {f"ratings.{level.value}": counts[level.value] for level in RatingLevel}
    return part | {
        "ratings.total": len(levels),
        "ratings.bad": bad,
        "ratings.satisfaction_rate": rate(len(levels) - bad, len(levels)),
    }


def follow_ups_part(follow_ups: list[FollowUpFacts]) -> dict[str, Any]:
    """Follow-ups of bad ratings and of complaints."""
    part: dict[str, Any] = {}
    for cause, name in (("rating", "rating_follow_ups"), ("complaint", "complaints")):
        mine = [f for f in follow_ups if f.cause == cause]
        on_time = sum(f.on_time is True for f in mine)
        late = sum(f.on_time is False for f in mine)
        part |= {
            f"{name}.total": len(mine),
            f"{name}.on_time": on_time,
            f"{name}.late": late,
            f"{name}.unanswered": len(mine) - on_time - late,
            f"{name}.on_time_rate": rate(on_time, len(mine)),
        }
    return part


def expected_departments(cases: list[CaseFacts], w: Within) -> list[dict[str, Any]]:
    """Every department's row, by rank, as counted from the events."""
    tasks: dict[str, list[tuple[str, str, TaskFacts]]] = defaultdict(list)
    colours: dict[str, list[str]] = defaultdict(list)
    levels: dict[str, list[str]] = defaultdict(list)
    follow_ups: dict[str, list[FollowUpFacts]] = defaultdict(list)
    for case in cases:
        if w.matter not in (None, case.matter):
            continue
        for department, task in case.tasks.items():
            if w.has(task.dispatched_at):
                tasks[department].append((case.matter, department, task))
            if task.dispatched_at is not None and w.has(case.rated_at):
                assert case.rating is not None
                levels[department].append(case.rating)
        for party, colour, moment in case.marks:
            if party not in (WINDOW, "applicant") and w.has(moment):
                colours[party].append(colour)
        for follow_up in case.follow_ups.values():
            if follow_up.party != WINDOW and w.has(follow_up.opened_at):
                follow_ups[follow_up.party].append(follow_up)
    listed = {*tasks, *colours, *levels, *follow_ups}
    if w.department is not None:
        listed = {w.department}
    rows = [
        department_row(d, tasks[d], colours[d], levels[d], follow_ups[d]) for d in sorted(listed)
    ]
    return ranked(rows)


def department_row(
    department: str,
    tasks: list[tuple[str, str, TaskFacts]],
    colours: list[str],
    levels: list[str],
    follow_ups: list[FollowUpFacts],
) -> dict[str, Any]:
    """One department's row, its score by the weights' formula."""
    names = {r.department: r.name for m in CATALOGUE.matters for r in m.reviews}
    row: dict[str, Any] = {"department": department, "name": names[department]}
    row |= task_part(tasks) | marks_part("marks.", colours) | ratings_part(levels)
    row |= follow_ups_part(follow_ups)
    answered = sum(f.on_time is True for f in follow_ups)
    row["follow_up_rate"] = rate(answered, len(follow_ups))
    weighted = (
        WEIGHTS.on_time * row["tasks.on_time_rate"]
        + WEIGHTS.satisfaction * row["ratings.satisfaction_rate"]
        + WEIGHTS.follow_up * row["follow_up_rate"]
    )
    red_per_100 = row["marks.red_marks"] * 100 / (len(tasks) or 1)
    row["score"] = weighted * 100 - red_per_100 * WEIGHTS.red_mark_points
    return row


def ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Highest score first, then by code; equal scores share the rank of the first."""
    rows = sorted(rows, key=lambda r: (-round(r["score"], 9), r["department"]))
    for position, row in enumerate(rows, start=1):
        higher = [r for r in rows if round(r["score"], 9) > round(row["score"], 9)]
        row["rank"] = len(higher) + 1
        assert row["rank"] <= position
    return rows


def expected_matters(cases: list[CaseFacts], w: Within) -> list[dict[str, Any]]:
    """Every matter's row (the department's share, with a department), by code."""
    rows: dict[str, dict[str, Any]] = {}
    grouped: dict[str, list[CaseFacts]] = defaultdict(list)
    for case in cases:
        if w.matter in (None, case.matter):
            grouped[case.matter].append(case)
    for matter, mine in grouped.items():
        row = matter_row(matter, mine, w)
        counted = ("cases.received", "tasks.received", "marks.reminders", "marks.red_marks")
        others = ("ratings.total", "rating_follow_ups.total", "complaints.total")
        if any(row[key] for key in (*counted, *others)):
            rows[matter] = row
    if w.matter is not None and w.matter not in rows:
        rows[w.matter] = matter_row(w.matter, [], w)
    return [rows[m] for m in sorted(rows)]


def matter_row(matter: str, cases: list[CaseFacts], w: Within) -> dict[str, Any]:
    """One matter's row."""
    received = [c for c in cases if w.has(c.received_at) and w.reviewed(c)]
    row: dict[str, Any] = {"matter_code": matter, "matter_name": CATALOGUE.matter(matter).name}
    row |= {
        "cases.received": len(received),
        "cases.accepted": sum(c.accepted for c in received),
        "cases.deemed_accepted": sum(c.deemed_accepted for c in received),
        "cases.intake_notices": sum(c.intake_notices for c in received),
        "cases.not_accepted": sum(c.closed_stage == "not_accepted" for c in received),
        "cases.withdrawn": sum(c.closed_stage == "withdrawn" for c in received),
        "cases.approved": sum(c.approved is True for c in received),
        "cases.rejected": sum(c.approved is False for c in received),
        "cases.completed": sum(c.closed_stage == "completed" for c in received),
    }
    tasks = [
        (matter, d, t)
        for c in cases
        for d, t in c.tasks.items()
        if w.has(t.dispatched_at) and w.department in (None, d)
    ]
    colours = [col for c in cases for p, col, m in c.marks if w.has(m) and w.against(p)]
    levels = [c.rating for c in cases if w.has(c.rated_at) and w.reviewed(c) and c.rating]
    follow_ups = [
        f for c in cases for f in c.follow_ups.values() if w.has(f.opened_at) and w.against(f.party)
    ]
    row |= task_part(tasks) | marks_part("marks.", colours) | ratings_part(levels)
    return row | follow_ups_part(follow_ups)


def expected_window(
    cases: list[CaseFacts], w: Within
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The window's row in total and its clerks' rows."""
    by_clerk: dict[str | None, list[CaseFacts]] = defaultdict(list)
    for case in cases:
        if w.matter in (None, case.matter):
            by_clerk[case.clerk].append(case)
    every = [c for mine in by_clerk.values() for c in mine]
    rows = [{"clerk_id": clerk} | window_row(mine, w) for clerk, mine in sorted(by_clerk.items())]
    rows = [
        r
        for r in rows
        if any(v for k, v in r.items() if k != "clerk_id" and not k.endswith("rate"))
    ]
    return window_row(every, w), rows


def window_row(cases: list[CaseFacts], w: Within) -> dict[str, Any]:
    """The window's figures over ``cases``."""
    received = [c for c in cases if w.has(c.received_at)]
    colours = [col for c in cases for p, col, m in c.marks if p == WINDOW and w.has(m)]
    follow_ups = [
        f for c in cases for f in c.follow_ups.values() if f.party == WINDOW and w.has(f.opened_at)
    ]
    row = {
        "cases_received": len(received),
        "intake_notices": sum(c.intake_notices for c in received),
        "deemed_acceptances": sum(c.deemed_accepted for c in received),
    }
    return row | marks_part("marks.", colours) | follow_ups_part(follow_ups)


def rounded(row: dict[str, Any]) -> dict[str, Any]:
    """Floats to nine decimals (sums of floats differ in their last bits)."""
    return {k: round(v, 9) if isinstance(v, float) else v for k, v in row.items()}


def assert_report_is_the_count(report: EfficiencyReport, cases: list[CaseFacts], w: Within) -> None:
    """Every figure of every department, matter, clerk and the window's total as counted."""
    departments = [rounded(flat(f)) for f in report.departments]
    assert departments == [rounded(r) for r in expected_departments(cases, w)]
    matters = [rounded(flat(f)) for f in report.matters]
    assert matters == [rounded(r) for r in expected_matters(cases, w)]
    total, clerks = expected_window(cases, w)
    window = flat(report.window)
    assert rounded(window) == rounded(total)
    assert [rounded(flat(c)) for c in report.window.clerks] == [rounded(r) for r in clerks]


def report_of(
    sessions: sessionmaker[Session],
    period: ReportPeriod,
    department: str | None = None,
    matter: str | None = None,
) -> EfficiencyReport:
    """The module's report, in a session of its own."""
    with sessions() as session:
        return efficiency_report(session, CATALOGUE, period, department=department, matter=matter)


def within(
    period: ReportPeriod, department: str | None = None, matter: str | None = None
) -> Within:
    """The test's reading of the period."""
    return Within(instant(period.start), instant(period.end), department, matter)


# ---- the tests ------------------------------------------------------------------------------

PERIODS = [
    ReportPeriod.year(2026),
    *(ReportPeriod.quarter(2026, q) for q in (1, 2, 3, 4)),
    ReportPeriod.month(2026, 3),
    ReportPeriod.month(2026, 12),
    ReportPeriod.month(2027, 1),
    ReportPeriod(start=date(2026, 5, 13), end=date(2026, 6, 2)),
    ReportPeriod(start=date(2025, 1, 1), end=date(2028, 1, 1)),
]


def test_R19_R20_the_store_holds_every_path(facts: list[CaseFacts]) -> None:
    """R3, R9, R10, R11, R18, R19, R20: the driven cases cover every path the figures count:
    acceptances and deemed acceptances, refusals, lapses and withdrawals, approvals and
    rejections, silent consents, escalations, absences, supplement requests, reminders and
    red marks of departments and the window, ratings of every level, bad ratings and complaints
    followed up on time, late and never, cases still open; some marks fall on the first instant
    of a month, and some of it after 2026."""
    tasks = [t for c in facts for t in c.tasks.values()]
    follow_ups = [f for c in facts for f in c.follow_ups.values()]
    assert len(facts) == CASES
    assert {c.closed_stage for c in facts} >= {"completed", "withdrawn", "not_accepted", None}
    assert sum(c.deemed_accepted for c in facts) and sum(c.intake_notices for c in facts)
    assert {c.approved for c in facts} == {True, False, None}
    states = Counter(t.state for t in tasks)
    assert all(states[s] for s in ("approved", "rejected", "deemed_approved", "cancelled"))
    assert states["pending"], "cases left open with tasks pending"
    assert sum(t.absent for t in tasks) and sum(t.escalated for t in tasks)
    assert sum(t.asked for t in tasks) and sum(t.overdue and t.state == "approved" for t in tasks)
    assert {c.rating for c in facts} == {*(level.value for level in RatingLevel), None}
    assert {(f.cause, f.on_time) for f in follow_ups} == {
        (cause, on_time) for cause in ("rating", "complaint") for on_time in (True, False, None)
    }
    parties = {(p, colour) for c in facts for p, colour, _ in c.marks}
    assert {(WINDOW, "red"), (WINDOW, "yellow"), ("ZJJ", "red"), ("ZJJ", "yellow")} <= parties
    assert any(t.dispatched_at and t.dispatched_at >= instant(date(2027, 1, 1)) for t in tasks)
    month_starts = {instant(date(2026, month, 1)) for month in range(1, 13)}
    assert any(moment in month_starts for c in facts for _, _, moment in c.marks)
    assert any(c.accepted and c.closed_stage is None for c in facts)


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p.start}..{p.end}")
def test_R19_R20_every_figure_of_a_period_is_the_count_over_the_events(
    store: sessionmaker[Session], facts: list[CaseFacts], period: ReportPeriod
) -> None:
    """R19, R20: for a year, each quarter, months (one that runs into the next year), days
    across a month's end and a span of years, every figure of every department (with its score
    and rank), every matter, every clerk and the window equals the count over the stored
    events: tasks by their first dispatch, ratings by when they were given, follow-ups by when
    they were opened, marks by when they were made, intake by receipt."""
    assert_report_is_the_count(report_of(store, period), facts, within(period))


def test_R19_R20_a_departments_figures_are_its_own_share(
    store: sessionmaker[Session], facts: list[CaseFacts]
) -> None:
    """R19, R20: for each department, the report narrowed to it lists it alone, with the
    figures of the full report, and each matter's figures are its share: its tasks, the marks
    and follow-ups against it, the ratings and case counts of the cases it reviewed; the
    window's figures stay whole."""
    period = ReportPeriod.year(2026)
    full = {f.department: f for f in report_of(store, period).departments}
    for department in sorted(full):
        report = report_of(store, period, department=department)
        (figures,) = report.departments
        assert figures.model_copy(update={"rank": 0}) == full[department].model_copy(
            update={"rank": 0}
        )
        assert figures.rank == 1
        assert_report_is_the_count(report, facts, within(period, department=department))


def test_R19_R20_a_matters_figures_are_its_cases_only(
    store: sessionmaker[Session], facts: list[CaseFacts]
) -> None:
    """R19, R20: narrowed to a matter (or a matter and a department), every figure counts the
    cases of that matter only; a matter with nothing in the period is listed with zeros."""
    period = ReportPeriod.quarter(2026, 2)
    for matter in (m.code for m in MATTERS):
        report = report_of(store, period, matter=matter)
        assert [m.matter_code for m in report.matters] == [matter]
        assert_report_is_the_count(report, facts, within(period, matter=matter))
    both = report_of(store, period, department="ZRZY", matter="JS-SGXK-001")
    assert_report_is_the_count(both, facts, within(period, "ZRZY", "JS-SGXK-001"))
    empty = report_of(store, ReportPeriod.month(2025, 6), matter="JS-GHXK-001")
    assert empty.departments == () and empty.matters[0].cases.received == 0


def test_R19_the_periods_are_days_in_shanghai() -> None:
    """R17, R19: a month, a quarter and a year run from midnight in Shanghai of their first
    day to midnight of the day after their last; an empty period is refused."""
    assert ReportPeriod.month(2026, 12) == ReportPeriod(
        start=date(2026, 12, 1), end=date(2027, 1, 1)
    )
    assert ReportPeriod.quarter(2026, 3) == ReportPeriod(
        start=date(2026, 7, 1), end=date(2026, 10, 1)
    )
    year = ReportPeriod.year(2026)
    assert (year.start, year.end) == (date(2026, 1, 1), date(2027, 1, 1))
    assert year.starts_at == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert year.ends_at == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    with pytest.raises(ValueError):
        ReportPeriod(start=date(2026, 3, 1), end=date(2026, 3, 1))
    with pytest.raises(ValueError):
        ReportPeriod.quarter(2026, 5)


def test_R19_R20_the_score_and_the_percentiles_by_hand() -> None:
    """R19, R20: the score by the catalogue's formula — 100 × (0.5 × 0.9 + 0.3 × 0.75 + 0.2 × 1)
    − 2 × (3 red marks in 60 tasks: 5 per 100) = 87.5 − 10; with no task, red marks count as
    per one task; the nearest-rank median and p90 of a histogram."""
    score = composite_score(
        WEIGHTS, on_time_rate=0.9, satisfaction_rate=0.75, follow_up_rate=1.0, red_marks=3, tasks=60
    )
    assert score == pytest.approx(87.5 - 10)
    assert composite_score(
        WEIGHTS, on_time_rate=1, satisfaction_rate=1, follow_up_rate=1, red_marks=1, tasks=0
    ) == pytest.approx(100 - 200)
    histogram = {1: 4, 2: 3, 5: 2, 9: 1}
    assert (nearest_rank(histogram, 50), nearest_rank(histogram, 90)) == (2, 5)
    assert nearest_rank({}, 50) is None
    assert nearest_rank({7: 10}, 90) == 7
