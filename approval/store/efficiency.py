"""The efficiency figures (效能评估, R19, R20) from the read model alone: per department, per
matter and for the window (per receiving clerk, 首问负责, and in total), over any period of days
[start, end) in Asia/Shanghai, optionally for one department or one matter.

What belongs to a period: a review task to the period of its first dispatch
(``dispatched_at``); a rating to its ``rated_at``; a follow-up — of a bad rating or a complaint
— to its ``opened_at``; a reminder (催办) or red mark (红牌) to its ``marked_at``; a case's intake
(the window's cases, one-time notices and deemed acceptances, and each matter's case counts) to
its ``received_at``. The window's reminders, red marks and follow-ups are the window's party's
(``window``), each counted for the clerk who received its case.

Every count is made by the database: six GROUP BY queries with COUNT and SUM over CASE,
whatever the number of cases, on SQLite and PostgreSQL alike. Medians and p90s of working days
come from the same grouping of the tasks by (matter, department, used_wd): a histogram of small
integers, read in Python. A period's length is not kept once its task is decided, so the period
a task used its days against is the catalogue's (``catalogue.matter(code).review(department)``);
a task whose matter or department the catalogue does not know has none.

The composite score of a department, out of 100, as ``ScoreWeights`` states it::

    score = 100 × (on_time × on-time rate + satisfaction × satisfaction rate
                   + follow_up × follow-up rate)
            − red_mark_points × red marks per 100 tasks

- on-time rate: tasks decided on time (approved or rejected by a person, not overdue) of the
  tasks decided (approved, rejected or deemed approved);
- satisfaction rate: ratings not bad (all but 不满意 and 非常不满意) of the ratings of the cases
  the department reviewed (had a task dispatched);
- follow-up rate: follow-ups addressed to it (of bad ratings and of complaints) answered on
  time, of all its follow-ups;
- a rate with nothing to count counts as 1;
- red marks per 100 tasks: 100 × its red marks (every clock) / the tasks it received (a
  department that received none counts as having received one).

Departments are ranked by score, highest first; equal scores share a rank. A department,
matter or clerk is listed when anything of it counts in the period (and the one a filter
names, even with nothing).

With ``department``, the departments' figures are that department's alone, and each matter's
are its share: its tasks, the marks and follow-ups against it, the ratings and case counts of
the cases it reviewed. The window's figures are never narrowed by a department. ``matter``
narrows everything to the cases of that matter.

Like the other readers, nothing here commits: sessions belong to the caller.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, computed_field, model_validator
from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from approval.domain.calendar import SHANGHAI
from approval.domain.catalogue import Catalogue, ScoreWeights
from approval.domain.errors import DomainError
from approval.domain.models import APPLICANT_PARTY, BAD_RATINGS, WINDOW, RatingLevel
from approval.domain.state import FollowUpCause, Stage, TaskState
from approval.store.schema import CaseRow, FollowUpRow, ReviewTaskRow, SupervisionMarkRow

DECIDED = tuple(
    s.value for s in (TaskState.APPROVED, TaskState.REJECTED, TaskState.DEEMED_APPROVED)
)
BY_A_PERSON = (TaskState.APPROVED.value, TaskState.REJECTED.value)
NOT_DEPARTMENTS = frozenset({WINDOW, APPLICANT_PARTY})
"""Parties of marks and follow-ups that are no department."""


def rate(part: int, whole: int) -> float:
    """``part`` of ``whole``; 1 when there is nothing to count."""
    return part / whole if whole else 1.0


def nearest_rank(histogram: Mapping[int, int], percent: int) -> int | None:
    """The nearest-rank percentile of a histogram (value → how many): the smallest value at or
    below which at least ``percent`` % of the counted lie; None when nothing is counted."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank, seen = -(-percent * total // 100), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the counts add up to the total")


# ---- the figures --------------------------------------------------------------------------


class Figures(BaseModel):
    """Immutable figures; ``model_dump`` gives them to an API, ``flat`` to a table."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ReportPeriod(Figures):
    """The days [start, end) in Asia/Shanghai that a report covers."""

    start: date
    end: date

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start >= self.end:
            raise ValueError("end: the period must end after it starts")
        return self

    @classmethod
    def month(cls, year: int, month: int) -> ReportPeriod:
        """The calendar month."""
        end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return cls(start=date(year, month, 1), end=end)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> ReportPeriod:
        """The quarter (1–4) of the year."""
        if not 1 <= quarter <= 4:
            raise ValueError(f"quarter: {quarter} is not 1–4")
        first = cls.month(year, 3 * quarter - 2)
        return cls(start=first.start, end=cls.month(year, 3 * quarter).end)

    @classmethod
    def year(cls, year: int) -> ReportPeriod:
        """The calendar year."""
        return cls(start=date(year, 1, 1), end=date(year + 1, 1, 1))

    @property
    def starts_at(self) -> datetime:
        """The first instant of the period: midnight in Shanghai of its first day."""
        return datetime.combine(self.start, time(), SHANGHAI)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end, time(), SHANGHAI)


class TaskCounts(Figures):
    """Review tasks first dispatched in the period, and how they stand (R8–R11, R19)."""

    received: int = 0
    decided: int = 0
    """Approved, rejected or deemed approved (by silence or absence)."""
    on_time: int = 0
    """Approved or rejected by the department's reviewer, not overdue."""
    deemed_by_silence: int = 0
    """超时默认 (R9)."""
    absence_consents: int = 0
    """缺席默认 (R10)."""
    escalations: int = 0
    supplement_requests: int = 0
    rejections: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def on_time_rate(self) -> float:
        """Decided on time of the tasks decided."""
        return rate(self.on_time, self.decided)


class WorkingDays(Figures):
    """Working days the answered tasks used, against their periods (nearest-rank median and
    p90; None when no task was answered)."""

    answered: int = 0
    """Tasks answered (their working days used are known)."""
    median_used_wd: int | None = None
    p90_used_wd: int | None = None
    median_period_wd: int | None = None
    p90_period_wd: int | None = None

    @classmethod
    def of(cls, used: Mapping[int, int], periods: Mapping[int, int]) -> WorkingDays:
        """From the histograms of working days used and of the periods."""
        return cls(
            answered=sum(used.values()),
            median_used_wd=nearest_rank(used, 50),
            p90_used_wd=nearest_rank(used, 90),
            median_period_wd=nearest_rank(periods, 50),
            p90_period_wd=nearest_rank(periods, 90),
        )


class MarkCounts(Figures):
    """Reminders (yellow, 催办) and red marks (红牌) of supervised clocks (R19)."""

    reminders: int = 0
    red_marks: int = 0


class RatingCounts(Figures):
    """Ratings by level (好差评, R20)."""

    very_satisfied: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    very_dissatisfied: int = 0

    @classmethod
    def of(cls, by_level: Mapping[str, int]) -> RatingCounts:
        """From counts by RatingLevel value."""
        return cls(**{level.value: by_level.get(level.value, 0) for level in RatingLevel})

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        """Every rating."""
        return sum(getattr(self, level.value) for level in RatingLevel)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def bad(self) -> int:
        """不满意 and 非常不满意."""
        return sum(getattr(self, level.value) for level in BAD_RATINGS)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def satisfaction_rate(self) -> float:
        """Ratings not bad of all ratings."""
        return rate(self.total - self.bad, self.total)


class FollowUps(Figures):
    """Follow-ups (整改) of one cause: how many, answered on time, answered late (R20)."""

    total: int = 0
    on_time: int = 0
    late: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unanswered(self) -> int:
        """Not answered yet."""
        return self.total - self.on_time - self.late

    @computed_field  # type: ignore[prop-decorator]
    @property
    def on_time_rate(self) -> float:
        """Answered on time of all."""
        return rate(self.on_time, self.total)


class CaseCounts(Figures):
    """Cases received in the period, and how they stand."""

    received: int = 0
    accepted: int = 0
    deemed_accepted: int = 0
    """Accepted because the window did not answer in time (R3)."""
    intake_notices: int = 0
    """One-time notices (一次性告知书) issued at the window (R3)."""
    not_accepted: int = 0
    withdrawn: int = 0
    """Withdrawn by the applicant (R18) or deemed withdrawn (R6)."""
    approved: int = 0
    rejected: int = 0
    completed: int = 0


class DepartmentFigures(Figures):
    """One department's figures for the period, its composite score and its rank."""

    department: str
    name: str
    tasks: TaskCounts
    working_days: WorkingDays
    marks: MarkCounts
    ratings: RatingCounts
    """Of the cases it reviewed (a task dispatched at least once)."""
    rating_follow_ups: FollowUps
    complaints: FollowUps
    score: float
    rank: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def follow_up_rate(self) -> float:
        """Follow-ups of either cause answered on time, of all."""
        answered = self.rating_follow_ups.on_time + self.complaints.on_time
        return rate(answered, self.rating_follow_ups.total + self.complaints.total)


class MatterFigures(Figures):
    """One matter's figures for the period: its cases, their tasks, marks, ratings and
    follow-ups."""

    matter_code: str
    matter_name: str
    cases: CaseCounts
    tasks: TaskCounts
    working_days: WorkingDays
    marks: MarkCounts
    ratings: RatingCounts
    rating_follow_ups: FollowUps
    complaints: FollowUps


class WindowCounts(Figures):
    """The window's figures (首问负责): cases received, one-time notices, deemed acceptances,
    the window's reminders and red marks, and the follow-ups addressed to it."""

    cases_received: int = 0
    intake_notices: int = 0
    deemed_acceptances: int = 0
    marks: MarkCounts = MarkCounts()
    rating_follow_ups: FollowUps = FollowUps()
    complaints: FollowUps = FollowUps()


class ClerkFigures(WindowCounts):
    """The window's figures for the cases one clerk received (None: not recorded)."""

    clerk_id: str | None


class WindowFigures(WindowCounts):
    """The window's figures in total, and per receiving clerk."""

    clerks: tuple[ClerkFigures, ...] = ()


class EfficiencyReport(Figures):
    """The efficiency figures of a period: departments by rank, matters by code, the window."""

    period: ReportPeriod
    department: str | None = None
    matter: str | None = None
    weights: ScoreWeights
    departments: tuple[DepartmentFigures, ...]
    matters: tuple[MatterFigures, ...]
    window: WindowFigures


def composite_score(
    weights: ScoreWeights,
    *,
    on_time_rate: float,
    satisfaction_rate: float,
    follow_up_rate: float,
    red_marks: int,
    tasks: int,
) -> float:
    """The composite score out of 100, as the module's docstring states it."""
    weighted = (
        weights.on_time * on_time_rate
        + weights.satisfaction * satisfaction_rate
        + weights.follow_up * follow_up_rate
    )
    red_marks_per_100_tasks = 100 * red_marks / max(tasks, 1)
    return 100 * weighted - weights.red_mark_points * red_marks_per_100_tasks


def flat(figures: BaseModel) -> dict[str, Any]:
    """The figures as one row of scalars, nested names joined by dots (``tasks.received``):
    for a CSV or Excel export and a CLI table."""

    def walk(prefix: str, value: Any) -> Iterable[tuple[str, Any]]:
        if isinstance(value, dict):
            for key, inner in value.items():
                yield from walk(f"{prefix}{key}.", inner)
        elif not isinstance(value, list | tuple):
            yield prefix[:-1], value

    return dict(walk("", figures.model_dump(mode="json")))


# ---- the queries --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """The period's instants and the filters, as conditions of the queries."""

    start_at: datetime
    end_at: datetime
    department: str | None
    matter: str | None

    def of_period(self, moment: InstrumentedAttribute[Any]) -> list[ColumnElement[bool]]:
        """``moment`` within the period, of the matter when one is given (cases joined)."""
        conditions = [moment >= self.start_at, moment < self.end_at]
        if self.matter is not None:
            conditions.append(CaseRow.matter_code == self.matter)
        return conditions

    def of_department(self) -> list[ColumnElement[bool]]:
        """The review task of the department, when one is given."""
        return [] if self.department is None else [ReviewTaskRow.department == self.department]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _task_columns() -> dict[str, ColumnElement[Any]]:
    t = ReviewTaskRow
    return {
        "received": func.count(),
        "decided": _count_if(t.state.in_(DECIDED)),
        "on_time": _count_if(and_(t.state.in_(BY_A_PERSON), t.overdue.is_(False))),
        "deemed_by_silence": _count_if(
            and_(t.state == TaskState.DEEMED_APPROVED.value, t.absent_at_meeting.is_(False))
        ),
        "absence_consents": _count_if(t.absent_at_meeting.is_(True)),
        "escalations": _count_if(t.escalated.is_(True)),
        "supplement_requests": _count_if(t.supplement_requested.is_(True)),
        "rejections": _count_if(t.state == TaskState.REJECTED.value),
    }


def _case_columns() -> dict[str, ColumnElement[Any]]:
    c = CaseRow
    return {
        "received": func.count(),
        "accepted": _count_if(c.accepted_at.is_not(None)),
        "deemed_accepted": _count_if(c.deemed_accepted.is_(True)),
        "intake_notices": func.sum(c.intake_notices),
        "not_accepted": _count_if(c.stage == Stage.NOT_ACCEPTED.value),
        "withdrawn": _count_if(c.stage == Stage.WITHDRAWN.value),
        "approved": _count_if(c.approved.is_(True)),
        "rejected": _count_if(c.approved.is_(False)),
        "completed": _count_if(c.stage == Stage.COMPLETED.value),
    }


@dataclass(frozen=True)
class _Group:
    """One row of a grouped query: its keys and its counts."""

    keys: tuple[Any, ...]
    counts: dict[str, int]


def _grouped(
    session: Session,
    keys: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    counts: Mapping[str, ColumnElement[Any]],
    *,
    joined: bool,
    where: Sequence[ColumnElement[bool]],
    source: Any,
) -> list[_Group]:
    """``SELECT keys, counts FROM source [JOIN cases] WHERE … GROUP BY keys``. The keys
    begin with the case's matter: grouped by a task's department or a mark's party first,
    SQLite walks the table through the index that begins with it (ix_review_tasks_inbox,
    ix_supervision_marks_party) instead of scanning it, twice as slow at 100,000 cases
    (BENCHMARKS.md, "The efficiency report")."""
    stmt = select(*keys, *(column.label(name) for name, column in counts.items()))
    stmt = stmt.select_from(source)
    if joined:
        stmt = stmt.join(CaseRow, CaseRow.case_no == source.case_no)
    stmt = stmt.where(*where).group_by(*keys)
    width = len(keys)
    return [
        _Group(
            tuple(row[:width]), {n: int(v or 0) for n, v in zip(counts, row[width:], strict=True)}
        )
        for row in session.execute(stmt)
    ]


def _task_groups(session: Session, scope: _Scope) -> list[_Group]:
    """Tasks first dispatched in the period by (matter, department, used_wd)."""
    t = ReviewTaskRow
    return _grouped(
        session,
        (CaseRow.matter_code, t.department, t.used_wd),
        _task_columns(),
        joined=True,
        where=[*scope.of_period(t.dispatched_at), *scope.of_department()],
        source=t,
    )


def _mark_groups(session: Session, scope: _Scope) -> list[_Group]:
    """Reminders and red marks of the period by (matter, party, clerk, colour)."""
    m = SupervisionMarkRow
    keys = (CaseRow.matter_code, m.party, CaseRow.clerk_id, m.colour)
    return _grouped(
        session,
        keys,
        {"marks": func.count()},
        joined=True,
        where=scope.of_period(m.marked_at),
        source=m,
    )


def _follow_up_groups(session: Session, scope: _Scope) -> list[_Group]:
    """Follow-ups opened in the period by (matter, party, clerk, cause)."""
    f = FollowUpRow
    counts = {
        "total": func.count(),
        "on_time": _count_if(f.on_time.is_(True)),
        "late": _count_if(f.on_time.is_(False)),
    }
    keys = (CaseRow.matter_code, f.party, CaseRow.clerk_id, f.cause)
    return _grouped(
        session, keys, counts, joined=True, where=scope.of_period(f.opened_at), source=f
    )


def _department_rating_groups(session: Session, scope: _Scope) -> list[_Group]:
    """Ratings of the period by (matter, department, level), of the cases each department
    reviewed."""
    t = ReviewTaskRow
    where = [t.dispatched_at.is_not(None), *scope.of_period(CaseRow.rated_at)]
    return _grouped(
        session,
        (CaseRow.matter_code, t.department, CaseRow.rating),
        {"ratings": func.count()},
        joined=True,
        where=[*where, *scope.of_department()],
        source=t,
    )


def _matter_rating_groups(session: Session, scope: _Scope) -> list[_Group]:
    """Ratings of the period by (matter, level)."""
    c = CaseRow
    return _grouped(
        session,
        (c.matter_code, c.rating),
        {"ratings": func.count()},
        joined=False,
        where=scope.of_period(c.rated_at),
        source=c,
    )


def _case_groups(session: Session, scope: _Scope, reviewed_by: str | None) -> list[_Group]:
    """Cases received in the period by (matter, clerk); only those ``reviewed_by`` the
    department (a task of it dispatched), when given."""
    c, t = CaseRow, ReviewTaskRow
    where = scope.of_period(c.received_at)
    if reviewed_by is not None:
        reviewed = exists().where(
            t.case_no == c.case_no, t.department == reviewed_by, t.dispatched_at.is_not(None)
        )
        where.append(reviewed)
    return _grouped(
        session,
        (c.matter_code, c.clerk_id),
        _case_columns(),
        joined=False,
        where=where,
        source=c,
    )


# ---- adding the groups up -----------------------------------------------------------------


@dataclass
class _Tally:
    """The figures of one department, matter or clerk, as the groups add up."""

    tasks: Counter[str] = field(default_factory=Counter)
    used: Counter[int] = field(default_factory=Counter)
    periods: Counter[int] = field(default_factory=Counter)
    marks: Counter[str] = field(default_factory=Counter)
    ratings: Counter[str] = field(default_factory=Counter)
    follow_ups: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    cases: Counter[str] = field(default_factory=Counter)

    def marks_counted(self) -> MarkCounts:
        return MarkCounts(reminders=self.marks["yellow"], red_marks=self.marks["red"])

    def follow_ups_of(self, cause: FollowUpCause) -> FollowUps:
        return FollowUps(**self.follow_ups[cause.value])


@dataclass
class _Tallies:
    """Every tally of a report, by department, matter and clerk."""

    departments: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    matters: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    clerks: dict[str | None, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    window: _Tally = field(default_factory=_Tally)


def _add_tasks(tallies: _Tallies, groups: list[_Group], catalogue: Catalogue) -> None:
    periods: dict[tuple[str, str], int | None] = {}
    for group in groups:
        matter, department, used_wd = group.keys
        for tally in (tallies.departments[department], tallies.matters[matter]):
            tally.tasks.update(group.counts)
        if used_wd is None:
            continue
        key = (matter, department)
        if key not in periods:
            periods[key] = _period_of(catalogue, matter, department)
        answered, period_wd = group.counts["received"], periods[key]
        for tally in (tallies.departments[department], tallies.matters[matter]):
            tally.used[used_wd] += answered
            if period_wd is not None:
                tally.periods[period_wd] += answered


def _period_of(catalogue: Catalogue, matter: str, department: str) -> int | None:
    """The department's period for the matter in the catalogue (None: not in it)."""
    try:
        return catalogue.matter(matter).review(department).period_wd
    except DomainError:
        return None


def _add_marks(tallies: _Tallies, groups: list[_Group], department: str | None) -> None:
    for group in groups:
        matter, party, clerk, colour = group.keys
        count = group.counts["marks"]
        if party == WINDOW:
            for tally in (tallies.window, tallies.clerks[clerk]):
                tally.marks[colour] += count
        if department is not None and party != department:
            continue
        tallies.matters[matter].marks[colour] += count
        if party not in NOT_DEPARTMENTS:
            tallies.departments[party].marks[colour] += count


def _add_follow_ups(tallies: _Tallies, groups: list[_Group], department: str | None) -> None:
    for group in groups:
        matter, party, clerk, cause = group.keys
        if party == WINDOW:
            for tally in (tallies.window, tallies.clerks[clerk]):
                tally.follow_ups[cause].update(group.counts)
        if department is not None and party != department:
            continue
        tallies.matters[matter].follow_ups[cause].update(group.counts)
        if party not in NOT_DEPARTMENTS:
            tallies.departments[party].follow_ups[cause].update(group.counts)


def _add_ratings(
    tallies: _Tallies, by_department: list[_Group], by_matter: list[_Group] | None
) -> None:
    """The departments' ratings; the matters' from ``by_matter``, else (a department's share)
    from the department's."""
    for group in by_department:
        matter, department, level = group.keys
        tallies.departments[department].ratings[level] += group.counts["ratings"]
        if by_matter is None:
            tallies.matters[matter].ratings[level] += group.counts["ratings"]
    for group in by_matter or ():
        matter, level = group.keys
        tallies.matters[matter].ratings[level] += group.counts["ratings"]


def _add_cases(tallies: _Tallies, window: list[_Group], matters: list[_Group]) -> None:
    for group in window:
        _, clerk = group.keys
        for tally in (tallies.window, tallies.clerks[clerk]):
            tally.cases.update(group.counts)
    for group in matters:
        matter, _ = group.keys
        tallies.matters[matter].cases.update(group.counts)


# ---- the report ---------------------------------------------------------------------------


def efficiency_report(
    session: Session,
    catalogue: Catalogue,
    period: ReportPeriod,
    *,
    department: str | None = None,
    matter: str | None = None,
) -> EfficiencyReport:
    """The efficiency figures of ``period``, for every department and matter or only
    ``department`` / ``matter``; scores weighted by the catalogue's supervision policy."""
    scope = _Scope(period.starts_at, period.ends_at, department, matter)
    tallies = _tallied(session, scope, catalogue)
    weights = catalogue.supervision.weights
    names = {r.department: r.name for m in catalogue.matters for r in m.reviews}
    departments = [
        _department(code, names.get(code, code), tally, weights)
        for code, tally in sorted(tallies.departments.items())
    ]
    return EfficiencyReport(
        period=period,
        department=department,
        matter=matter,
        weights=weights,
        departments=_ranked(departments),
        matters=tuple(_matter_figures(tallies, catalogue)),
        window=_window_figures(tallies),
    )


def _tallied(session: Session, scope: _Scope, catalogue: Catalogue) -> _Tallies:
    """Every query's groups, added up by department, matter and clerk."""
    department = scope.department
    tallies = _Tallies()
    _add_tasks(tallies, _task_groups(session, scope), catalogue)
    _add_marks(tallies, _mark_groups(session, scope), department)
    _add_follow_ups(tallies, _follow_up_groups(session, scope), department)
    by_matter = None if department else _matter_rating_groups(session, scope)
    _add_ratings(tallies, _department_rating_groups(session, scope), by_matter)
    window = _case_groups(session, scope, None)
    shares = _case_groups(session, scope, department) if department else window
    _add_cases(tallies, window, shares)
    if department is not None:  # listed even with nothing to count
        tallies.departments.setdefault(department, _Tally())
    if scope.matter is not None:
        tallies.matters.setdefault(scope.matter, _Tally())
    return tallies


def _parts(tally: _Tally) -> dict[str, Any]:
    """What the figures of a department and of a matter share."""
    return {
        "tasks": TaskCounts(**tally.tasks),
        "working_days": WorkingDays.of(tally.used, tally.periods),
        "marks": tally.marks_counted(),
        "ratings": RatingCounts.of(tally.ratings),
        "rating_follow_ups": tally.follow_ups_of(FollowUpCause.RATING),
        "complaints": tally.follow_ups_of(FollowUpCause.COMPLAINT),
    }


def _department(code: str, name: str, tally: _Tally, weights: ScoreWeights) -> DepartmentFigures:
    """A department's figures with its score (ranked later)."""
    unscored = DepartmentFigures(department=code, name=name, score=0, **_parts(tally))
    score = composite_score(
        weights,
        on_time_rate=unscored.tasks.on_time_rate,
        satisfaction_rate=unscored.ratings.satisfaction_rate,
        follow_up_rate=unscored.follow_up_rate,
        red_marks=unscored.marks.red_marks,
        tasks=unscored.tasks.received,
    )
    return unscored.model_copy(update={"score": score})


SCORE_DIGITS = 9
"""Scores equal to this many decimals share a rank (sums of floats differ in the last bits)."""


def _ranked(figures: list[DepartmentFigures]) -> tuple[DepartmentFigures, ...]:
    """Highest score first (then by code); equal scores share a rank (1, 1, 3)."""
    ordered = sorted(figures, key=lambda f: (-round(f.score, SCORE_DIGITS), f.department))
    ranked: list[DepartmentFigures] = []
    for position, figure in enumerate(ordered, start=1):
        score = round(figure.score, SCORE_DIGITS)
        tied = bool(ranked) and round(ranked[-1].score, SCORE_DIGITS) == score
        rank = ranked[-1].rank if tied else position
        ranked.append(figure.model_copy(update={"rank": rank}))
    return tuple(ranked)


def _matter_figures(tallies: _Tallies, catalogue: Catalogue) -> Iterable[MatterFigures]:
    names = {m.code: m.name for m in catalogue.matters}
    for code, tally in sorted(tallies.matters.items()):
        cases = CaseCounts(**tally.cases)
        yield MatterFigures(
            matter_code=code, matter_name=names.get(code, code), cases=cases, **_parts(tally)
        )


def _window_counts(tally: _Tally) -> dict[str, Any]:
    return {
        "cases_received": tally.cases["received"],
        "intake_notices": tally.cases["intake_notices"],
        "deemed_acceptances": tally.cases["deemed_accepted"],
        "marks": tally.marks_counted(),
        "rating_follow_ups": tally.follow_ups_of(FollowUpCause.RATING),
        "complaints": tally.follow_ups_of(FollowUpCause.COMPLAINT),
    }


def _window_figures(tallies: _Tallies) -> WindowFigures:
    order = sorted(tallies.clerks, key=lambda clerk: (clerk is None, clerk or ""))
    clerks = tuple(
        ClerkFigures(clerk_id=clerk, **_window_counts(tallies.clerks[clerk])) for clerk in order
    )
    return WindowFigures(clerks=clerks, **_window_counts(tallies.window))
