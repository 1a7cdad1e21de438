"""The engine as its callers see it (the CLI now, the HTTP API later): submit an application,
act on a case, read its status. Temporal's errors are translated into domain refusals here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import (
    Client,
    Interceptor,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from approval.calendar_source import configured_calendar_data
from approval.config import Settings
from approval.contracts import DATA_CONVERTER, ActResult, CaseInput
from approval.domain.calendar import SHANGHAI
from approval.domain.catalogue import Catalogue
from approval.domain.check_code import progress_address
from approval.domain.documents import render_notice
from approval.domain.errors import (
    DomainError,
    InvalidInputError,
    NotCompetentError,
    StageError,
    UnknownMatterError,
)
from approval.domain.events import ActionRefused, ApplicationNotAccepted, CaseEvent
from approval.domain.field_labels import FORMAT_HINTS
from approval.domain.identity_numbers import identity_number_problem
from approval.domain.models import (
    CASE_NUMBER_PATTERN,
    Actor,
    Application,
    CaseCommand,
    Decide,
    Outcome,
    RefusedAttempt,
)
from approval.domain.notices import EDITION, Notice, NoticeKind
from approval.domain.status import CaseStatus
from approval.store.audit_log import next_seq, record_events
from approval.store.numbering import allocate_case_number
from approval.store.schema import CaseEventRow
from workflows.case_workflow import CaseWorkflow

T = TypeVar("T")
ANSWER_WITHIN_S = 20.0
"""Longest wait for the case to answer an action (its events in the store) before the caller
is told the engine is unavailable; the action may still take effect, and resending it with the
same request id gives its one result (R23)."""
IDEMPOTENCY_MEMO = "idempotency_key"
"""The memo field that carries the submission's idempotency key on the case's workflow."""
APPEND_ATTEMPTS = 5
"""Tries to chain a refused attempt after a closed case's last event when others race it."""
NOT_ACCEPTED = ApplicationNotAccepted.kind()
UNLISTED_MATTER = "目录外事项"
"""How a non-acceptance voucher names a matter the catalogue does not list (its code beside)."""
UNAVAILABLE_REASON = "审批引擎暂时无法连接（{what}），请稍后重试；同一请求可安全重发"
log = structlog.get_logger(__name__)


class RefusedError(DomainError):
    """The engine refused an action; the case is unchanged. ``kind`` names the rule's own
    refusal (e.g. TaskClosedError), as the case reported it."""

    def __init__(self, field: str, reason: str, kind: str | None = None) -> None:
        super().__init__(field, reason)
        self.kind = kind or type(self).__name__


class UnknownCaseError(DomainError):
    """No case has that number."""


class EngineUnavailableError(Exception):
    """Temporal, the worker or the store could not be reached: nothing was decided and
    nothing is recorded as refused. The caller may try again (the same request id or
    idempotency key gives one effect, R23)."""

    code = "engine_unavailable"
    retry_after_s = 5

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Submission:
    """The case number an application was given, and whether this call created it."""

    case_no: str
    created: bool


async def connect(
    settings: Settings, runtime: Runtime | None = None, interceptors: Sequence[Interceptor] = ()
) -> Client:
    """A Temporal client that speaks pydantic, on ``runtime`` (default: the SDK's), with
    ``interceptors`` (approval.tracing's, when tracing)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
        runtime=runtime,
        interceptors=interceptors,
    )


def action_fields(case_no: str, command: CaseCommand, update_id: str | None) -> dict[str, Any]:
    """What a log line of an action names: the case, the action, who took it, for which
    department (a decision's, else the actor's), and the Update's id (the request id)."""
    department = getattr(command, "department", None) or command.actor.department
    return {
        "case_no": case_no,
        "action": command.kind,
        "actor": command.actor.id,
        "role": command.actor.role.value,
        "department": department,
        "update_id": update_id,
    }


def check_case_number(case_no: str) -> str:
    """Refuse a malformed case number before anything is sent."""
    if not re.fullmatch(CASE_NUMBER_PATTERN, case_no):
        raise InvalidInputError("case_no", f"办件编号格式不正确：{FORMAT_HINTS['case_no']}")
    return case_no


def check_opinion(command: CaseCommand) -> None:
    """A department's opinion says why: a rejection gives its reasons (R14), a supplement
    request lists the materials, each with what is to be supplemented (R11). Blank text is bad
    input, refused before the case hears of it and not kept as an attempt. Checked here, not
    in the Decide model, so that recorded histories decode as they are."""
    if not isinstance(command, Decide):
        return
    if command.outcome is Outcome.REJECT and not (command.reasons or "").strip():
        raise InvalidInputError("reasons", "不予同意须写明理由，理由不能为空（R14）")
    if command.outcome is not Outcome.REQUEST_SUPPLEMENT:
        return
    if not command.items:
        raise InvalidInputError("items", "要求补正须列明需补正的材料（R11）")
    blank = [item.code for item in command.items if not item.reason.strip()]
    if blank:
        raise InvalidInputError(
            "items", f"需补正的材料 {'、'.join(blank)} 未写明补正要求，每项须写明理由（R11）"
        )


class CaseWorkflowClient:
    """Act on running cases and read their status."""

    def __init__(self, client: Client, answer_within_s: float = ANSWER_WITHIN_S) -> None:
        self._client = client
        self._answer_within_s = answer_within_s

    async def temporal_answers(self, within_s: float = 2.0) -> bool:
        """Whether Temporal's frontend answers its health check within ``within_s``: an RPC
        error, or a client that cannot (re)connect (the SDK's RuntimeError), is a no."""
        try:
            return await self._client.service_client.check_health(
                timeout=timedelta(seconds=within_s)
            )
        except (RPCError, RuntimeError):
            return False

    async def act(
        self, case_no: str, command: CaseCommand, request_id: str | None = None
    ) -> ActResult:
        """Send a human action to the case; once its events are in the store, the case's stage
        and what it recorded. A refusal raises RefusedError naming the field, an outage
        EngineUnavailableError. The same ``request_id`` sent twice has one effect (R23)."""
        handle = self._handle(case_no)
        update = handle.execute_update(CaseWorkflow.act, command, id=request_id)
        taken = action_fields(case_no, command, request_id)
        try:
            result = await self._answer(update, "案件未在时限内答复")
        except WorkflowUpdateFailedError as failure:
            refusal = _refusal(failure.cause)
            log.info("case.action_refused", **taken, reason=str(refusal))
            raise refusal from None
        except RPCError as error:
            raise await self._rpc_refusal(case_no, error) from None
        log.info("case.action_taken", **taken, stage=result.stage.value, seq=result.last_seq)
        return result

    async def act_and_read(
        self, case_no: str, command: CaseCommand, request_id: str | None = None
    ) -> CaseStatus:
        """``act``, then the case's full status, which shows the action (read your write),
        counted as of the case's own time: the action's step."""
        await self.act(case_no, command, request_id)
        return await self._query_status(case_no, None)

    async def _answer(self, call: Awaitable[T], what: str) -> T:
        """The call's answer, or EngineUnavailableError when it does not come in time (the
        call is then cancelled, and whatever it raises on the way out is consumed)."""
        task = asyncio.ensure_future(call)
        try:
            done, _ = await asyncio.wait({task}, timeout=self._answer_within_s)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        try:
            if done:
                return task.result()
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            pass
        raise EngineUnavailableError(UNAVAILABLE_REASON.format(what=what))

    async def send(self, case_no: str, command: CaseCommand, request_id: str) -> None:
        """Send an action and return once the case has accepted it, without waiting for its
        result: for callers that the case itself is waiting on (department systems). An
        opinion without its reasons or items is bad input (check_opinion)."""
        check_opinion(command)
        handle = self._handle(case_no)
        update = handle.start_update(
            CaseWorkflow.act, command, id=request_id, wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        try:
            await self._answer(update, "案件未在时限内受理该操作")
        except WorkflowUpdateFailedError as failure:
            raise _refusal(failure.cause) from None
        except RPCError as error:
            raise await self._rpc_refusal(case_no, error) from None

    async def status(self, case_no: str, as_of: datetime | None = None) -> CaseStatus:
        """The case's full status (Query), its working days left counted at ``as_of``
        (default: now)."""
        return await self._query_status(case_no, as_of or datetime.now(UTC))

    async def _query_status(self, case_no: str, as_of: datetime | None) -> CaseStatus:
        """The status Query; ``as_of`` None counts at the case's last step."""
        handle = self._handle(case_no)
        query = handle.query(CaseWorkflow.status, as_of)
        try:
            return await self._answer(query, "案件状态查询超时")
        except RPCError as error:
            raise await self._rpc_refusal(case_no, error) from None

    async def history(self, case_no: str) -> dict[str, Any] | None:
        """The case's Temporal event history as ``WorkflowHistory.to_json`` writes it (what
        ``auditor.py replay`` reads); None for a case that has no workflow (not accepted at
        the window: R1)."""
        try:
            history = await self._handle(case_no).fetch_history()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return None
            raise await self._rpc_refusal(case_no, error) from None
        found: dict[str, Any] = json.loads(history.to_json())
        return found

    async def _rpc_refusal(self, case_no: str, error: RPCError) -> Exception:
        """Name what went wrong: no such case, a closed case (refusals), or an outage of
        Temporal or the worker (EngineUnavailableError: no refusal, nothing to record)."""
        if error.status is not RPCStatusCode.NOT_FOUND:
            return unavailable(error)
        closed = await self._closed(case_no)
        if closed is None:
            return UnknownCaseError("case_no", f"没有办件编号为 {case_no} 的办件")
        if not closed:  # the case runs: the server lost an unanswered Update (restarted)
            return unavailable(error)
        return StageError("case_no", f"办件 {case_no} 已办结或终止，不能再办理")

    async def _closed(self, case_no: str) -> bool | None:
        """Whether the case's workflow has ended; None when there is no such workflow. An
        outage raises EngineUnavailableError."""
        description = await self._describe(case_no)
        if description is None:
            return None
        return description.status is not WorkflowExecutionStatus.RUNNING

    async def _describe(self, case_no: str) -> WorkflowExecutionDescription | None:
        """The case's workflow as the server describes it; None when there is none. An
        outage raises EngineUnavailableError."""
        try:
            return await self._answer(self._handle(case_no).describe(), "查询案件超时")
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return None
            raise unavailable(error) from None

    def _handle(self, case_no: str) -> WorkflowHandle[CaseWorkflow, object]:
        return self._client.get_workflow_handle_for(CaseWorkflow.run, check_case_number(case_no))


class CaseService(CaseWorkflowClient):
    """Submit, act and read, over one Temporal client and one store."""

    def __init__(
        self,
        client: Client,
        settings: Settings,
        catalogue: Catalogue,
        sessions: sessionmaker[Session],
        answer_within_s: float = ANSWER_WITHIN_S,
    ) -> None:
        super().__init__(client, answer_within_s)
        self._settings = settings
        self._catalogue = catalogue
        self._sessions = sessions

    @property
    def settings(self) -> Settings:
        """The settings the engine runs under."""
        return self._settings

    @property
    def catalogue(self) -> Catalogue:
        """The catalogue applications are received under."""
        return self._catalogue

    async def submit(self, application: Application, clerk: Actor) -> Submission:
        """Receive an application (收件). Unknown matters are refused before anything starts
        (R1); the same idempotency key always gives the same case (R23). An identity number
        whose check character is wrong is bad input: refused, nothing recorded."""
        problem = identity_number_problem(application.applicant.id_number)
        if problem is not None:
            raise InvalidInputError("applicant.id_number", problem)
        now = datetime.now(UTC)
        try:
            matter = self._catalogue.matter(application.matter_code)
        except (UnknownMatterError, NotCompetentError) as refusal:
            raise self._not_accepted(application, clerk, refusal, now) from None
        with self._sessions.begin() as session:
            case_no, created = self._number(session, application, now)
        year = now.astimezone(SHANGHAI).year
        calendar = configured_calendar_data(self._settings, year, year)
        case = CaseInput(
            case_no=case_no,
            catalogue_version=self._catalogue.version,
            centre=self._catalogue.centre,
            matter=matter,
            application=application,
            clerk=clerk,
            calendar=calendar,
            policy=self._catalogue.policy_for(
                matter, progress_address(self._settings.public_base_url)
            ),
        )
        await self._start(case, created)
        return Submission(case_no=case_no, created=created)

    async def _start(self, case: CaseInput, created: bool) -> None:
        """Start the case's workflow. A retried submission finds its case running or closed.
        A new number already taken in Temporal is the same submission when the running case
        carries the same idempotency key (a concurrent retry started it first, R23);
        otherwise the store and Temporal disagree."""
        key = case.application.idempotency_key
        try:
            await self._answer(
                self._client.start_workflow(
                    CaseWorkflow.run,
                    case,
                    id=case.case_no,
                    task_queue=self._settings.task_queue,
                    memo={IDEMPOTENCY_MEMO: key},
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING
                    if not created
                    else WorkflowIDConflictPolicy.FAIL,
                ),
                "启动案件超时",
            )
        except WorkflowAlreadyStartedError:
            if created and await self._started_with_key(case.case_no) != key:
                raise InvalidInputError(
                    "case_no", f"办件编号 {case.case_no} 已在审批引擎中使用，但办件库中没有它的记录"
                ) from None
        except RPCError as error:
            raise unavailable(error) from None

    async def _started_with_key(self, case_no: str) -> str | None:
        """The idempotency key the case's workflow was started with (its memo), if any."""
        description = await self._describe(case_no)
        found = (
            None if description is None else await description.memo_value(IDEMPOTENCY_MEMO, None)
        )
        return found if isinstance(found, str) else None

    async def act(
        self, case_no: str, command: CaseCommand, request_id: str | None = None
    ) -> ActResult:
        """As CaseWorkflowClient.act; a refused attempt is also kept in the case's record (R21).
        A department's opinion without its reasons or items is bad input (check_opinion)."""
        check_opinion(command)
        try:
            return await super().act(case_no, command, request_id)
        except DomainError as refusal:
            if not isinstance(refusal, UnknownCaseError):
                await self._keep_refusal(case_no, command, refusal)
            raise

    async def _keep_refusal(self, case_no: str, command: CaseCommand, refusal: DomainError) -> None:
        """Into the running case's history (a signal), or straight into the store's chain when
        the case's workflow has already ended."""
        attempt = RefusedAttempt(
            actor=command.actor,
            action=command.kind,
            field=refusal.field,
            reason=refusal.reason,
            attempted_at=datetime.now(UTC),
            command=command.model_dump(mode="json"),
        )
        await self._record_attempt(case_no, attempt)

    async def keep_refusal(
        self, case_no: str, actor: Actor, action: str, field: str, reason: str
    ) -> None:
        """Keep in the case's record an attempt refused before it reached the case (the HTTP
        API's role check, R21, R22), as the refusals the case itself decides are kept."""
        attempt = RefusedAttempt(
            actor=actor, action=action, field=field, reason=reason, attempted_at=datetime.now(UTC)
        )
        await self._record_attempt(case_no, attempt)

    async def _record_attempt(self, case_no: str, attempt: RefusedAttempt) -> None:
        """Into the running case by a signal (an event of its history, R21); straight into
        the store's chain only once its workflow has ended, after its last event. An outage
        raises EngineUnavailableError and records nothing."""
        signal = self._handle(case_no).signal(CaseWorkflow.note_refusal, attempt)
        try:
            await self._answer(signal, "记录被拒操作超时")
            return
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise unavailable(error) from None
        closed = await self._closed(case_no)
        if not closed and not (closed is None and self._refused_at_intake(case_no)):
            raise EngineUnavailableError(UNAVAILABLE_REASON.format(what="案件正在受理中"))
        self._append_after_the_last_event(case_no, attempt)

    def _refused_at_intake(self, case_no: str) -> bool:
        """Whether the case was refused at intake (R1): its record is the store's alone."""
        with self._sessions() as session:
            first = session.scalar(
                select(CaseEventRow.type).where(
                    CaseEventRow.case_no == case_no, CaseEventRow.seq == 1
                )
            )
        return first == NOT_ACCEPTED

    def _append_after_the_last_event(self, case_no: str, attempt: RefusedAttempt) -> None:
        """Chain the attempt after the last event of a case whose workflow will write no more
        (ended, or never started). Two appended at once take the same seq: the one that lost
        the insert takes the next."""
        for _ in range(APPEND_ATTEMPTS):
            with self._sessions.begin() as session:
                seq = next_seq(session, case_no)
                event = ActionRefused.of(attempt, seq=seq, at=attempt.attempted_at)
                record_events(
                    session,
                    key=self._settings.audit_key_bytes,
                    case_no=case_no,
                    events=[event],
                    documents=[],
                    now=attempt.attempted_at,
                )
                if _stored_as(session, case_no, event):
                    return
        raise EngineUnavailableError(UNAVAILABLE_REASON.format(what="审计记录写入冲突"))

    def _number(
        self, session: Session, application: Application, now: datetime
    ) -> tuple[str, bool]:
        return allocate_case_number(
            session,
            region_code=self._catalogue.region_code,
            day=now.astimezone(SHANGHAI).date(),
            idempotency_key=application.idempotency_key,
            matter_code=application.matter_code,
            now=now,
        )

    def _not_accepted(
        self, application: Application, clerk: Actor, refusal: DomainError, now: datetime
    ) -> DomainError:
        """Outside the catalogue or competence (R1): nothing starts, but the applicant gets a
        dated non-acceptance voucher with a case number (R5). Returns the refusal to raise."""
        with self._sessions.begin() as session:
            case_no, _ = self._number(session, application, now)
            notice = Notice(
                notice_no=f"{case_no}-N01",
                kind=NoticeKind.NON_ACCEPTANCE_VOUCHER,
                case_no=case_no,
                matter_code=application.matter_code,
                matter_name=getattr(refusal, "matter_name", None) or UNLISTED_MATTER,
                applicant_name=application.applicant.name,
                issued_at=now,
                edition=EDITION,
                reason=refusal.reason,
                competent_organ=getattr(refusal, "competent_organ", None),
            )
            event = ApplicationNotAccepted(
                seq=1, at=now, actor=clerk, reason=refusal.reason, notice=notice
            )
            document = render_notice(notice, self._catalogue.centre)
            record_events(
                session,
                key=self._settings.audit_key_bytes,
                case_no=case_no,
                events=[event],
                documents=[document],
                now=now,
            )
        refusal.reason = f"{refusal.reason}；已出具不予受理通知书 {notice.notice_no}"
        refusal.args = (f"{refusal.field}: {refusal.reason}",)
        return refusal


def _stored_as(session: Session, case_no: str, event: CaseEvent) -> bool:
    """Whether the store's event at ``event.seq`` is this one (not a concurrent append)."""
    row = session.execute(
        select(CaseEventRow.actor_id, CaseEventRow.payload).where(
            CaseEventRow.case_no == case_no, CaseEventRow.seq == event.seq
        )
    ).one_or_none()
    expected = event.payload()
    return row is not None and row.actor_id == event.actor.id and row.payload == expected


def unavailable(error: RPCError) -> EngineUnavailableError:
    """An RPC failure that is not the rules' answer: Temporal or the worker is unreachable."""
    return EngineUnavailableError(UNAVAILABLE_REASON.format(what=error.message or error.status))


def _refusal(cause: BaseException | None) -> Exception:
    """The rules' refusal the Update failed with (a non-retryable ApplicationError naming a
    field and a reason); any other failure is the engine's, not a refusal."""
    if isinstance(cause, ApplicationError) and cause.non_retryable and len(cause.details) >= 2:
        return RefusedError(str(cause.details[0]), str(cause.details[1]), kind=cause.type)
    return EngineUnavailableError(UNAVAILABLE_REASON.format(what=str(cause)))
