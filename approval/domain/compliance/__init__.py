"""Checking a case's record against the statutory rules, from the record alone.

An auditor hands over the recorded events of one case (the typed events of
approval.domain.events, ``CaseEvent``, or the store's ``case_events`` rows, typed with
``as_events``) and a working-day calendar; each rule that can be checked from the record gives
a ``RuleResult``: pass, fail or not applicable, with evidence lines in Chinese that cite the
events by their seq, their Chinese names and their dates (Asia/Shanghai):
``第 7 号事件（部门同意，2026-03-02 10:00）``; ``cited`` reads the seqs back.

Periods are counted again here with the calendar, independently of the engine's clocks: the
received event states the periods the case runs under (``periods``), the other events say when
each period started, stopped, resumed, was extended or ended. Evidence lines start with ``✓``
(a fact that satisfies the rule), ``✗`` (a violation) or ``·`` (context).

Pure: no I/O, no clock, no Temporal, no SQLAlchemy.
"""

from approval.domain.compliance.check import check_case, failed
from approval.domain.compliance.evidence import RULE_TITLES, RuleResult, Verdict
from approval.domain.compliance.labels import EVENT_LABELS
from approval.domain.compliance.moments import TIMER_LATENCY, when
from approval.domain.compliance.record import CASE_DUE_EVENTS, cited, ref

__all__ = [
    "CASE_DUE_EVENTS",
    "EVENT_LABELS",
    "RULE_TITLES",
    "TIMER_LATENCY",
    "RuleResult",
    "Verdict",
    "check_case",
    "cited",
    "failed",
    "ref",
    "when",
]
