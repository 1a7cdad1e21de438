"""Checking one case's record against every rule, in order."""

from __future__ import annotations

from collections.abc import Iterable

from approval.domain.calendar import WorkingCalendar
from approval.domain.compliance.consistency import _check_r21
from approval.domain.compliance.decision import _check_r13, _check_r14, _check_r16
from approval.domain.compliance.evidence import RuleResult, Verdict
from approval.domain.compliance.intake import _check_r3
from approval.domain.compliance.meeting import _check_r10
from approval.domain.compliance.periods import _replay_case_clock, _replay_tasks
from approval.domain.compliance.record import _Record
from approval.domain.compliance.review import _check_r9, _check_r11, _check_r12
from approval.domain.events import CaseEventBase, StoredEvent, as_events


def check_case(
    events: Iterable[CaseEventBase | StoredEvent], calendar: WorkingCalendar
) -> list[RuleResult]:
    """Check the record of one case against R3, R9, R10, R11, R12, R13, R14, R16 and R21 (the
    record consistent with itself), in that order. ``events`` are typed events or store rows,
    in any order (a row that no event class accounts for raises pydantic's ValidationError)."""
    record = _Record(as_events(events), calendar)
    tasks = _replay_tasks(record)
    case_clock = _replay_case_clock(record)
    return [
        _check_r3(record),
        _check_r9(record, tasks),
        _check_r10(record, tasks),
        _check_r11(record, tasks),
        _check_r12(record, tasks, case_clock),
        _check_r13(record, case_clock),
        _check_r14(record),
        _check_r16(record),
        _check_r21(record),
    ]


def failed(results: Iterable[RuleResult]) -> list[RuleResult]:
    """The results that failed."""
    return [r for r in results if r.verdict is Verdict.FAIL]
