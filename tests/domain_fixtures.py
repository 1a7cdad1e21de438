"""Builders for pure tests of the case rules: the demo catalogue, the 2026 calendar, actors,
materials and cases at known instants. No server, no I/O beyond reading the demo files.

Times are aware datetimes in Asia/Shanghai in 2026, when the holiday schedule is known, so
every deadline is a known date (Monday 2026-03-02 is the usual day of receipt).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

from approval.calendar_source import load_calendar_data
from approval.domain.calendar import SHANGHAI, WorkingCalendar
from approval.domain.case import Case
from approval.domain.catalogue import CasePolicy, Catalogue, Matter, load_catalogue
from approval.domain.events import CaseEvent, CaseEventBase, DepartmentEvent, NoticeIssued
from approval.domain.models import (
    Accept,
    Actor,
    Applicant,
    Decide,
    NoticeItem,
    Outcome,
    Role,
    SubmittedMaterial,
)
from approval.domain.notices import Notice, NoticeKind
from approval.domain.state import Stage
from approval.domain.status import CaseStatus, case_status

E = TypeVar("E", bound=CaseEventBase)

CATALOGUE_PATH = Path(__file__).resolve().parents[1] / "data" / "catalogue.yaml"
CATALOGUE: Catalogue = load_catalogue(CATALOGUE_PATH)
CALENDAR = WorkingCalendar(load_calendar_data(range(2026, 2029), None))
"""2026 is known (chinese_calendar); 2027 and 2028 are counted by their weekends and statutory
holidays (provisional)."""

CASE_NO = "371600-20260302-000001"
APPLICANT = Applicant(name="滨州示例建设有限公司", id_number="91371600MA3C4XYW1F")

# The demo matters used by the tests, by what makes each one useful.
GHXK = "JS-GHXK-001"  # 4 departments, 10 WD committed, notice period 5 WD
SGXK = "JS-SGXK-001"  # ZJJ and RFB depend on ZRZY
QYSL = "SC-QYSL-001"  # notice period 2 WD
SPJY = "SC-SPJY-001"  # 2 departments: SCJG 5 WD, CGJ 3 WD; committed 5 WD
WHPJY = "AJ-WHPJY-001"  # silent consent excluded (safety)
BDC = "BDC-ZYDJ-001"  # fee 80 yuan; ZRZY depends on SW and ZJJ
GTBG = "SC-GTBG-001"  # instant matter (即办件)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """``day`` at ``hour:minute`` in Asia/Shanghai."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def midnight(day: date) -> datetime:
    """00:00 Asia/Shanghai at the start of ``day``: the instant the previous day's deadline ends."""
    return datetime.combine(day, time(), tzinfo=SHANGHAI)


MONDAY = at(date(2026, 3, 2))
"""Monday 2026-03-02 09:00 +08:00: no holiday near it, so WD counts are plain weekdays."""


# ---- actors ---------------------------------------------------------------------------------


def clerk(actor_id: str = "clerk-01") -> Actor:
    """A window clerk (窗口人员)."""
    return Actor(role=Role.CLERK, id=actor_id)


def reviewer(department: str, actor_id: str | None = None) -> Actor:
    """A reviewer acting for ``department``."""
    return Actor(
        role=Role.REVIEWER, id=actor_id or f"rev-{department.lower()}", department=department
    )


def supervisor(actor_id: str = "sup-01") -> Actor:
    """A supervisor (电子监察)."""
    return Actor(role=Role.SUPERVISOR, id=actor_id)


def applicant_actor(actor_id: str = "applicant-01") -> Actor:
    """The applicant acting on their own case."""
    return Actor(role=Role.APPLICANT, id=actor_id)


# ---- materials and matters ------------------------------------------------------------------


def material(code: str) -> SubmittedMaterial:
    """A submitted material by reference, with a fake (but well-formed) sha256 of 64 hex chars."""
    return SubmittedMaterial(
        code=code,
        document_ref=f"docs/{code}.pdf",
        sha256=hashlib.sha256(code.encode()).hexdigest(),
    )


def matter(code: str) -> Matter:
    """The demo catalogue's matter ``code``."""
    return CATALOGUE.matter(code)


def demanded(matter_code: str | Matter) -> list[str]:
    """The codes of the materials the applicant must bring (all but the 免提交 ones)."""
    found = matter(matter_code) if isinstance(matter_code, str) else matter_code
    return [m.code for m in found.demanded_materials]


def shared(matter_code: str | Matter) -> list[str]:
    """The codes of the matter's 免提交 materials (obtained by data sharing)."""
    found = matter(matter_code) if isinstance(matter_code, str) else matter_code
    return [m.code for m in found.materials if m.shared]


def item(code: str, reason: str = "不符合法定形式") -> NoticeItem:
    """One item of a notice or of a department's supplement request."""
    return NoticeItem(code=code, reason=reason)


# ---- cases ------------------------------------------------------------------------------------


def received_case(
    matter_code: str | Matter,
    materials: Iterable[str] | None = None,
    now: datetime = MONDAY,
    review_periods_capped: bool = False,
    policy: CasePolicy | None = None,
) -> Case:
    """A case received at the window at ``now``; by default with every demanded material;
    ``review_periods_capped``: under the rule that department periods end by the case's;
    ``policy``: under supervision (R19 reminders and red marks, R20 ratings)."""
    found = matter(matter_code) if isinstance(matter_code, str) else matter_code
    codes = demanded(found) if materials is None else list(materials)
    return Case.receive(
        case_no=CASE_NO,
        catalogue_version=CATALOGUE.version,
        matter=found,
        applicant=APPLICANT,
        materials=[material(c) for c in codes],
        clerk=clerk(),
        now=now,
        calendar=CALENDAR,
        review_periods_capped=review_periods_capped,
        policy=policy,
    )


def accepted_case(
    matter_code: str | Matter, now: datetime = MONDAY, policy: CasePolicy | None = None
) -> Case:
    """A case received complete and accepted by the clerk at ``now``; the outbox is kept."""
    case = received_case(matter_code, now=now, policy=policy)
    case.handle(Accept(actor=clerk()), now)
    return case


def approve(department: str) -> Decide:
    """The department's reviewer approves."""
    return Decide(actor=reviewer(department), department=department, outcome=Outcome.APPROVE)


def reject(department: str, reasons: str = "不符合审查标准") -> Decide:
    """The department's reviewer rejects, with reasons."""
    return Decide(
        actor=reviewer(department), department=department, outcome=Outcome.REJECT, reasons=reasons
    )


def request(department: str, *items: NoticeItem) -> Decide:
    """The department's reviewer asks for more materials."""
    return Decide(
        actor=reviewer(department),
        department=department,
        outcome=Outcome.REQUEST_SUPPLEMENT,
        items=items,
    )


# ---- reading events and status ----------------------------------------------------------------


def types(events: Iterable[CaseEvent]) -> list[str]:
    """The event types, in order."""
    return [e.type for e in events]


def of_type(events: Iterable[CaseEvent], kind: type[E]) -> list[E]:
    """The events of one kind, in order."""
    return [e for e in events if isinstance(e, kind)]


def notices(events: Iterable[CaseEvent], kind: NoticeKind | None = None) -> list[Notice]:
    """The notices issued (their facts), optionally only those of ``kind``."""
    found = [e.notice for e in of_type(events, NoticeIssued)]
    return [n for n in found if kind is None or n.kind == kind]


def departments_of(events: Iterable[CaseEvent], kind: type[DepartmentEvent]) -> list[str]:
    """The ``department`` of each event of ``kind``, in order."""
    return [e.department for e in of_type(events, kind)]


def status(case: Case, now: datetime) -> CaseStatus:
    """The case as the supervision screen shows it at ``now``."""
    return case_status(case.state, case.missing_materials(), case.calendar, now)


def snapshot(case: Case) -> tuple[dict[str, Any], int]:
    """The case's recorded state and outbox size, to show that a refusal changed nothing."""
    return case.state.model_dump(), len(case.outbox)


def stage_of(case: Case) -> Stage:
    """The case's stage (a call, so that a type checker does not narrow it between steps)."""
    return case.state.stage
