"""The case: every rule of the lifecycle, as plain methods over its recorded state.

Each human command has a guard (``check_*``: raises a DomainError, changes nothing) and an
action that applies it and appends past-tense events to the outbox. ``advance_time`` applies
the deadlines that have passed. The workflow orchestrates; the rules live here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from approval.domain.aftercare import AftercareRules
from approval.domain.calendar import SHANGHAI, WorkingCalendar
from approval.domain.case_record import date_of, due_of, last_day_of, provisional_of, require_role
from approval.domain.catalogue import CasePolicy, Matter, MatterKind
from approval.domain.clock import Clock
from approval.domain.errors import (
    ExtensionRefusedError,
    InvalidInputError,
    PermissionDeniedError,
    PiecemealNoticeError,
    StageError,
    TaskClosedError,
)
from approval.domain.events import (
    ActionRefused,
    ApplicationAccepted,
    ApplicationDeemedAccepted,
    ApplicationNotAccepted,
    ApplicationReceived,
    CaseApproved,
    CaseClosed,
    CaseEvent,
    CaseExtended,
    CaseLapsed,
    CasePeriodExpired,
    CaseRejected,
    CaseWithdrawn,
    CertificateIssued,
    ClocksResumed,
    ConsolidatedNoticeIssued,
    DeliveryOverdue,
    Document,
    FeeCollected,
    OneTimeNoticeIssued,
    ReceivedPeriods,
    ResultDelivered,
    ReviewApproved,
    ReviewDeemedApproved,
    ReviewEscalated,
    ReviewRejected,
    ReviewSupplementRequested,
    ReviewTaskCancelled,
    ReviewTaskDispatched,
    SupplementForwarded,
    SupplementReceived,
    WithdrawalNotified,
)
from approval.domain.labels import PROCEDURE_NAMES, STAGE_LABELS, TASK_LABELS
from approval.domain.models import (
    APPLICANT_PARTY,
    ENGINE,
    WINDOW,
    Accept,
    Actor,
    AnswerFollowUp,
    Applicant,
    CaseCommand,
    CloseExcludedPeriod,
    CollectFee,
    Complain,
    Decide,
    Deliver,
    Extend,
    IssueNotice,
    NoticeItem,
    OpenExcludedPeriod,
    Outcome,
    Rate,
    RecordMeeting,
    Refuse,
    RefusedAttempt,
    Role,
    SubmittedMaterial,
    Supplement,
    Withdraw,
)
from approval.domain.notices import DepartmentReason, NoticeKind
from approval.domain.state import (
    AGREEING_TASK_STATES,
    BEFORE_DECISION,
    OPEN_TASK_STATES,
    RESOLVED_TASK_STATES,
    SUPPLEMENTING,
    CaseState,
    Decision,
    ReviewTask,
    Stage,
    SupervisedClock,
    TaskState,
)
from approval.domain.supervision import SupervisionRules

MISSING_REASON = "未提交"


class Case(SupervisionRules, AftercareRules):
    """A case under the rules, with an outbox of the events its changes produced."""

    @classmethod
    def receive(
        cls,
        *,
        case_no: str,
        catalogue_version: str,
        matter: Matter,
        applicant: Applicant,
        materials: Iterable[SubmittedMaterial],
        clerk: Actor,
        now: datetime,
        calendar: WorkingCalendar,
        review_periods_capped: bool = False,
        policy: CasePolicy | None = None,
    ) -> Case:
        """Receipt at the window (收件): the R3 clock for the check starts.
        ``review_periods_capped``: the rules since department periods end by the case's
        deadline (cases received before that keep the old rule). ``policy``: the supervision
        the case runs under (R19, R20); cases received before it have none."""
        state = CaseState(
            case_no=case_no,
            catalogue_version=catalogue_version,
            matter=matter,
            applicant=applicant,
            clerk=clerk,
            received_at=now,
            check_started_at=now,
            materials={m.code: m for m in materials},
            intake_clock=Clock.start(calendar, now, matter.notice_period_wd),
            review_periods_capped=review_periods_capped,
            policy=policy,
            tasks={
                r.department: ReviewTask(
                    department=r.department, name=r.name, depends_on=r.depends_on
                )
                for r in matter.reviews
            },
        )
        case = cls(state, calendar)
        case._record(
            ApplicationReceived(
                **case._stamp(now, clerk),
                matter_code=matter.code,
                catalogue_version=catalogue_version,
                periods=_periods_of(matter, review_periods_capped),
                materials=tuple(sorted(state.materials)),
                documents=_documents(state.materials.values()),
                missing=case.missing_materials(),
                matter_name=matter.name,
                applicant_name=applicant.name,
                review_names={r.department: r.name for r in matter.reviews},
            )
        )
        return case

    # ---- dispatch ----------------------------------------------------------------------------

    def check(self, cmd: CaseCommand) -> None:
        """Refuse the command, changing nothing, if the rules do not allow it now."""
        self._handlers(cmd)[0](cmd)

    def handle(self, cmd: CaseCommand, now: datetime) -> None:
        """Apply the command (after checking it) and record its events."""
        self._handlers(cmd)[1](cmd, now)

    def _handlers(
        self, cmd: CaseCommand
    ) -> tuple[Callable[[Any], object], Callable[[Any, datetime], None]]:
        handlers: dict[type, tuple[Callable[[Any], object], Callable[[Any, datetime], None]]] = {
            Accept: (self.check_accept, self.accept),
            Refuse: (self.check_refuse, self.refuse),
            IssueNotice: (self.check_issue_notice, self.issue_notice),
            Supplement: (self.check_supplement, self.supplement),
            Decide: (self.check_decide, self.decide),
            Extend: (self.check_extend, self.extend),
            Withdraw: (self.check_withdraw, self.withdraw),
            CollectFee: (self.check_collect_fee, self.collect_fee),
            Deliver: (self.check_deliver, self.deliver),
            OpenExcludedPeriod: (self.check_open_excluded_period, self.open_excluded_period),
            CloseExcludedPeriod: (self.check_close_excluded_period, self.close_excluded_period),
            RecordMeeting: (self.check_record_meeting, self.record_meeting),
            Rate: (self.check_rate, self.rate),
            Complain: (self.check_complain, self.complain),
            AnswerFollowUp: (self.check_answer_follow_up, self.answer_follow_up),
        }
        return handlers[type(cmd)]

    # ---- reading ---------------------------------------------------------------------------

    def missing_materials(self) -> list[str]:
        """Demanded materials not yet submitted; 免提交 items are never demanded (R2)."""
        return [
            m.code
            for m in self.state.matter.demanded_materials
            if m.code not in self.state.materials
        ]

    def next_due(self) -> datetime | None:
        """The earliest instant at which a deadline of this case passes."""
        dues = [clock.deadline.due for clock in self._clocks() if clock.running and clock.deadline]
        if self.state.supplement_due and self.state.stage in SUPPLEMENTING:
            dues.append(self.state.supplement_due)
        dues += self.warning_dues() + self.aftercare_dues()
        return min(dues, default=None)

    def drain(self) -> list[CaseEvent]:
        """Hand over the events recorded since the last drain."""
        events, self.outbox = self.outbox, []
        return events

    # ---- intake (R1–R6) ----------------------------------------------------------------------

    def check_accept(self, cmd: Accept) -> None:
        """Only a clerk accepts, only at the check, only with every demanded material (R2)."""
        require_role(cmd, Role.CLERK)
        self._require_stage("accept", Stage.RECEIVED)
        missing = self.missing_materials()
        if missing:
            raise InvalidInputError(
                "materials",
                f"缺少材料：{self._materials(missing)}；请先出具一次性告知书，不能受理（R3）",
            )

    def accept(self, cmd: Accept, now: datetime) -> None:
        """Accept (受理) as of now."""
        self.check_accept(cmd)
        self._accept(now, as_of=now, actor=cmd.actor, deemed=False)

    def check_refuse(self, cmd: Refuse) -> None:
        """Non-acceptance (不予受理) is given by a clerk at the check (R1)."""
        require_role(cmd, Role.CLERK)
        self._require_stage("refuse", Stage.RECEIVED)

    def refuse(self, cmd: Refuse, now: datetime) -> None:
        """Close the case as not accepted, with a written voucher (R1, R5)."""
        self.check_refuse(cmd)
        self._record(ApplicationNotAccepted(**self._stamp(now, cmd.actor), reason=cmd.reason))
        self._issue(
            NoticeKind.NON_ACCEPTANCE_VOUCHER,
            now,
            reason=cmd.reason,
            competent_organ=cmd.competent_organ,
        )
        self._close(Stage.NOT_ACCEPTED, now)

    def check_issue_notice(self, cmd: IssueNotice) -> list[NoticeItem]:
        """The one-time notice lists every missing item at once (R3); a later one names only
        items of the first (R4). Returns the items the notice will list."""
        require_role(cmd, Role.CLERK)
        self._require_stage("issue_notice", Stage.RECEIVED)
        items = [NoticeItem(code=code, reason=MISSING_REASON) for code in self.missing_materials()]
        for item in cmd.defective:
            self._check_demandable(item.code, "defective")
            if item.code not in self.state.materials:
                raise InvalidInputError(
                    "defective",
                    f"{self._materials([item.code])}尚未提交，属于缺少的材料，"
                    "不应列为不符合法定形式的材料",
                )
            items.append(item)
        if not items:
            raise InvalidInputError(
                "defective", "没有缺少或不符合法定形式的材料，无需告知，请直接受理"
            )
        first = self.state.first_intake_notice
        if first is not None:
            new = sorted({i.code for i in items} - set(first))
            if new:
                raise PiecemealNoticeError(
                    "defective",
                    f"{self._materials(new)}不在第一次一次性告知书中，不得再告知新的材料（R4）",
                )
        return items

    def issue_notice(self, cmd: IssueNotice, now: datetime) -> None:
        """Issue the one-time notice (一次性告知书) and wait for the supplement (R3, R6)."""
        items = self.check_issue_notice(cmd)
        state = self.state
        if state.first_intake_notice is None:
            state.first_intake_notice = tuple(i.code for i in items)
        state.intake_clock = None
        self._await_supplement(Stage.AWAITING_INTAKE_SUPPLEMENT, items, now)
        self._record(OneTimeNoticeIssued(**self._stamp(now, cmd.actor), items=tuple(items)))
        self._issue(
            NoticeKind.ONE_TIME_NOTICE,
            now,
            items=tuple(items),
            material_names=state.matter.material_names(i.code for i in items),
            due=last_day_of(state.supplement_due),
        )

    def check_supplement(self, cmd: Supplement) -> None:
        """A supplement answers the open notice: only its items are taken (R4, R11)."""
        require_role(cmd, Role.CLERK, Role.APPLICANT)
        self._require_stage("supplement", *SUPPLEMENTING)
        asked = {i.code for i in self.state.open_notice_items}
        unasked = sorted({m.code for m in cmd.materials} - asked)
        if unasked:
            raise InvalidInputError(
                "materials", f"{self._materials(unasked)}不在告知书要求补正的材料之列"
            )

    def supplement(self, cmd: Supplement, now: datetime) -> None:
        """Take the supplement: re-check at the window, or resume the review (R12)."""
        self.check_supplement(cmd)
        state = self.state
        state.materials.update({m.code: m for m in cmd.materials})
        self._record(
            SupplementReceived(
                **self._stamp(now, cmd.actor),
                materials=tuple(sorted(m.code for m in cmd.materials)),
                documents=_documents(cmd.materials),
            )
        )
        state.open_notice_items = ()
        state.supplement_due = None
        if state.stage is Stage.AWAITING_INTAKE_SUPPLEMENT:
            state.stage = Stage.RECEIVED
            state.check_started_at = now
            state.intake_clock = Clock.start(self.calendar, now, state.matter.notice_period_wd)
            return
        self._resume_review(cmd, now)

    # ---- review (R7–R12) -------------------------------------------------------------------

    def check_decide(self, cmd: Decide) -> ReviewTask:
        """Only the department's own reviewer decides, only an open task (R8, R22), and no new
        item after the consolidated notice (R11). Returns the task."""
        require_role(cmd, Role.REVIEWER)
        if cmd.actor.department != cmd.department:
            raise PermissionDeniedError(
                "department",
                f"{self._department(cmd.actor.department)}的审批人员不能代表"
                f"{self._department(cmd.department)}提出审查意见（R22）",
            )
        task = self.state.tasks.get(cmd.department)
        if task is None:
            raise InvalidInputError("department", f"部门 {cmd.department} 不是本案的审查部门")
        if self.state.excluded_period is not None:
            procedure = PROCEDURE_NAMES[self.state.excluded_period.procedure]
            raise StageError(
                "stage", f"{procedure}期间不计时，须待{procedure}结束后再提出审查意见（R12）"
            )
        if task.state is not TaskState.PENDING or self.state.stage is not Stage.IN_REVIEW:
            raise TaskClosedError(
                "department",
                f"{task.name}的审查任务当前为“{TASK_LABELS[task.state]}”，办件处于"
                f"“{STAGE_LABELS[self.state.stage]}”，不能提出审查意见（R8）",
            )
        for item in cmd.items:
            self._check_demandable(item.code, "items")
        consolidated = self.state.consolidated_items
        if consolidated is not None:
            new = sorted({i.code for i in cmd.items} - set(consolidated))
            if new:
                raise PiecemealNoticeError(
                    "items",
                    f"{self._materials(new)}是合并一次性告知之后新提出的材料，"
                    "合并告知后不得再要求补正新的材料（R11）",
                )
        return task

    def decide(self, cmd: Decide, now: datetime) -> None:
        """Record a department's opinion, then move the case on."""
        task = self.check_decide(cmd)
        task.decided_by, task.decided_at = cmd.actor, now
        answer = {**self._stamp(now, cmd.actor), "department": task.department}
        answer |= self._used(task, now)
        if cmd.outcome is Outcome.REQUEST_SUPPLEMENT:
            task.state, task.requested_items = TaskState.SUPPLEMENT_REQUESTED, cmd.items
            if task.clock:
                task.clock.stop(self.calendar, now)
            self._record(ReviewSupplementRequested(**answer, items=cmd.items))
        elif cmd.outcome is Outcome.REJECT:
            task.state, task.reasons = TaskState.REJECTED, cmd.reasons
            self._record(ReviewRejected(**answer, reasons=cmd.reasons))
        else:
            task.state, task.reasons = TaskState.APPROVED, cmd.reasons
            opinion = {"opinion": cmd.reasons} if cmd.reasons else {}
            self._record(ReviewApproved(**answer, **opinion))
        self._progress(now)

    def check_extend(self, cmd: Extend) -> None:
        """A supervisor extends once, before the decision (R13)."""
        require_role(cmd, Role.SUPERVISOR)
        self._require_stage("extend", Stage.IN_REVIEW, Stage.AWAITING_SUPPLEMENT)
        if self.state.extended:
            raise ExtensionRefusedError("extend", "本案已延长过一次审批期限，不得再次延长（R13）")

    def extend(self, cmd: Extend, now: datetime) -> None:
        """Extend the case's period by 10 WD, or 15 WD for joint handling (R13)."""
        self.check_extend(cmd)
        state = self.state
        assert state.case_clock is not None
        extra = state.matter.extension_wd
        state.case_clock.extend(self.calendar, extra)
        if state.stage is Stage.AWAITING_SUPPLEMENT:
            state.case_clock.stop(self.calendar, now)
        state.extended, state.case_overdue = True, False
        deadline = state.case_clock.deadline
        self._record(CaseExtended(**self._stamp(now, cmd.actor), extra_wd=extra, reason=cmd.reason))
        self._issue(
            NoticeKind.EXTENSION_NOTICE,
            now,
            reason=cmd.reason,
            due=deadline.last_day if deadline else None,
            due_provisional=bool(deadline and deadline.provisional),
        )

    # ---- withdrawal, fee, delivery (R15, R16, R18) -----------------------------------------

    def check_withdraw(self, cmd: Withdraw) -> None:
        """Withdrawal is possible only before the decision (R18)."""
        require_role(cmd, Role.CLERK, Role.APPLICANT)
        self._require_stage("withdraw", *BEFORE_DECISION)

    def withdraw(self, cmd: Withdraw, now: datetime) -> None:
        """Cancel every open task, tell the departments, close the case (R18)."""
        self.check_withdraw(cmd)
        for task in self.state.tasks.values():
            if task.round and task.state not in OPEN_TASK_STATES:
                self._record(
                    WithdrawalNotified(
                        **self._stamp(now, ENGINE), department=task.department, round=task.round
                    )
                )
        self._cancel_open_tasks(now, cmd.actor, cmd.reason)
        self._record(CaseWithdrawn(**self._stamp(now, cmd.actor), reason=cmd.reason))
        self._issue(NoticeKind.WITHDRAWAL_NOTICE, now, reason=cmd.reason)
        self._close(Stage.WITHDRAWN, now)

    def check_collect_fee(self, cmd: CollectFee) -> None:
        """The fee is collected once, at the window, in the catalogue's amount (R15)."""
        require_role(cmd, Role.CLERK)
        self._require_stage("collect_fee", Stage.AWAITING_FEE)
        if cmd.amount_yuan != self.state.matter.fee_yuan:
            raise InvalidInputError(
                "amount_yuan",
                f"本事项应缴费用为{self.state.matter.fee_yuan}元，所收金额不符（R15）",
            )

    def collect_fee(self, cmd: CollectFee, now: datetime) -> None:
        """Take the fee and issue the certificate (R15, R16)."""
        self.check_collect_fee(cmd)
        self.state.fee_paid = True
        self._record(
            FeeCollected(
                **self._stamp(now, cmd.actor),
                amount_yuan=cmd.amount_yuan,
                receipt_no=cmd.receipt_no,
            )
        )
        self._issue_certificate(now)

    def check_deliver(self, cmd: Deliver) -> None:
        """Only an issued certificate or decision is delivered."""
        require_role(cmd, Role.CLERK)
        self._require_stage("deliver", Stage.AWAITING_DELIVERY)

    def deliver(self, cmd: Deliver, now: datetime) -> None:
        """Hand over the result (送达) and complete the case (办结)."""
        self.check_deliver(cmd)
        self._record(ResultDelivered(**self._stamp(now, cmd.actor), method=cmd.method))
        self._close(Stage.COMPLETED, now)

    def note_refusal(self, attempt: RefusedAttempt, now: datetime) -> None:
        """Record a refused attempt in the case's history (R21); nothing else changes."""
        seq = self._stamp(now, attempt.actor)["seq"]
        self._record(ActionRefused.of(attempt, seq=seq, at=now))

    # ---- time --------------------------------------------------------------------------------

    def advance_time(self, now: datetime) -> None:
        """Apply every warning and deadline that has passed by ``now``."""
        state = self.state
        self._warn(now)
        self._advance_aftercare(now)
        if state.stage in SUPPLEMENTING and state.supplement_due and now >= state.supplement_due:
            self._lapse(now)
            return
        if state.intake_clock and state.intake_clock.is_due(now) and state.stage is Stage.RECEIVED:
            self._mark_red(
                now, SupervisedClock.INTAKE, WINDOW, last_day_of_clock(state.intake_clock)
            )
            self._accept(now, as_of=state.check_started_at, actor=ENGINE, deemed=True)
        for task in state.tasks_in(TaskState.PENDING):
            if task.clock and task.clock.is_due(now):
                self._on_review_period_ended(task, now)
        if state.review_periods_capped:
            self._progress(now)  # a decision reached at the case's deadline is in time (R13)
        if state.case_clock and state.case_clock.is_due(now):
            state.case_clock.expired, state.case_overdue = True, True
            self._record(CasePeriodExpired(**self._stamp(now, ENGINE)))
            lead = state.matter.lead_department
            self._mark_red(now, SupervisedClock.CASE, lead, last_day_of_clock(state.case_clock))
        if state.delivery_clock and state.delivery_clock.is_due(now):
            state.delivery_clock.expired, state.delivery_overdue = True, True
            self._record(DeliveryOverdue(**self._stamp(now, ENGINE)))
            delivery = last_day_of_clock(state.delivery_clock)
            self._mark_red(now, SupervisedClock.DELIVERY, WINDOW, delivery)
        self._progress(now)

    # ---- internals ---------------------------------------------------------------------------

    def _accept(self, now: datetime, *, as_of: datetime, actor: Actor, deemed: bool) -> None:
        state = self.state
        state.stage, state.intake_clock = Stage.IN_REVIEW, None
        state.accepted_at, state.accepted_as_of, state.deemed_accepted = now, as_of, deemed
        state.case_clock = Clock.start(self.calendar, as_of, state.matter.committed_period_wd)
        deadline = state.case_clock.deadline
        assert deadline is not None
        acceptance = ApplicationDeemedAccepted if deemed else ApplicationAccepted
        self._record(
            acceptance(
                **self._stamp(now, actor),
                as_of=as_of,
                due=deadline.last_day,
                provisional=deadline.provisional,
            )
        )
        self._issue(
            NoticeKind.ACCEPTANCE_VOUCHER,
            now,
            as_of=date_of(as_of),
            due=deadline.last_day,
            due_provisional=deadline.provisional,
        )
        if state.matter.kind is MatterKind.INSTANT:
            self._decide_case(now, actor)
            return
        self._dispatch_ready_tasks(now)

    def _dispatch_ready_tasks(self, now: datetime) -> None:
        """Start every waiting task whose declared dependencies agreed (R7), all at once."""
        tasks = self.state.tasks
        for task in self.state.tasks_in(TaskState.WAITING):
            if all(tasks[d].state in AGREEING_TASK_STATES for d in task.depends_on):
                review = self.state.matter.review(task.department)
                task.state, task.round = TaskState.PENDING, 1
                task.clock = self._review_clock(now, review.period_wd)
                assert task.clock.deadline is not None
                self._record(
                    ReviewTaskDispatched(
                        **self._stamp(now, ENGINE),
                        department=task.department,
                        round=task.round,
                        due=task.clock.deadline.due,
                        provisional=task.clock.deadline.provisional,
                        materials=tuple(sorted(self.state.materials)),
                        period_wd=task.clock.period_wd,
                    )
                )

    def _review_clock(self, now: datetime, period_wd: int) -> Clock:
        """A department's period from dispatch; where the case's rules cap it, it ends no later
        than the case's own deadline, so a late start (a deemed acceptance, a dependency) cannot
        carry the decision past the committed date (R13)."""
        clock = Clock.start(self.calendar, now, period_wd)
        case_deadline = self.state.case_clock.deadline if self.state.case_clock else None
        capped = (
            self.state.review_periods_capped
            and case_deadline is not None
            and clock.deadline is not None
            and now < case_deadline.due < clock.deadline.due
        )
        if not capped or case_deadline is None:
            return clock
        today = now.astimezone(SHANGHAI).date()
        days_left = self.calendar.working_days_between(today, case_deadline.last_day)
        return Clock(period_wd=days_left, deadline=case_deadline)

    def _on_review_period_ended(self, task: ReviewTask, now: datetime) -> None:
        """Silent consent (超时默认, R9), or escalation where the matter excludes it."""
        assert task.clock is not None
        used = self._used(task, now)
        task.clock.expired, task.overdue = True, True
        if self.state.matter.silent_consent:
            task.state, task.decided_at, task.decided_by = TaskState.DEEMED_APPROVED, now, ENGINE
            self._record(
                ReviewDeemedApproved(
                    **self._stamp(now, ENGINE), department=task.department, overdue=True, **used
                )
            )
        else:
            task.escalated = True
            self._record(
                ReviewEscalated(
                    **self._stamp(now, ENGINE), department=task.department, overdue=True, **used
                )
            )
        self._mark_red(now, SupervisedClock.REVIEW, task.department, last_day_of_clock(task.clock))

    def _progress(self, now: datetime) -> None:
        """After any change in review: start dependants, send the consolidated notice, or
        decide (R7, R11, R14)."""
        if self.state.stage is not Stage.IN_REVIEW:
            return
        self._dispatch_ready_tasks(now)
        tasks = list(self.state.tasks.values())
        if any(t.state is TaskState.PENDING for t in tasks):
            return
        rejected = any(t.state is TaskState.REJECTED for t in tasks)
        asking = [t for t in tasks if t.state is TaskState.SUPPLEMENT_REQUESTED]
        if asking and not rejected:
            self._issue_consolidated_notice(asking, now)
        elif rejected or all(t.state in RESOLVED_TASK_STATES for t in tasks):
            self._decide_case(now, ENGINE)

    def _issue_consolidated_notice(self, asking: list[ReviewTask], now: datetime) -> None:
        """One notice with every department's requests; every clock stops (R11, R12)."""
        state = self.state
        items = _merge_items(item for task in asking for item in task.requested_items)
        if state.consolidated_items is None:
            state.consolidated_items = tuple(i.code for i in items)
        self._stop_clocks(now)
        self._await_supplement(Stage.AWAITING_SUPPLEMENT, items, now)
        self._record(
            ConsolidatedNoticeIssued(
                **self._stamp(now, ENGINE),
                items=tuple(items),
                departments=tuple(t.department for t in asking),
            )
        )
        self._issue(
            NoticeKind.CONSOLIDATED_NOTICE,
            now,
            items=tuple(items),
            material_names=state.matter.material_names(i.code for i in items),
            due=last_day_of(state.supplement_due),
        )

    def _resume_review(self, cmd: Supplement, now: datetime) -> None:
        """Forward the supplement to the departments that asked and resume every clock (R12)."""
        state = self.state
        state.stage = Stage.IN_REVIEW
        asking = state.tasks_in(TaskState.SUPPLEMENT_REQUESTED)
        for clock in self._clocks():
            clock.resume(self.calendar, now)
        for task in asking:
            task.state, task.round, task.requested_items = TaskState.PENDING, task.round + 1, ()
            self._record(
                SupplementForwarded(
                    **self._stamp(now, cmd.actor),
                    department=task.department,
                    round=task.round,
                    due=due_of(task.clock),
                    provisional=provisional_of(task.clock),
                )
            )
        self._record(
            ClocksResumed(
                **self._stamp(now, ENGINE),
                case_due=due_of(state.case_clock),
                case_provisional=provisional_of(state.case_clock),
            )
        )
        self._progress(now)

    def _decide_case(self, now: datetime, actor: Actor) -> None:
        """The decision (R14): any rejection rejects, with every department's reasons."""
        state = self.state
        self._cancel_open_tasks(now, ENGINE, "审批已作出决定")
        rejections = {t.department: t.reasons or "" for t in state.tasks_in(TaskState.REJECTED)}
        deemed_tasks = state.tasks_in(TaskState.DEEMED_APPROVED)
        deemed = tuple(t.department for t in deemed_tasks if not t.absent_at_meeting)
        absent = tuple(t.department for t in deemed_tasks if t.absent_at_meeting)
        state.decision = Decision(
            approved=not rejections,
            decided_at=now,
            deemed_departments=deemed,
            absent_departments=absent,
            rejections=rejections,
        )
        state.case_clock = None
        names = {t.department: t.name for t in state.tasks.values()}
        if rejections:
            self._record(CaseRejected(**self._stamp(now, actor), rejections=rejections))
            self._issue(
                NoticeKind.REJECTION_DECISION,
                now,
                rejections=tuple(
                    DepartmentReason(department=names[d], reasons=r) for d, r in rejections.items()
                ),
            )
            state.stage = Stage.AWAITING_DELIVERY
            return
        in_absence = {"absent_departments": absent} if absent else {}
        self._record(
            CaseApproved(**self._stamp(now, actor), deemed_departments=deemed, **in_absence)
        )
        self._issue(
            NoticeKind.APPROVAL_DECISION,
            now,
            deemed_departments=tuple(names[d] for d in deemed),
            absent_departments=tuple(names[d] for d in absent),
            fee_yuan=str(state.matter.fee_yuan),
        )
        state.delivery_clock = Clock.start(self.calendar, now, state.matter.delivery_period_wd)
        if state.matter.fee_yuan > 0:
            state.stage = Stage.AWAITING_FEE
        else:
            self._issue_certificate(now)

    def _issue_certificate(self, now: datetime) -> None:
        notice = self._issue(NoticeKind.CERTIFICATE, now)
        self.state.certificate_no = notice.notice_no
        self.state.stage = Stage.AWAITING_DELIVERY
        self._record(CertificateIssued(**self._stamp(now, ENGINE), certificate_no=notice.notice_no))

    def _lapse(self, now: datetime) -> None:
        """No supplement in time: the case closes as withdrawn and the applicant is told (R6)."""
        due = self.state.supplement_due
        self._mark_red(now, SupervisedClock.SUPPLEMENT, APPLICANT_PARTY, last_day_of(due))
        self._cancel_open_tasks(now, ENGINE, "逾期未补正")
        self._record(CaseLapsed(**self._stamp(now, ENGINE), supplement_due=due))
        self._issue(NoticeKind.LAPSE_NOTICE, now, due=last_day_of(due))
        self._close(Stage.WITHDRAWN, now)

    def _cancel_open_tasks(self, now: datetime, actor: Actor, reason: str) -> None:
        for task in self.state.tasks_in(*OPEN_TASK_STATES):
            was_dispatched = task.state is not TaskState.WAITING
            task.state, task.clock = TaskState.CANCELLED, None
            if was_dispatched:
                self._record(
                    ReviewTaskCancelled(
                        **self._stamp(now, actor),
                        department=task.department,
                        round=task.round,
                        reason=reason,
                    )
                )

    def _await_supplement(self, stage: Stage, items: list[NoticeItem], now: datetime) -> None:
        state = self.state
        state.stage, state.open_notice_items = stage, tuple(items)
        last_day = now.astimezone(SHANGHAI).date() + timedelta(
            days=state.matter.supplement_period_days
        )
        state.supplement_due = datetime.combine(last_day + timedelta(days=1), time(), SHANGHAI)

    def _close(self, stage: Stage, now: datetime) -> None:
        state = self.state
        state.stage, state.closed_at = stage, now
        state.intake_clock = state.case_clock = state.delivery_clock = None
        state.supplement_due, state.excluded_period = None, None
        self._record(CaseClosed(**self._stamp(now, ENGINE), stage=stage))

    def _check_demandable(self, code: str, field: str) -> None:
        material = self.state.matter.material(code)
        if material is not None and material.shared:
            raise InvalidInputError(
                field,
                f"{self._materials([code])}可通过数据共享获取（免提交），不得要求申请人提交（R2）",
            )

    def _materials(self, codes: Iterable[str]) -> str:
        """Materials as a refusal names them: by their catalogue names, with the codes."""
        return self.state.matter.material_labels(codes)

    def _department(self, code: str | None) -> str:
        """A department as a refusal names it: its name on this case, else its code."""
        task = self.state.tasks.get(code or "")
        return task.name if task else f"部门 {code or '（未注明）'}"


def last_day_of_clock(clock: Clock) -> date | None:
    """The last day of a clock's period, while it has one."""
    return clock.deadline.last_day if clock.deadline else None


def _periods_of(matter: Matter, reviews_capped: bool) -> ReceivedPeriods:
    """The periods a case runs under, as received: so that its record can be checked alone."""
    return ReceivedPeriods(
        notice_wd=matter.notice_period_wd,
        supplement_days=matter.supplement_period_days,
        committed_wd=matter.committed_period_wd,
        statutory_wd=matter.statutory_period_wd,
        extension_wd=matter.extension_wd,
        delivery_wd=matter.delivery_period_wd,
        silent_consent=matter.silent_consent,
        reviews={r.department: r.period_wd for r in matter.reviews},
        reviews_capped=reviews_capped,
    )


def _merge_items(items: Iterable[NoticeItem]) -> list[NoticeItem]:
    """One entry per material code, joining the reasons of every department that asked."""
    merged: dict[str, list[str]] = {}
    for item in items:
        reasons = merged.setdefault(item.code, [])
        if item.reason not in reasons:
            reasons.append(item.reason)
    return [NoticeItem(code=code, reason="；".join(reasons)) for code, reasons in merged.items()]


def _documents(materials: Iterable[SubmittedMaterial]) -> dict[str, Document]:
    """Each material's document and its SHA-256, by code: the record proves what was given."""
    return {
        m.code: Document(document_ref=m.document_ref, sha256=m.sha256)
        for m in sorted(materials, key=lambda m: m.code)
    }
