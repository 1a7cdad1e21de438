"""The supervisor's board from the store alone (电子监察): a page of the open cases, each with
its review tasks and the two facts of its record its clocks need besides the read model's rows
— when the window's check last started (the receipt, or the last supplement at the window) and
whether the case's period was extended (R13) — and each case's clock as its status shows it.
Three queries a page, whatever its length; no case's workflow is asked.

Like the other readers, nothing here commits: sessions belong to the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from approval.domain.calendar import WorkingCalendar
from approval.domain.catalogue import Matter
from approval.domain.events import CaseExtended, SupplementReceived
from approval.domain.state import CLOSED_STAGES, Stage
from approval.domain.status import Light, light_for
from approval.store.database import FRESH
from approval.store.lights import ShownClock
from approval.store.schema import CaseEventRow, CaseRow, ReviewTaskRow

SUPPLEMENTED = SupplementReceived.kind()
"""At the window (the case not yet accepted), a supplement starts the check again (R3)."""
EXTENDED = CaseExtended.kind()
CASE_CLOCK_STAGES = frozenset({Stage.IN_REVIEW, Stage.AWAITING_SUPPLEMENT, Stage.EXCLUDED_PERIOD})
"""The stages in which the case's own period (办理时限) counts, running or stopped (R12)."""


@dataclass
class BoardCase:
    """An open case as the board shows it: its row, its review tasks (by department code)
    and what its clocks need from its record."""

    case: CaseRow
    tasks: list[ReviewTaskRow] = field(default_factory=list)
    last_supplement_at: datetime | None = None
    extended: bool = False

    @property
    def check_started_at(self) -> datetime:
        """When the window's check (R3) last started: the receipt, or the last supplement
        (meaningful while the case is at the window)."""
        return self.last_supplement_at or self.case.received_at

    def clock(
        self, matter: Matter | None, calendar: WorkingCalendar, now: datetime
    ) -> ShownClock | None:
        """The clock the board shows for the case, as its status shows it (R17, R19): at the
        window the check's (受理期限), from acceptance to the decision the case's period (办理
        时限: paused while stopped, R12); none at the other stages. The periods' lengths are the
        catalogue's ``matter`` (without it, the days left alone decide the light)."""
        row, stage = self.case, Stage(self.case.stage)
        if stage is Stage.RECEIVED:
            if matter is None:
                return None
            period = matter.notice_period_wd
            deadline = calendar.deadline(self.check_started_at, period)
            remaining = calendar.remaining_working_days(now, deadline)
            light = light_for(period, remaining, stopped=False, expired=False)
            return ShownClock(deadline.last_day, light)
        if stage not in CASE_CLOCK_STAGES:
            return None
        if row.case_last_day is None:
            return ShownClock(None, Light.PAUSED)
        extension = matter.extension_wd if matter and self.extended else 0
        period_wd = matter.committed_period_wd + extension if matter else None
        remaining = calendar.remaining_working_days(now, calendar.deadline(row.case_last_day, 0))
        light = light_for(period_wd, remaining, stopped=False, expired=row.overdue)
        return ShownClock(row.case_last_day, light)


def open_cases_on_board(
    session: Session, *, limit: int, offset: int
) -> tuple[int, list[BoardCase]]:
    """The cases not closed, oldest received first, each with its tasks and clock facts:
    ``(total, page)``."""
    where = CaseRow.stage.not_in(sorted(s.value for s in CLOSED_STAGES))
    total = session.scalar(select(func.count()).select_from(CaseRow).where(where)) or 0
    page = (
        select(CaseRow)
        .where(where)
        .order_by(CaseRow.received_at, CaseRow.case_no)
        .limit(limit)
        .offset(offset)
    )
    cases = {
        row.case_no: BoardCase(row) for row in session.scalars(page.execution_options(**FRESH))
    }
    tasks = (
        select(ReviewTaskRow)
        .where(ReviewTaskRow.case_no.in_(list(cases)))
        .order_by(ReviewTaskRow.case_no, ReviewTaskRow.department)
    )
    for task in session.scalars(tasks.execution_options(**FRESH)):
        cases[task.case_no].tasks.append(task)
    facts = (
        select(CaseEventRow.case_no, CaseEventRow.type, func.max(CaseEventRow.occurred_at))
        .where(
            CaseEventRow.case_no.in_(list(cases)), CaseEventRow.type.in_((SUPPLEMENTED, EXTENDED))
        )
        .group_by(CaseEventRow.case_no, CaseEventRow.type)
    )
    for case_no, kind, latest in session.execute(facts):
        if kind == SUPPLEMENTED:
            cases[case_no].last_supplement_at = latest
        else:
            cases[case_no].extended = True
    return total, list(cases.values())
