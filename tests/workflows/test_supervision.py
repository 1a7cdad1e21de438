"""R19 reminders and red marks, R20 ratings and follow-ups, through the real workflow on the
time-skipping Temporal server: each instant is the workflow's own timer, with a real store;
the histories replay as a restarted worker replays them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from approval.calendar_source import configured_calendar_data
from approval.config import Settings
from approval.contracts import DATA_CONVERTER, CaseResult
from approval.domain.calendar import SHANGHAI, CalendarData
from approval.domain.catalogue import Catalogue
from approval.domain.errors import DomainError
from approval.domain.models import (
    Actor,
    AnswerFollowUp,
    Deliver,
    Rate,
    RatingLevel,
    Role,
)
from approval.domain.state import Stage
from approval.domain.status import Light
from approval.service import CaseService
from approval.store.audit_log import events_of
from tests.domain_fixtures import approve, reviewer
from tests.workflows.test_workflow import CLERK, accepted, messages_of, notice_kinds, recorded
from workflows.case_workflow import CaseWorkflow

WOKEN_WITHIN = timedelta(seconds=1)
"""A timer wakes the workflow at its instant, give or take the server's tick (milliseconds)."""
APPLICANT = Actor(role=Role.APPLICANT, id="applicant:test")


def is_working_day(day: date, data: CalendarData) -> bool:
    """Whether ``day`` is a working day, computed here from the schedule alone."""
    if day.year in data.known_years and day in data.makeup_workdays:
        return data.count_makeup_workdays
    if day.year in data.known_years and day in data.holidays:
        return False
    return day.weekday() < 5


def yellow_from(last_day: date, days_left: int, data: CalendarData) -> datetime:
    """The midnight from which no more than ``days_left`` working days are left before
    ``last_day`` (R19): counted back by hand, one calendar day at a time."""
    day, left = last_day, 0
    while True:
        day -= timedelta(days=1)
        left += is_working_day(day + timedelta(days=1), data)
        if left > days_left:
            return datetime.combine(day + timedelta(days=1), time(), SHANGHAI)


def of_type(sessions: sessionmaker[Session], case_no: str, kind: str) -> list[dict[str, object]]:
    """The payloads and moments of the case's stored events of ``kind``."""
    with sessions() as session:
        return [
            {**e.payload, "at": e.occurred_at}
            for e in events_of(session, case_no)
            if e.type == kind
        ]


async def replays(env: WorkflowEnvironment, case_no: str) -> bool:
    """Whether the case's history so far replays as a worker that restarted would replay it
    (a fresh worker runs the workflow code again from the first event)."""
    history = await env.client.get_workflow_handle(case_no).fetch_history()
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure is None


async def test_R19_one_reminder_at_the_hand_computed_yellow_instant_and_a_red_mark_at_the_deadline(
    engine: CaseService,
    settings: Settings,
    catalogue: Catalogue,
    time_skipping_env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
) -> None:
    """R19: CGJ stays silent on a GHXK case (5 WD). At its yellow instant, counted back by
    hand from its last day, exactly one ClockWarned and one reminder message to CGJ's system;
    the history replays as a restarted worker replays it. At the deadline a red mark, and still
    one reminder, in a history that replays again."""
    env = time_skipping_env
    case_no = await accepted(engine, catalogue)
    for department in ("ZRZY", "ZJJ", "RFB"):
        await engine.act(case_no, approve(department))
    status = await engine.status(case_no)
    (cgj,) = [t for t in status.tasks if t.department == "CGJ"]
    assert cgj.clock is not None and cgj.clock.last_day is not None and cgj.clock.due
    data = configured_calendar_data(settings, status.received_at.year, status.received_at.year)
    expected = yellow_from(cgj.clock.last_day, 1, data)

    await env.sleep(expected - await env.get_current_time() - timedelta(hours=1))
    assert of_type(sessions, case_no, "ClockWarned") == []
    await env.sleep(timedelta(hours=2))
    (reminder,) = await recorded(sessions, case_no, "ClockWarned", 1)
    assert reminder.payload["party"] == "CGJ" and reminder.payload["clock"] == "review"
    assert abs(reminder.occurred_at - expected) < WOKEN_WITHIN
    assert await messages_of(sessions, case_no, "reminder", 1) == ["CGJ"]
    assert await replays(env, case_no)

    await env.sleep(cgj.clock.due - await env.get_current_time() + timedelta(hours=1))
    (red,) = await recorded(sessions, case_no, "RedMarkRecorded", 1)
    assert red.payload["party"] == "CGJ" and abs(red.occurred_at - cgj.clock.due) < WOKEN_WITHIN
    assert len(of_type(sessions, case_no, "ClockWarned")) == 1
    assert await messages_of(sessions, case_no, "reminder", 1) == ["CGJ"]
    assert await replays(env, case_no)


async def completed_case(service: CaseService, catalogue: Catalogue) -> str:
    """A GHXK case every department approved at once, delivered: completed."""
    case_no = await accepted(service, catalogue)
    for department in ("ZRZY", "ZJJ", "RFB", "CGJ"):
        await service.act(case_no, approve(department))
    status = await service.act_and_read(case_no, Deliver(actor=CLERK))
    assert status.stage is Stage.COMPLETED
    return case_no


async def test_R20_a_bad_rating_opens_a_follow_up_that_turns_red_unanswered_then_is_answered(
    engine: CaseService,
    catalogue: Catalogue,
    time_skipping_env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
) -> None:
    """R20, R19: the completed case is rated 不满意 about RFB: a follow-up goes to RFB's system
    with 5 WD; unanswered, it is reminded once and marked red; RFB's late answer closes it, the
    applicant gets the written reply, and the workflow ends. No task was reminded (each was
    decided at once). A second rating is refused, and kept in the record."""
    case_no = await completed_case(engine, catalogue)
    status = await engine.act_and_read(
        case_no, Rate(actor=APPLICANT, level=RatingLevel.DISSATISFIED, concerns=("RFB",))
    )
    (follow_up,) = status.follow_ups
    assert (follow_up.party, follow_up.cause) == ("RFB", "rating")
    assert await messages_of(sessions, case_no, "follow_up", 1) == ["RFB"]

    await time_skipping_env.sleep(timedelta(days=12))
    late = await engine.status(case_no)
    assert late.follow_ups[0].clock is not None
    assert late.follow_ups[0].clock.light is Light.RED
    warnings = of_type(sessions, case_no, "ClockWarned")
    assert [w["clock"] for w in warnings] == ["follow_up"]
    assert [m["clock"] for m in of_type(sessions, case_no, "RedMarkRecorded")] == ["follow_up"]

    answer = AnswerFollowUp(
        actor=reviewer("RFB"),
        follow_up_no=follow_up.follow_up_no,
        explanation="审查人员外出，未及时办理",
        remedy="已落实 AB 岗",
    )
    answered = await engine.act_and_read(case_no, answer)
    assert answered.follow_ups[0].on_time is False
    assert notice_kinds(sessions, case_no)[-1] == "follow_up_reply"
    handle = time_skipping_env.client.get_workflow_handle_for(CaseWorkflow.run, case_no)
    result: CaseResult = await handle.result()
    assert result.stage is Stage.COMPLETED

    with pytest.raises(DomainError, match="已办结或终止"):
        await engine.act(case_no, Rate(actor=APPLICANT, level=RatingLevel.VERY_SATISFIED))
    assert len(of_type(sessions, case_no, "CaseRated")) == 1
    assert of_type(sessions, case_no, "ActionRefused")[-1]["action"] == "rate"


async def test_R20_one_rating_per_case_and_a_good_rating_ends_the_workflow(
    engine: CaseService,
    catalogue: Catalogue,
    time_skipping_env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
) -> None:
    """R20: a clerk rates on the applicant's behalf (满意): no follow-up, the workflow ends; a
    second rating is refused and kept in the record."""
    case_no = await completed_case(engine, catalogue)
    clerk_rating = Rate(actor=CLERK, level=RatingLevel.SATISFIED, comment="窗口服务热情")
    await engine.act(case_no, clerk_rating)
    handle = time_skipping_env.client.get_workflow_handle_for(CaseWorkflow.run, case_no)
    await handle.result()
    with pytest.raises(DomainError, match="已办结或终止"):
        await engine.act(case_no, Rate(actor=APPLICANT, level=RatingLevel.DISSATISFIED))
    (rated,) = of_type(sessions, case_no, "CaseRated")
    assert rated["level"] == "satisfied" and rated["comment"] == "窗口服务热情"
    assert of_type(sessions, case_no, "FollowUpOpened") == []
    assert of_type(sessions, case_no, "ActionRefused")[-1]["action"] == "rate"


async def test_R20_unrated_the_rating_period_ends_and_so_does_the_workflow(
    engine: CaseService,
    catalogue: Catalogue,
    time_skipping_env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
) -> None:
    """R20: nobody rates; 15 days after completion the period ends (an event of the record)
    and the workflow with it."""
    case_no = await completed_case(engine, catalogue)
    await time_skipping_env.sleep(timedelta(days=17))
    handle = time_skipping_env.client.get_workflow_handle_for(CaseWorkflow.run, case_no)
    await handle.result()
    (ended,) = of_type(sessions, case_no, "RatingPeriodEnded")
    closed = of_type(sessions, case_no, "CaseClosed")[0]["at"]
    assert isinstance(ended["at"], datetime) and isinstance(closed, datetime)
    assert timedelta(days=15) < ended["at"] - closed <= timedelta(days=16)
