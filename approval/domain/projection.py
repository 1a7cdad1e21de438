"""The read model as a projection of the events: what the store's ``cases`` and
``review_tasks`` tables show of a case, computed from its events alone.

A step of a case crosses Temporal as its events only; the store folds them into the rows the
desks read (inboxes, boards, the public progress page). Lights and working days left are
computed where they are read, from these deadlines and the calendar (approval.domain.status).
tests/domain/test_projection.py proves, step by step on every path of a case, that the rows equal
those the full status gave.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from approval.domain.calendar import SHANGHAI
from approval.domain.events import (
    ApplicationAccepted,
    ApplicationDeemedAccepted,
    ApplicationReceived,
    CaseApproved,
    CaseClosed,
    CaseEvent,
    CaseExtended,
    CaseLapsed,
    CasePeriodExpired,
    CaseRated,
    CaseRejected,
    CaseWithdrawn,
    CertificateIssued,
    ClocksResumed,
    ClocksStopped,
    ClockWarned,
    ConsolidatedNoticeIssued,
    ExcludedPeriodClosed,
    ExcludedPeriodOpened,
    FollowUpAnswered,
    FollowUpOpened,
    NoticeIssued,
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
    SupplementReceived,
    TaskAnswer,
)
from approval.domain.models import ENGINE
from approval.domain.notices import NoticeKind
from approval.domain.state import OPEN_TASK_STATES, Stage, SupervisedClock, TaskState


class TaskView(BaseModel):
    """One department's task as the read model holds it (table ``review_tasks``)."""

    department: str
    name: str
    state: TaskState = TaskState.WAITING
    round: int = 0
    due_at: datetime | None = None
    last_day: date | None = None
    provisional: bool = False
    period_wd: int | None = None
    overdue: bool = False
    escalated: bool = False
    decided_by: str | None = None
    decided_at: datetime | None = None
    dispatched_at: datetime | None = None
    used_wd: int | None = None
    reminded_at: datetime | None = None
    red_marked: bool = False
    absent_at_meeting: bool = False
    supplement_requested: bool = False

    def run_until(self, due: datetime | None, provisional: bool | None = None) -> None:
        """The task's clock runs until ``due`` (or is stopped, when None)."""
        self.due_at, self.last_day = due, last_day_before(due)
        if provisional is not None:
            self.provisional = provisional
        elif due is None:
            self.provisional = False

    def close(self, state: TaskState) -> None:
        """The task is no longer open: it has no clock."""
        self.state = state
        self.run_until(None)
        self.period_wd = None

    def decided(self, state: TaskState, by: str, at: datetime) -> None:
        """A decision on the task, by whom and when."""
        self.close(state)
        self.decided_by, self.decided_at = by, at


class FollowUpView(BaseModel):
    """One follow-up as the read model holds it (table ``follow_ups``, R20)."""

    follow_up_no: str
    party: str
    party_name: str
    cause: str
    opened_at: datetime
    due_at: datetime
    period_wd: int
    answered_at: datetime | None = None
    on_time: bool | None = None
    reminded: bool = False
    red_marked: bool = False


class CaseView(BaseModel):
    """A case as the read model holds it (table ``cases``), with its tasks and follow-ups."""

    case_no: str
    matter_code: str
    matter_name: str
    applicant_name: str
    catalogue_version: str
    stage: Stage
    received_at: datetime
    accepted_at: datetime | None = None
    decided_at: datetime | None = None
    approved: bool | None = None
    case_last_day: date | None = None
    provisional: bool = False
    overdue: bool = False
    last_seq: int = 0
    updated_at: datetime
    clerk_id: str | None = None
    deemed_accepted: bool = False
    intake_notices: int = 0
    closed_at: datetime | None = None
    rating: str | None = None
    rated_at: datetime | None = None
    tasks: dict[str, TaskView] = {}
    follow_ups: dict[str, FollowUpView] = {}

    def apply(self, events: Iterable[CaseEvent]) -> None:
        """Fold the events the view has not seen yet (a retry applies nothing twice)."""
        for event in events:
            if event.seq <= self.last_seq:
                continue
            rule = _RULES.get(type(event))
            if rule is not None:
                rule(self, event)
            self.last_seq, self.updated_at = event.seq, max(self.updated_at, event.at)


def received(case_no: str, event: ApplicationReceived) -> CaseView:
    """The view of a case from its receipt."""
    names = event.review_names
    return CaseView(
        case_no=case_no,
        matter_code=event.matter_code,
        matter_name=event.matter_name or event.matter_code,
        applicant_name=event.applicant_name or "",
        catalogue_version=event.catalogue_version,
        stage=Stage.RECEIVED,
        received_at=event.at,
        last_seq=event.seq,
        updated_at=event.at,
        clerk_id=event.actor.id,
        tasks={d: TaskView(department=d, name=names.get(d, d)) for d in event.periods.reviews},
    )


def last_day_before(due: datetime | None) -> date | None:
    """The last working day of a period that ends at ``due`` (a midnight in Shanghai)."""
    return (due.astimezone(SHANGHAI) - timedelta(days=1)).date() if due else None


# ---- one rule per event that changes the view -----------------------------------------------


def _accepted(view: CaseView, e: ApplicationAccepted | ApplicationDeemedAccepted) -> None:
    view.stage, view.accepted_at = Stage.IN_REVIEW, e.at
    view.case_last_day, view.provisional = e.due, e.provisional
    view.deemed_accepted = isinstance(e, ApplicationDeemedAccepted)


def _intake_notice(view: CaseView, e: OneTimeNoticeIssued) -> None:
    view.stage, view.intake_notices = Stage.AWAITING_INTAKE_SUPPLEMENT, view.intake_notices + 1


def _notice(view: CaseView, e: NoticeIssued) -> None:
    if e.notice.kind is NoticeKind.EXTENSION_NOTICE:
        view.case_last_day, view.provisional = e.notice.due, e.notice.due_provisional


def _extended(view: CaseView, e: CaseExtended) -> None:
    view.overdue = False


def _expired(view: CaseView, e: CasePeriodExpired) -> None:
    view.overdue = True


def _stopped(view: CaseView, e: ClocksStopped) -> None:
    """Every running clock stops; one whose period has passed stays as it was."""
    if not view.overdue:
        view.case_last_day = None
    for task in view.tasks.values():
        if task.state in OPEN_TASK_STATES and task.due_at is not None and not task.escalated:
            task.run_until(None)


def _resumed(view: CaseView, e: ClocksResumed) -> None:
    if e.case_due is not None:
        view.case_last_day = last_day_before(e.case_due)
        if e.case_provisional is not None:
            view.provisional = e.case_provisional
    for department, due in e.task_dues.items():
        view.tasks[department].run_until(due, e.task_provisional.get(department))


def _decided(view: CaseView, e: CaseApproved | CaseRejected) -> None:
    _cancel_waiting(view)
    view.decided_at, view.approved = e.at, isinstance(e, CaseApproved)
    view.case_last_day = None
    view.stage = Stage.AWAITING_FEE if isinstance(e, CaseApproved) else Stage.AWAITING_DELIVERY


def _cancel_waiting(view: CaseView, e: object = None) -> None:
    """Tasks never dispatched are cancelled without an event of their own (R18)."""
    for task in view.tasks.values():
        if task.state is TaskState.WAITING:
            task.close(TaskState.CANCELLED)


def _closed(view: CaseView, e: CaseClosed) -> None:
    view.stage, view.case_last_day, view.closed_at = e.stage, None, e.at


def _supplement(view: CaseView, e: SupplementReceived) -> None:
    at_window = view.stage is Stage.AWAITING_INTAKE_SUPPLEMENT
    view.stage = Stage.RECEIVED if at_window else Stage.IN_REVIEW


def _stage(stage: Stage) -> Callable[[CaseView, Any], None]:
    def set_stage(view: CaseView, e: object) -> None:
        view.stage = stage

    return set_stage


def _dispatched(view: CaseView, e: ReviewTaskDispatched) -> None:
    task = view.tasks[e.department]
    task.state, task.round, task.period_wd = TaskState.PENDING, e.round, e.period_wd
    task.dispatched_at = task.dispatched_at or e.at
    task.run_until(e.due, e.provisional)


def _forwarded(view: CaseView, e: SupplementForwarded) -> None:
    task = view.tasks[e.department]
    task.state, task.round = TaskState.PENDING, e.round
    task.run_until(e.due, e.provisional)


def _answered(
    view: CaseView, e: ReviewApproved | ReviewRejected | ReviewDeemedApprovedInAbsence
) -> None:
    state = TaskState.REJECTED if isinstance(e, ReviewRejected) else TaskState.APPROVED
    task = _timed(view, e)
    if isinstance(e, ReviewDeemedApprovedInAbsence):
        state, task.absent_at_meeting = TaskState.DEEMED_APPROVED, True
    task.decided(state, e.actor.id, e.at)


def _timed(view: CaseView, e: TaskAnswer) -> TaskView:
    """The answered task, with the working days it used where the answer states them."""
    task = view.tasks[e.department]
    if e.used_wd is not None:
        task.used_wd = e.used_wd
    return task


def _asked(view: CaseView, e: ReviewSupplementRequested) -> None:
    task = _timed(view, e)
    task.state, task.decided_by, task.decided_at = TaskState.SUPPLEMENT_REQUESTED, e.actor.id, e.at
    task.supplement_requested = True
    task.run_until(None)


def _deemed(view: CaseView, e: ReviewDeemedApproved) -> None:
    task = _timed(view, e)
    task.decided(TaskState.DEEMED_APPROVED, ENGINE.id, e.at)
    task.overdue = True


def _escalated(view: CaseView, e: ReviewEscalated) -> None:
    task = _timed(view, e)
    task.overdue = task.escalated = True


def _warned(view: CaseView, e: ClockWarned) -> None:
    if e.clock is SupervisedClock.REVIEW and e.party in view.tasks:
        view.tasks[e.party].reminded_at = e.at
    elif e.follow_up_no in view.follow_ups:
        view.follow_ups[e.follow_up_no].reminded = True


def _marked_red(view: CaseView, e: RedMarkRecorded) -> None:
    if e.clock is SupervisedClock.REVIEW and e.party in view.tasks:
        view.tasks[e.party].red_marked = True
    elif e.follow_up_no in view.follow_ups:
        view.follow_ups[e.follow_up_no].red_marked = True


def _rated(view: CaseView, e: CaseRated) -> None:
    view.rating, view.rated_at = e.level.value, e.at


def _follow_up_opened(view: CaseView, e: FollowUpOpened) -> None:
    view.follow_ups[e.follow_up_no] = FollowUpView(
        follow_up_no=e.follow_up_no,
        party=e.party,
        party_name=e.party_name,
        cause=e.cause.value,
        opened_at=e.at,
        due_at=e.due,
        period_wd=e.period_wd,
    )


def _follow_up_answered(view: CaseView, e: FollowUpAnswered) -> None:
    follow_up = view.follow_ups[e.follow_up_no]
    follow_up.answered_at, follow_up.on_time = e.at, e.on_time


def _cancelled(view: CaseView, e: ReviewTaskCancelled) -> None:
    view.tasks[e.department].close(TaskState.CANCELLED)


_RULES: dict[type, Callable[[CaseView, Any], None]] = {
    ApplicationAccepted: _accepted,
    ApplicationDeemedAccepted: _accepted,
    OneTimeNoticeIssued: _intake_notice,
    SupplementReceived: _supplement,
    ConsolidatedNoticeIssued: _stage(Stage.AWAITING_SUPPLEMENT),
    ExcludedPeriodOpened: _stage(Stage.EXCLUDED_PERIOD),
    ExcludedPeriodClosed: _stage(Stage.IN_REVIEW),
    ClocksStopped: _stopped,
    ClocksResumed: _resumed,
    NoticeIssued: _notice,
    CaseExtended: _extended,
    CasePeriodExpired: _expired,
    CaseApproved: _decided,
    CaseRejected: _decided,
    CertificateIssued: _stage(Stage.AWAITING_DELIVERY),
    CaseWithdrawn: _cancel_waiting,
    CaseLapsed: _cancel_waiting,
    CaseClosed: _closed,
    ReviewTaskDispatched: _dispatched,
    SupplementForwarded: _forwarded,
    ReviewApproved: _answered,
    ReviewRejected: _answered,
    ReviewDeemedApprovedInAbsence: _answered,
    ReviewSupplementRequested: _asked,
    ReviewDeemedApproved: _deemed,
    ReviewEscalated: _escalated,
    ReviewTaskCancelled: _cancelled,
    ClockWarned: _warned,
    RedMarkRecorded: _marked_red,
    CaseRated: _rated,
    FollowUpOpened: _follow_up_opened,
    FollowUpAnswered: _follow_up_answered,
}
"""What each kind of event changes in the view; the others change only its seq."""
