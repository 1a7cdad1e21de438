"""The read model computed from the events alone equals, after every step of every path of a
case, the rows the full status gave when each step carried it (R19: the desks' deadlines and
lights read these rows)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from approval.domain.case import Case
from approval.domain.events import ApplicationReceived
from approval.domain.models import (
    Accept,
    CloseExcludedPeriod,
    CollectFee,
    Deliver,
    ExcludedProcedure,
    Extend,
    IssueNotice,
    OpenExcludedPeriod,
    RecordMeeting,
    Supplement,
    Withdraw,
)
from approval.domain.projection import CaseView, received
from approval.store.read_model import status_case_row, status_task_row, view_rows
from tests.domain_fixtures import (
    BDC,
    GHXK,
    GTBG,
    QYSL,
    SGXK,
    SPJY,
    WHPJY,
    approve,
    at,
    clerk,
    demanded,
    item,
    material,
    received_case,
    reject,
    request,
    status,
    supervisor,
)

Step = Callable[[Case], None]
NOT_PROJECTED = {"provisional", "updated_at"}
"""The case row's ``provisional`` (any clock, also the window's and delivery's, which no event
states) and ``updated_at`` (the step's time, not an event's) are not compared."""


class Walk:
    """A case taken step by step; after each step its projected rows are compared with the
    rows its status gives."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.now = case.state.received_at
        self.view: CaseView | None = None
        self.compared = 0
        self._compare()

    def act(self, command: Any, hours: int = 1) -> Walk:
        """A command, ``hours`` after the last step."""
        self.now += timedelta(hours=hours)
        self.case.advance_time(self.now)
        self._compare()
        self.case.handle(command, self.now)
        self._compare()
        return self

    def wait(self, days: int) -> Walk:
        """Let ``days`` pass, applying the deadlines on the way, one day at a time."""
        for _ in range(days):
            self.now += timedelta(days=1)
            self.case.advance_time(self.now)
            self._compare()
        return self

    def _compare(self) -> None:
        events = self.case.drain()
        if not events:
            return
        if self.view is None:
            first = events[0]
            assert isinstance(first, ApplicationReceived)
            self.view = received(self.case.state.case_no, first)
        self.view.apply(events)
        seen = status(self.case, self.now)
        last_seq = self.case.state.last_seq
        expected_case = status_case_row(seen, last_seq)
        expected_tasks = [status_task_row(seen.case_no, t, last_seq) for t in seen.tasks]
        case_row, task_rows = view_rows(self.view)
        for name in NOT_PROJECTED:
            case_row.pop(name), expected_case.pop(name)
        assert _stated(case_row, expected_case) == expected_case, f"after seq {last_seq}"
        by_department = {row["department"]: row for row in task_rows}
        for expected in expected_tasks:
            row = _stated(by_department[expected["department"]], expected)
            assert row == expected, f"after seq {last_seq}"
        self.compared += 1


def _stated(row: dict[str, Any], status_row: dict[str, Any]) -> dict[str, Any]:
    """The columns of ``row`` that a status row states (the efficiency figures' columns,
    which no status states, are proven against the events by tests/store/test_efficiency.py)."""
    return {name: row[name] for name in status_row}


def _decide_all(walk: Walk, departments: list[str]) -> Walk:
    for department in departments:
        walk.act(approve(department))
    return walk


PATHS: dict[str, Callable[[], Walk]] = {
    "approved, delivered": lambda: _decide_all(
        Walk(received_case(GHXK)).act(Accept(actor=clerk())), ["ZRZY", "ZJJ", "RFB", "CGJ"]
    ).act(Deliver(actor=clerk())),
    "dependencies, then rejected": lambda: (
        Walk(received_case(SGXK))
        .act(Accept(actor=clerk()))
        .act(approve("ZRZY"))
        .act(reject("ZJJ", "不符合建筑间距要求"))
        .act(approve("RFB"))
        .act(approve("CGJ"))
        .act(approve("JJ"))
        .act(Deliver(actor=clerk()))
    ),
    "withdrawn with tasks waiting": lambda: (
        Walk(received_case(SGXK)).act(Accept(actor=clerk())).act(Withdraw(actor=clerk()))
    ),
    "consolidated notice, supplement, resumed": lambda: (
        Walk(received_case(SPJY))
        .act(Accept(actor=clerk()))
        .act(request("SCJG", item("PMT")))
        .act(approve("CGJ"))
        .act(Extend(actor=supervisor(), reason="需现场核查"))
        .act(Supplement(actor=clerk(), materials=(material("PMT"),)), hours=30)
        .act(approve("SCJG"))
    ),
    "silent consent": lambda: Walk(received_case(SPJY)).act(Accept(actor=clerk())).wait(12),
    "escalated, period expired, extended": lambda: (
        Walk(received_case(WHPJY))
        .act(Accept(actor=clerk()))
        .wait(30)
        .act(Extend(actor=supervisor(), reason="专家论证"))
        .wait(20)
    ),
    "one-time notice at the window, then lapsed": lambda: (
        Walk(received_case(QYSL, materials=demanded(QYSL)[:1]))
        .act(IssueNotice(actor=clerk()))
        .wait(40)
    ),
    "one-time notice, supplement, deemed acceptance": lambda: (
        Walk(received_case(QYSL, materials=demanded(QYSL)[:1]))
        .act(IssueNotice(actor=clerk()))
        .act(Supplement(actor=clerk(), materials=tuple(material(c) for c in demanded(QYSL)[1:])))
        .wait(6)
    ),
    "excluded period and a meeting": lambda: (
        Walk(received_case(GHXK))
        .act(Accept(actor=clerk()))
        .act(approve("ZRZY"))
        .act(
            OpenExcludedPeriod(
                actor=supervisor(),
                procedure=ExcludedProcedure.EXPERT_REVIEW,
                reason="专家评审",
                expected_wd=10,
            )
        )
        .wait(15)
        .act(CloseExcludedPeriod(actor=supervisor(), result="专家同意"))
        .act(RecordMeeting(actor=supervisor(), present=("ZJJ",), absent=("RFB",), minutes="纪要"))
        .act(approve("ZJJ"))
        .wait(20)
    ),
    "fee, certificate, delivery late": lambda: (
        _decide_all(Walk(received_case(BDC)).act(Accept(actor=clerk())), ["SW", "ZJJ", "ZRZY"])
        .act(CollectFee(actor=clerk(), amount_yuan=80, receipt_no="R-001"))
        .wait(20)
        .act(Deliver(actor=clerk()))
    ),
    "instant matter": lambda: Walk(received_case(GTBG)).act(Accept(actor=clerk())),
    "received at a year's end": lambda: _decide_all(
        Walk(received_case(GHXK, now=at(date(2026, 12, 28)))).act(Accept(actor=clerk())),
        ["ZRZY", "ZJJ"],
    ).wait(15),
}


@pytest.mark.parametrize("path", PATHS)
def test_R19_the_read_model_projected_from_events_equals_the_status_rows(path: str) -> None:
    """R19: on this path, after every step, the ``cases`` and ``review_tasks`` rows computed
    from the step's events equal the rows the case's full status gave (stage, decision, the
    case's last day, overdue; each task's state, round, deadline, period, overdue, escalation
    and decider)."""
    walk = PATHS[path]()
    assert walk.compared >= 2  # the receipt and at least one step after it
    assert walk.view is not None and walk.view.last_seq == walk.case.state.last_seq
