"""Ratings, complaints and their follow-ups (好差评, 效能投诉, R20): the applicant rates the
completed case once; a bad rating, or a complaint about an open case, opens a follow-up (整改)
addressed to each department or the window it concerns, with its own supervised period; the
party answers with its explanation and remedy, and the applicant is told in writing."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from approval.domain.calendar import SHANGHAI
from approval.domain.case_record import date_of, require_role
from approval.domain.clock import Clock
from approval.domain.errors import (
    InvalidInputError,
    PermissionDeniedError,
    RatingRefusedError,
    StageError,
    TaskClosedError,
)
from approval.domain.events import (
    CaseRated,
    ComplaintLodged,
    FollowUpAnswered,
    FollowUpOpened,
    RatingPeriodEnded,
)
from approval.domain.labels import STAGE_LABELS
from approval.domain.models import ENGINE, WINDOW, AnswerFollowUp, Complain, Rate, Role
from approval.domain.notices import NoticeKind
from approval.domain.state import FollowUp, FollowUpCause, Rating, Stage, SupervisedClock
from approval.domain.watch import WatchRules

WINDOW_NAME = "窗口（首问负责）"


class AftercareRules(WatchRules):
    """What the applicant may say of the service, and how it is followed up (R20)."""

    # ---- rating -------------------------------------------------------------------------------

    def check_rate(self, cmd: Rate) -> tuple[str, ...]:
        """The applicant (or a clerk for them) rates a completed case once, within the rating
        period. Returns the parties a bad rating is followed up with."""
        require_role(cmd, Role.APPLICANT, Role.CLERK)
        state = self.state
        if state.policy is None or state.stage is not Stage.COMPLETED:
            raise StageError(
                "stage", f"只有办结的案件可以评价，本案当前为“{STAGE_LABELS[state.stage]}”（R20）"
            )
        if state.rating is not None:
            raise RatingRefusedError(
                "level", f"本案已于 {date_of(state.rating.rated_at)} 评价，每案只能评价一次 (R20)"
            )
        if self.rating_ends() is None:
            raise RatingRefusedError("level", "评价期限已过 (R20)")
        return self._parties(cmd.concerns)

    def rate(self, cmd: Rate, now: datetime) -> None:
        """Record the rating; a bad one opens a follow-up with each party it concerns."""
        parties = self.check_rate(cmd)
        state = self.state
        state.rating = Rating(level=cmd.level, comment=cmd.comment, rated_at=now, actor=cmd.actor)
        concerns = parties if cmd.level.is_bad else cmd.concerns
        comment = {"comment": cmd.comment} if cmd.comment else {}
        self._record(
            CaseRated(**self._stamp(now, cmd.actor), level=cmd.level, concerns=concerns, **comment)
        )
        if cmd.level.is_bad:
            for party in parties:
                self._open_follow_up(party, FollowUpCause.RATING, now)

    def rating_ends(self) -> datetime | None:
        """When the period to rate ends (the midnight after its last calendar day), while the
        case awaits its rating; None otherwise."""
        state = self.state
        policy, closed = state.policy, date_of(state.closed_at)
        awaiting = state.stage is Stage.COMPLETED and not (state.rating or state.rating_closed)
        if policy is None or not policy.rating_period_days or closed is None or not awaiting:
            return None
        last_day = closed + timedelta(days=policy.rating_period_days)
        return datetime.combine(last_day + timedelta(days=1), time(), SHANGHAI)

    # ---- complaints ---------------------------------------------------------------------------

    def check_complain(self, cmd: Complain) -> tuple[str, ...]:
        """A complaint is about a case still open (a completed one is rated instead). Returns
        the parties it is followed up with."""
        require_role(cmd, Role.APPLICANT, Role.CLERK)
        if self.state.policy is None or self.state.is_closed:
            raise StageError("stage", "案件已结束，不能再投诉；办结的案件请评价 (R20)")
        return self._parties(cmd.concerns)

    def complain(self, cmd: Complain, now: datetime) -> None:
        """Record the complaint and open a follow-up with each party it concerns."""
        parties = self.check_complain(cmd)
        self._record(
            ComplaintLodged(**self._stamp(now, cmd.actor), text=cmd.text, concerns=parties)
        )
        for party in parties:
            self._open_follow_up(party, FollowUpCause.COMPLAINT, now)

    # ---- follow-ups ---------------------------------------------------------------------------

    def check_answer_follow_up(self, cmd: AnswerFollowUp) -> FollowUp:
        """Only the addressed party answers an open follow-up: a reviewer of the department,
        or a clerk for the window (R20, R22). Returns the follow-up."""
        follow_up = self.state.follow_ups.get(cmd.follow_up_no)
        if follow_up is None:
            raise InvalidInputError("follow_up_no", f"本案没有整改单 {cmd.follow_up_no}")
        if follow_up.party == WINDOW:
            require_role(cmd, Role.CLERK)
        else:
            require_role(cmd, Role.REVIEWER)
            if cmd.actor.department != follow_up.party:
                raise PermissionDeniedError(
                    "department", f"整改单 {cmd.follow_up_no} 应由 {follow_up.party_name} 答复"
                )
        if not follow_up.is_open:
            raise TaskClosedError("follow_up_no", f"整改单 {cmd.follow_up_no} 已答复 (R20)")
        return follow_up

    def answer_follow_up(self, cmd: AnswerFollowUp, now: datetime) -> None:
        """Record the answer, on time or late, and tell the applicant in writing."""
        follow_up = self.check_answer_follow_up(cmd)
        follow_up.answered_at, follow_up.on_time = now, not follow_up.clock.expired
        self._record(
            FollowUpAnswered(
                **self._stamp(now, cmd.actor),
                follow_up_no=follow_up.follow_up_no,
                party=follow_up.party,
                explanation=cmd.explanation,
                remedy=cmd.remedy,
                on_time=follow_up.on_time,
            )
        )
        self._issue(
            NoticeKind.FOLLOW_UP_REPLY,
            now,
            follow_up_no=follow_up.follow_up_no,
            party_name=follow_up.party_name,
            reason=cmd.explanation,
            remedy=cmd.remedy,
        )

    def _parties(self, concerns: tuple[str, ...]) -> tuple[str, ...]:
        """The departments of the case or the window named, each once; the window when none
        is named."""
        strangers = sorted(set(concerns) - {*self.state.tasks, WINDOW})
        if strangers:
            raise InvalidInputError(
                "concerns", f"{'、'.join(strangers)} 不是本案的审查部门，也不是窗口"
            )
        return tuple(dict.fromkeys(concerns)) or (WINDOW,)

    def _open_follow_up(self, party: str, cause: FollowUpCause, now: datetime) -> None:
        state = self.state
        assert state.policy is not None
        task = state.tasks.get(party)
        follow_up = FollowUp(
            follow_up_no=f"{state.case_no}-F{len(state.follow_ups) + 1:02d}",
            party=party,
            party_name=task.name if task else WINDOW_NAME,
            cause=cause,
            opened_at=now,
            clock=Clock.start(self.calendar, now, state.policy.follow_up_period_wd),
        )
        state.follow_ups[follow_up.follow_up_no] = follow_up
        deadline = follow_up.clock.deadline
        assert deadline is not None
        self._record(
            FollowUpOpened(
                **self._stamp(now, ENGINE),
                follow_up_no=follow_up.follow_up_no,
                party=party,
                party_name=follow_up.party_name,
                cause=cause,
                period_wd=follow_up.clock.period_wd,
                due=deadline.due,
                provisional=deadline.provisional,
            )
        )

    # ---- time ---------------------------------------------------------------------------------

    def in_aftercare(self) -> bool:
        """Whether a closed case still waits: for its rating, or for a follow-up's answer."""
        open_follow_ups = any(f.is_open for f in self.state.follow_ups.values())
        return open_follow_ups or self.rating_ends() is not None

    def aftercare_dues(self) -> list[datetime]:
        """The end of the rating period and every open follow-up's deadline."""
        dues = [
            f.clock.deadline.due
            for f in self.state.follow_ups.values()
            if f.is_open and f.clock.running and f.clock.deadline
        ]
        ends = self.rating_ends()
        return dues if ends is None else [*dues, ends]

    def _advance_aftercare(self, now: datetime) -> None:
        """Close the rating period once it has passed; mark red every follow-up whose period
        has passed unanswered (it stays open until answered)."""
        ends = self.rating_ends()
        if ends is not None and now >= ends:
            self.state.rating_closed = True
            self._record(RatingPeriodEnded(**self._stamp(now, ENGINE)))
        for follow_up in self.state.follow_ups.values():
            clock = follow_up.clock
            if follow_up.is_open and clock.is_due(now) and clock.deadline:
                clock.expired = True
                self._mark_red(
                    now,
                    SupervisedClock.FOLLOW_UP,
                    follow_up.party,
                    clock.deadline.last_day,
                    follow_up.follow_up_no,
                )
