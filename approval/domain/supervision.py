"""The supervisor's procedures on a case: excluded periods (art. 45, R12) and joint review
meetings (R10)."""

from __future__ import annotations

from datetime import datetime

from approval.domain.case_record import CaseRecord, due_of, provisional_of, require_role
from approval.domain.errors import InvalidInputError
from approval.domain.events import (
    ClocksResumed,
    ExcludedPeriodClosed,
    ExcludedPeriodOpened,
    JointMeetingRecorded,
    ReviewDeemedApprovedInAbsence,
)
from approval.domain.models import (
    ENGINE,
    CloseExcludedPeriod,
    ExcludedPeriodFacts,
    OpenExcludedPeriod,
    RecordMeeting,
    Role,
)
from approval.domain.notices import NoticeKind
from approval.domain.state import ExcludedPeriod, ReviewTask, Stage, TaskState

ABSENCE_REASON = "缺席联合审查会议，视为同意"


class SupervisionRules(CaseRecord):
    """What a supervisor may do while the departments review."""

    def check_open_excluded_period(self, cmd: OpenExcludedPeriod) -> None:
        """A supervisor opens an excluded period during the review, one at a time (R12)."""
        require_role(cmd, Role.SUPERVISOR)
        self._require_stage("open_excluded_period", Stage.IN_REVIEW)

    def open_excluded_period(self, cmd: OpenExcludedPeriod, now: datetime) -> None:
        """Stop every clock for the procedure and tell the applicant in writing what it is and
        how long it is expected to take (art. 45, R12)."""
        self.check_open_excluded_period(cmd)
        state = self.state
        expected = self.calendar.deadline(now, cmd.expected_wd)
        facts = {name: getattr(cmd, name) for name in ExcludedPeriodFacts.model_fields}
        period = ExcludedPeriod(**facts, opened_at=now, expected_last_day=expected.last_day)
        state.stage, state.excluded_period = Stage.EXCLUDED_PERIOD, period
        self._record(
            ExcludedPeriodOpened(
                **self._stamp(now, cmd.actor),
                **period.model_dump(exclude={"opened_at"}),
            )
        )
        self._stop_clocks(now, procedure=cmd.procedure)
        self._issue(
            NoticeKind.EXCLUDED_PERIOD_NOTICE,
            now,
            **facts,
            due=expected.last_day,
            due_provisional=expected.provisional,
        )

    def check_close_excluded_period(self, cmd: CloseExcludedPeriod) -> None:
        """Only a supervisor closes the excluded period that is open (R12)."""
        require_role(cmd, Role.SUPERVISOR)
        self._require_stage("close_excluded_period", Stage.EXCLUDED_PERIOD)

    def close_excluded_period(self, cmd: CloseExcludedPeriod, now: datetime) -> None:
        """The procedure is over: the review goes on, the case's period and every department's
        still open with the working days it had left (R12). A department that had asked for
        materials stays stopped until the supplement comes (R11)."""
        self.check_close_excluded_period(cmd)
        state = self.state
        period = state.excluded_period
        assert period is not None
        state.stage, state.excluded_period = Stage.IN_REVIEW, None
        self._record(
            ExcludedPeriodClosed(
                **self._stamp(now, cmd.actor),
                procedure=period.procedure,
                result=cmd.result,
            )
        )
        pending = state.tasks_in(TaskState.PENDING)
        for clock in [state.case_clock, *(t.clock for t in pending)]:
            if clock is not None:
                clock.resume(self.calendar, now)
        self._record(
            ClocksResumed(
                **self._stamp(now, ENGINE),
                case_due=due_of(state.case_clock),
                case_provisional=provisional_of(state.case_clock),
                after="excluded_period",
                task_dues={t.department: due_of(t.clock) for t in pending},
                task_provisional={
                    t.department: p for t in pending if (p := provisional_of(t.clock)) is not None
                },
            )
        )
        self._progress(now)

    def check_record_meeting(self, cmd: RecordMeeting) -> list[ReviewTask]:
        """A supervisor records a joint review meeting during the review; its attendance names
        only departments of the case (R10). Returns the absent departments' open tasks."""
        require_role(cmd, Role.SUPERVISOR)
        self._require_stage("record_meeting", Stage.IN_REVIEW)
        for field, departments in (("present", cmd.present), ("absent", cmd.absent)):
            strangers = sorted(set(departments) - set(self.state.tasks))
            if strangers:
                raise InvalidInputError(field, f"{'、'.join(strangers)} 不是本案的审查部门")
        return [t for t in self.state.tasks_in(TaskState.PENDING) if t.department in cmd.absent]

    def record_meeting(self, cmd: RecordMeeting, now: datetime) -> None:
        """Record the meeting; each absent department with an open task is deemed to agree,
        the meeting being the recorded reason (缺席默认, R10)."""
        absent_tasks = self.check_record_meeting(cmd)
        self._record(
            JointMeetingRecorded(
                **self._stamp(now, cmd.actor),
                present=cmd.present,
                absent=cmd.absent,
                minutes=cmd.minutes,
            )
        )
        meeting_seq = self.state.last_seq
        for task in absent_tasks:
            task.state, task.absent_at_meeting = TaskState.DEEMED_APPROVED, True
            task.decided_at, task.decided_by = now, ENGINE
            self._record(
                ReviewDeemedApprovedInAbsence(
                    **self._stamp(now, ENGINE),
                    department=task.department,
                    round=task.round,
                    meeting_seq=meeting_seq,
                    reason=ABSENCE_REASON,
                    **self._used(task, now),
                )
            )
        self._progress(now)
