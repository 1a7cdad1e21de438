"""Checking one case's record against every rule, in order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from approval.domain.calendar import WorkingCalendar
from approval.domain.compliance.consistency import _check_r21
from approval.domain.compliance.decision import _check_r13, _check_r14, _check_r16
from approval.domain.compliance.evidence import RuleResult, Verdict
from approval.domain.compliance.intake import _check_r3
from approval.domain.compliance.meeting import _check_r10
from approval.domain.compliance.periods import _replay_case_clock, _replay_tasks
from approval.domain.compliance.record import RecordedEvent, _Record
from approval.domain.compliance.review import _check_r9, _check_r11, _check_r12


def check_case(events: Sequence[RecordedEvent], calendar: WorkingCalendar) -> list[RuleResult]:
    """Check the record of one case against R3, R9, R10, R11, R12, R13, R14, R16 and R21 (the
    record consistent with itself), in that order."""
    record = _Record(sorted(events, key=lambda e: e.seq), calendar)
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
