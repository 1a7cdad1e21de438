"""One workflow per case (workflow id = case number): it holds the case, takes every human
action as an Update, waits on the nearest deadline with a timer, and hands each step's events
to the activities (the store, the applicant's notices, the department systems)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.departments import DepartmentActivities
    from activities.store import StoreActivities
    from approval.contracts import (
        ActResult,
        CaseInput,
        CaseResult,
        DepartmentMessage,
        RecordRequest,
    )
    from approval.domain.calendar import WorkingCalendar
    from approval.domain.case import Case
    from approval.domain.catalogue import CasePolicy
    from approval.domain.errors import DomainError
    from approval.domain.events import CaseEvent, RedMarkRecorded
    from approval.domain.models import Application, CaseCommand, RefusedAttempt
    from approval.domain.status import CaseStatus, case_status
    from approval.routing import decides, decision_messages, department_messages
    from approval.search_attributes import CaseAttributes

STORE_TIMEOUT = timedelta(seconds=30)
DEPARTMENT_TIMEOUT = timedelta(seconds=60)
DEPARTMENT_HEARTBEAT = timedelta(seconds=10)
"""A department send beats while it waits for the department's system: one whose worker died is
handed to another worker once this passes without a beat, not only when DEPARTMENT_TIMEOUT
does (the case's next store write waits behind it). Timeouts are not part of what a replay
compares: the golden histories replay with it."""
TELL_DEPARTMENTS_THE_DECISION = "tell-departments-the-decision"
"""Patch: a decided case tells every department that reviewed it the decision."""
CAP_REVIEW_PERIODS = "cap-review-periods-at-case-deadline"
"""Patch: a department's period ends no later than the case's deadline (R13)."""
RECORD_STEPS_LOCALLY = "record-steps-as-local-activities"
"""Patch: each step's store write runs as a local activity, inside the workflow task (no round
trip through the server's activity queue); the write is idempotent, so a retry after a crash
writes nothing twice (R23)."""
RECORD_STEPS_FROM_HISTORY = "record-steps-from-the-committed-history"
"""Patch: each step's store write is a regular activity again, so it runs only once the
workflow task that made the step has committed, and writes the step exactly as the history
holds it (the ActivityTaskScheduled input). A local write ran inside the task and committed
before it: when the task was lost (worker or server killed) the retried task made the step
again with other content for the same seq, and the stale row stayed. Cases that began under
RECORD_STEPS_LOCALLY keep it; new cases record from the history, and also record an action
that reached the case while it was closing."""
SUPERVISE_AND_RATE = "supervise-clocks-and-take-ratings"
"""Patch: the case runs under a supervision policy: each supervised clock reminds its party
when it turns yellow and records a red mark when its period passes (R19); a completed case
waits for the applicant's rating, and every follow-up of a bad rating or complaint is answered
before the workflow ends (R20). Cases begun before it record neither and end at closing."""
UPSERT_SEARCH_ATTRIBUTES = "upsert-case-search-attributes"
"""Patch: after each recorded step the case upserts the search attributes that changed
(approval.search_attributes: stage, matter, departments, centre, overdue, red mark, received
and committed-completion times), so Temporal's UI and list queries filter cases by them."""
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


def _refusal(error: DomainError) -> ApplicationError:
    """A domain refusal as the caller sees it: type, field and reason, no retry."""
    return ApplicationError(
        str(error), error.field, error.reason, type=type(error).__name__, non_retryable=True
    )


@workflow.defn
class CaseWorkflow:
    """A case from receipt at the window to completion (办结)."""

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        self._input = case
        self._recorded_seq = 0
        self._records_from_history: bool | None = None
        self._attributes: CaseAttributes | None = None
        self._red_marked = False
        application: Application = case.application
        self._case = Case.receive(
            case_no=case.case_no,
            catalogue_version=case.catalogue_version,
            matter=case.matter,
            applicant=application.applicant,
            materials=application.materials,
            clerk=case.clerk,
            now=workflow.now(),
            calendar=WorkingCalendar(case.calendar),
            review_periods_capped=workflow.patched(CAP_REVIEW_PERIODS),
            policy=(case.policy or CasePolicy()) if workflow.patched(SUPERVISE_AND_RATE) else None,
        )

    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        """Flush each step's events, then sleep until an action or the nearest deadline; a
        closed case ends once nothing is left to wait for (its rating, a follow-up's answer)."""
        while True:
            await self._flush()
            if self._case.state.is_closed:
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._case.outbox and self._records_from_history:
                    continue
                if not self._case.in_aftercare():
                    break
            await self._wait_for_action_or_deadline()
            self._case.advance_time(workflow.now())
        state = self._case.state
        return CaseResult(
            case_no=state.case_no,
            stage=state.stage,
            decision=state.decision,
            closed_at=state.closed_at,
        )

    async def _wait_for_action_or_deadline(self) -> None:
        due = self._case.next_due()
        timeout = None if due is None else due - workflow.now()
        if timeout is not None and timeout <= timedelta(0):
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(lambda: bool(self._case.outbox), timeout=timeout)

    async def _flush(self) -> None:
        """Record each step's events (idempotent, R23), then tell the departments (R7), until
        no action taken meanwhile is left unrecorded."""
        while events := self._case.drain():
            await self._flush_step(events)

    async def _flush_step(self, events: list[CaseEvent]) -> None:
        request = self._step(events)
        if self._records_locally():
            await workflow.execute_local_activity_method(
                StoreActivities.record_step_locally,
                request,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=RETRY,
            )
        else:
            await workflow.execute_activity_method(
                StoreActivities.record_case_events,
                request,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=RETRY,
            )
        self._recorded_seq = request.last_seq
        self._upsert_search_attributes(events)
        await asyncio.gather(*(self._send(m) for m in self._messages(events)))

    def _records_locally(self) -> bool:
        """Whether this case writes its steps as local activities: only a case that began
        under RECORD_STEPS_LOCALLY, before RECORD_STEPS_FROM_HISTORY (decided at its first
        step, then kept for the whole case)."""
        if self._records_from_history is None:
            self._records_from_history = workflow.patched(RECORD_STEPS_FROM_HISTORY)
        return not self._records_from_history and workflow.patched(RECORD_STEPS_LOCALLY)

    def _upsert_search_attributes(self, events: list[CaseEvent]) -> None:
        """Upsert the search attributes a recorded step changed (UPSERT_SEARCH_ATTRIBUTES)."""
        if not workflow.patched(UPSERT_SEARCH_ATTRIBUTES):
            return
        self._red_marked |= any(isinstance(event, RedMarkRecorded) for event in events)
        now = CaseAttributes.of(self._case.state, self._input.centre, self._red_marked)
        if updates := now.updates(self._attributes):
            workflow.upsert_search_attributes(updates)
        self._attributes = now

    def _step(self, events: list[CaseEvent]) -> RecordRequest:
        """What the store is given for a step: its events (the store computes the read model
        from them)."""
        return RecordRequest(
            case_no=self._input.case_no,
            centre=self._input.centre,
            events=tuple(events),
            last_seq=events[-1].seq,
        )

    def _messages(self, events: list[CaseEvent]) -> list[DepartmentMessage]:
        """What the department systems are sent for a recorded step. Cases decided since
        TELL_DEPARTMENTS_THE_DECISION also tell every reviewing department the decision;
        cases that passed their decision before that change replay without it."""
        messages = department_messages(self._case.state, events)
        if decides(events) and workflow.patched(TELL_DEPARTMENTS_THE_DECISION):
            messages += decision_messages(self._case.state, events)
        return messages

    async def _send(self, message: DepartmentMessage) -> None:
        await workflow.execute_activity_method(
            DepartmentActivities.send_to_department,
            message,
            start_to_close_timeout=DEPARTMENT_TIMEOUT,
            heartbeat_timeout=DEPARTMENT_HEARTBEAT,
            retry_policy=RETRY,
        )

    def _status(self, now: datetime) -> CaseStatus:
        return case_status(
            self._case.state, self._case.missing_materials(), self._case.calendar, now
        )

    # ---- the Query and the Update --------------------------------------------------------

    @workflow.query
    def status(self, as_of: datetime | None = None) -> CaseStatus:
        """The full status; remaining working days counted at ``as_of`` (default: now)."""
        return self._status(as_of or workflow.now())

    @workflow.update
    async def act(self, command: CaseCommand) -> ActResult:
        """Every human action (accept, notice, supplement, decide, extend, withdraw, fee,
        deliver …); ``command.kind`` says which. Answers once the action's events are in the
        store, so that the caller reads its own writes; the status is read where it is shown
        (the ``status`` Query, the store's read model)."""
        self._case.advance_time(workflow.now())
        try:
            self._case.handle(command, workflow.now())
        except DomainError as error:
            raise _refusal(error) from error
        state = self._case.state
        result = ActResult(stage=state.stage, last_seq=state.last_seq)
        await workflow.wait_condition(lambda: self._recorded_seq >= result.last_seq)
        return result

    @act.validator
    def _check_act(self, command: CaseCommand) -> None:
        """Refuse, before anything reaches history, what the rules do not allow."""
        try:
            self._case.check(command)
        except DomainError as error:
            raise _refusal(error) from error

    @workflow.signal
    def note_refusal(self, attempt: RefusedAttempt) -> None:
        """A refused attempt, reported by the caller the validator refused (R21): a refused
        Update leaves nothing in the history, so it is recorded as an event of its own."""
        self._case.note_refusal(attempt, workflow.now())
