"""R19 reminders and red marks, R20 ratings and follow-ups, in the case's rules alone: cases
at known instants of 2026 (its holiday schedule known), so every yellow instant is a date
computed here by hand."""

from __future__ import annotations

from datetime import date

import pytest

from approval.domain.case import Case
from approval.domain.catalogue import CasePolicy, WarningThreshold
from approval.domain.errors import (
    InvalidInputError,
    PermissionDeniedError,
    RatingRefusedError,
    StageError,
    TaskClosedError,
)
from approval.domain.events import (
    CaseRated,
    ClockWarned,
    FollowUpAnswered,
    FollowUpOpened,
    RatingPeriodEnded,
    RedMarkRecorded,
    ReviewApproved,
    ReviewDeemedApproved,
)
from approval.domain.models import (
    WINDOW,
    AnswerFollowUp,
    Complain,
    Deliver,
    Rate,
    RatingLevel,
    Supplement,
)
from approval.domain.notices import NoticeKind
from approval.domain.state import Stage, SupervisedClock
from tests.domain_fixtures import (
    GHXK,
    MONDAY,
    accepted_case,
    applicant_actor,
    approve,
    at,
    clerk,
    item,
    material,
    midnight,
    notices,
    of_type,
    request,
    reviewer,
)

POLICY = CasePolicy()
"""The default: yellow at 1 WD left or 80 % of the period used; 15 days to rate; 5 WD to
answer a follow-up."""


def supervised(matter: str = GHXK, policy: CasePolicy = POLICY) -> Case:
    """A case accepted on Monday 2026-03-02 09:00 under ``policy``: every GHXK task is
    dispatched then (ZRZY 8 WD, ZJJ, RFB and CGJ 5 WD; the case 10 WD)."""
    return accepted_case(matter, MONDAY, policy=policy)


def warned(case: Case) -> list[ClockWarned]:
    return of_type(case.outbox, ClockWarned)


def completed(case: Case) -> Case:
    """``case`` with every department approving on 2026-03-03 and the result delivered."""
    day = at(date(2026, 3, 3))
    for department in ("ZRZY", "ZJJ", "RFB", "CGJ"):
        case.handle(approve(department), day)
    case.handle(Deliver(actor=clerk()), day)
    assert case.state.stage is Stage.COMPLETED
    return case


def test_R19_yellow_instants_are_the_hand_computed_midnights() -> None:
    """R19: a 5 WD task dispatched Monday 2026-03-02 ends Monday 03-09; with 1 WD left it is
    yellow from Friday 03-06 00:00. ZRZY's 8 WD end Thursday 03-12: yellow Wednesday 03-11.
    The case's 10 WD end Monday 03-16, yellow at 2 WD left (80 % used): Thursday 03-12."""
    case = supervised()
    assert sorted(set(case.warning_dues())) == [
        midnight(date(2026, 3, 6)),
        midnight(date(2026, 3, 11)),
        midnight(date(2026, 3, 12)),
    ]
    assert case.next_due() == midnight(date(2026, 3, 6))


def test_R19_each_task_is_reminded_once_at_its_instant_then_marked_red_at_its_deadline() -> None:
    """R19: at Friday 00:00 each 5 WD department is reminded, once (a second look at the same
    or a later moment sends nothing more); at the deadline each is deemed approved (R9) and a
    red mark is recorded against it."""
    case = supervised()
    case.drain()
    case.advance_time(midnight(date(2026, 3, 5)))
    assert warned(case) == []
    case.advance_time(midnight(date(2026, 3, 6)))
    reminders = warned(case)
    assert [(w.clock, w.party, w.last_day, w.remaining_wd) for w in reminders] == [
        (SupervisedClock.REVIEW, d, date(2026, 3, 9), 1) for d in ("ZJJ", "RFB", "CGJ")
    ]
    assert all(w.at == midnight(date(2026, 3, 6)) for w in reminders)
    case.drain()
    case.advance_time(at(date(2026, 3, 9), 17))
    assert warned(case) == []

    case.advance_time(midnight(date(2026, 3, 10)))
    red = of_type(case.outbox, RedMarkRecorded)
    assert [(r.clock, r.party, r.last_day) for r in red] == [
        (SupervisedClock.REVIEW, d, date(2026, 3, 9)) for d in ("ZJJ", "RFB", "CGJ")
    ]
    assert [e.used_wd for e in of_type(case.outbox, ReviewDeemedApproved)] == [5, 5, 5]


def test_R19_no_reminder_for_a_task_closed_before_its_instant() -> None:
    """R19: ZJJ approves on Thursday; at Friday 00:00 only RFB and CGJ are reminded."""
    case = supervised()
    case.handle(approve("ZJJ"), at(date(2026, 3, 5)))
    assert of_type(case.outbox, ReviewApproved)[0].used_wd == 3
    case.drain()
    case.advance_time(midnight(date(2026, 3, 6)))
    assert [w.party for w in warned(case)] == ["RFB", "CGJ"]


def test_R19_a_clock_stop_holds_the_reminder_and_the_resumption_moves_its_instant() -> None:
    """R19, R12: RFB asks for a material on Wednesday 03-04 (3 WD left); the others approve;
    the consolidated notice stops every clock. Nothing is reminded while stopped. The supplement
    comes Friday 03-20: RFB's 3 WD now end Wednesday 03-25, yellow from Tuesday 03-24."""
    case = supervised()
    wednesday = at(date(2026, 3, 4))
    case.handle(request("RFB", item("RFSJ")), wednesday)
    for department in ("ZRZY", "ZJJ", "CGJ"):
        case.handle(approve(department), wednesday)
    assert case.state.stage is Stage.AWAITING_SUPPLEMENT
    case.drain()
    case.advance_time(midnight(date(2026, 3, 20)))
    assert warned(case) == []
    case.handle(Supplement(actor=clerk(), materials=(material("RFSJ"),)), at(date(2026, 3, 20)))
    rfb = case.state.tasks["RFB"].clock
    assert rfb is not None and rfb.deadline is not None
    assert rfb.deadline.last_day == date(2026, 3, 25)
    assert rfb.warning_due(case.calendar, case.warning) == midnight(date(2026, 3, 24))


def test_R19_the_supplement_period_reminds_the_applicant_before_it_lapses() -> None:
    """R19, R6: a consolidated notice on 03-04 gives 30 days (last day 04-03); at 80 % used
    (6 days left) the applicant is reminded, on 03-28 00:00."""
    case = supervised()
    wednesday = at(date(2026, 3, 4))
    case.handle(request("RFB", item("RFSJ")), wednesday)
    for department in ("ZRZY", "ZJJ", "CGJ"):
        case.handle(approve(department), wednesday)
    assert midnight(date(2026, 3, 28)) in case.warning_dues()
    case.drain()
    case.advance_time(midnight(date(2026, 3, 28)))
    (reminder,) = warned(case)
    assert (reminder.clock, reminder.party, reminder.last_day) == (
        SupervisedClock.SUPPLEMENT,
        "applicant",
        date(2026, 4, 3),
    )


def test_R19_the_threshold_is_the_policys() -> None:
    """R19 (configurable): with yellow at 3 WD left, a 5 WD task ending Monday 03-09 is
    yellow from Wednesday 03-04 00:00."""
    case = supervised(policy=CasePolicy(warning=WarningThreshold(remaining_wd=3)))
    rfb = case.state.tasks["RFB"].clock
    assert rfb is not None
    assert rfb.warning_due(case.calendar, case.warning) == midnight(date(2026, 3, 4))


def test_R19_cases_received_without_a_policy_record_no_reminder_and_no_red_mark() -> None:
    """R19: a case of the rules before supervision (no policy) records neither."""
    case = accepted_case(GHXK, MONDAY)
    assert case.warning_dues() == []
    case.advance_time(midnight(date(2026, 3, 20)))
    assert warned(case) == [] and of_type(case.outbox, RedMarkRecorded) == []


def test_R20_one_rating_per_case() -> None:
    """R20: the applicant rates the completed case; a second rating is refused."""
    case = completed(supervised())
    assert case.in_aftercare()
    case.handle(Rate(actor=applicant_actor(), level=RatingLevel.SATISFIED), at(date(2026, 3, 4)))
    (rated,) = of_type(case.outbox, CaseRated)
    assert rated.level is RatingLevel.SATISFIED
    assert not case.in_aftercare()
    with pytest.raises(RatingRefusedError, match="每案只能评价一次"):
        case.check(Rate(actor=clerk(), level=RatingLevel.VERY_SATISFIED))


def test_R20_only_a_completed_case_is_rated_and_only_within_its_period() -> None:
    """R20: a case in review cannot be rated; 15 days after completion the period ends (an
    event of the record) and a rating is refused."""
    case = supervised()
    with pytest.raises(StageError):
        case.check(Rate(actor=applicant_actor(), level=RatingLevel.SATISFIED))
    completed(case)
    assert case.rating_ends() == midnight(date(2026, 3, 19))
    case.advance_time(midnight(date(2026, 3, 19)))
    assert of_type(case.outbox, RatingPeriodEnded)
    assert not case.in_aftercare()
    with pytest.raises(RatingRefusedError, match="评价期限已过"):
        case.check(Rate(actor=applicant_actor(), level=RatingLevel.SATISFIED))


def test_R20_a_bad_rating_opens_a_follow_up_that_turns_yellow_then_red_and_is_answered_late() -> (
    None
):
    """R20, R19: 不满意 about RFB on Wednesday 03-04 opens follow-up F01 for RFB, 5 WD (last
    day Wednesday 03-11); it is reminded on 03-10 00:00, marked red on 03-12 00:00, and stays
    open until RFB answers: the answer is late, and the applicant gets the written reply."""
    case = completed(supervised())
    case.drain()
    rating = Rate(actor=applicant_actor(), level=RatingLevel.DISSATISFIED, concerns=("RFB",))
    case.handle(rating, at(date(2026, 3, 4)))
    (opened,) = of_type(case.outbox, FollowUpOpened)
    assert (opened.party, opened.period_wd, opened.due) == ("RFB", 5, midnight(date(2026, 3, 12)))
    case.advance_time(midnight(date(2026, 3, 10)))
    (reminder,) = warned(case)
    assert (reminder.clock, reminder.follow_up_no) == (
        SupervisedClock.FOLLOW_UP,
        opened.follow_up_no,
    )
    case.advance_time(midnight(date(2026, 3, 12)))
    (red,) = of_type(case.outbox, RedMarkRecorded)
    assert (red.party, red.follow_up_no) == ("RFB", opened.follow_up_no)
    assert case.in_aftercare()

    answer = AnswerFollowUp(
        actor=reviewer("RFB"),
        follow_up_no=opened.follow_up_no,
        explanation="审查人员请假，未及时处理",
        remedy="已建立 AB 岗制度",
    )
    case.handle(answer, at(date(2026, 3, 13)))
    (answered,) = of_type(case.outbox, FollowUpAnswered)
    assert answered.on_time is False
    (reply,) = notices(case.outbox, NoticeKind.FOLLOW_UP_REPLY)
    assert reply.remedy == "已建立 AB 岗制度" and reply.party_name == "人民防空办公室"
    assert not case.in_aftercare()
    with pytest.raises(TaskClosedError):
        case.check(answer)


def test_R20_only_the_addressed_party_answers_a_follow_up() -> None:
    """R20, R22: a bad rating naming nothing concerns the window: a reviewer may not answer
    it, a clerk may; a follow-up of RFB is not answered by ZJJ."""
    case = completed(supervised())
    case.handle(
        Rate(actor=clerk(), level=RatingLevel.VERY_DISSATISFIED, comment="排队太久"),
        at(date(2026, 3, 4)),
    )
    (window,) = case.state.follow_ups.values()
    assert window.party == WINDOW
    by_reviewer = AnswerFollowUp(
        actor=reviewer("RFB"), follow_up_no=window.follow_up_no, explanation="x", remedy="y"
    )
    with pytest.raises(PermissionDeniedError):
        case.check(by_reviewer)
    case.check(by_reviewer.model_copy(update={"actor": clerk()}))


def test_R20_a_complaint_about_an_open_case_opens_a_follow_up_that_outlives_the_case() -> None:
    """R20: a complaint about ZJJ during the review opens a follow-up; the case completes and
    still waits for the answer; a complaint naming a stranger is refused; a closed case takes
    no complaint."""
    case = supervised()
    with pytest.raises(InvalidInputError, match="concerns"):
        case.check(Complain(actor=applicant_actor(), text="推诿", concerns=("XF",)))
    case.handle(
        Complain(actor=applicant_actor(), text="多次催问无人答复", concerns=("ZJJ",)),
        at(date(2026, 3, 2), 15),
    )
    completed(case)
    case.handle(Rate(actor=applicant_actor(), level=RatingLevel.SATISFIED), at(date(2026, 3, 4)))
    assert case.in_aftercare()
    with pytest.raises(StageError):
        case.check(Complain(actor=applicant_actor(), text="再投诉"))
    (follow_up,) = case.state.follow_ups.values()
    case.handle(
        AnswerFollowUp(
            actor=reviewer("ZJJ"),
            follow_up_no=follow_up.follow_up_no,
            explanation="已核实",
            remedy="已整改",
        ),
        at(date(2026, 3, 5)),
    )
    assert not case.in_aftercare()
    assert of_type(case.outbox, FollowUpAnswered)[0].on_time is True
