"""Cases: submission and every action at the window, the departments' decisions, the
supervisor's extension, and the status. Each action is the domain command built with the
authenticated actor (R22), sent through the engine."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response, status

from approval.api.deps import CaseNo, CurrentActor, IdempotencyKey, allowed
from approval.api.schemas import Submitted
from approval.domain.models import (
    Accept,
    Actor,
    Application,
    CloseExcludedPeriod,
    CollectFee,
    Decide,
    Deliver,
    ExcludedPeriodFacts,
    ExcludedPeriodResult,
    Extend,
    IssueNotice,
    MeetingFacts,
    OpenExcludedPeriod,
    RecordMeeting,
    Refuse,
    Role,
    Supplement,
    Withdraw,
)
from approval.domain.status import CaseStatus
from approval.http.bodies import (
    DecisionIn,
    DeliverIn,
    ExtendIn,
    FeeIn,
    NoticeIn,
    RefuseIn,
    SupplementIn,
    WithdrawIn,
)
from approval.http.deps import ServiceDep, SessionDep, deciding_department, reviewer_with_task
from approval.http.refusals import REFUSALS

router = APIRouter(prefix="/cases", tags=["cases"], responses=REFUSALS)


def clerk(action: str) -> object:
    """The dependency of a window action: the actor, a clerk."""
    return Depends(allowed(action, Role.CLERK))


def supervisor(action: str) -> object:
    """The dependency of a supervisor's action: the actor, a supervisor."""
    return Depends(allowed(action, Role.SUPERVISOR))


@router.post("", response_model=Submitted, status_code=status.HTTP_201_CREATED)
async def submit(
    application: Application,
    actor: Annotated[Actor, clerk("submit")],
    service: ServiceDep,
    response: Response,
) -> Submitted:
    """Receive an application (收件). The same ``idempotency_key`` gives the same case (200
    instead of 201, R23); a matter outside the catalogue is refused with a voucher (R1)."""
    submission = await service.submit(application, actor)
    if not submission.created:
        response.status_code = status.HTTP_200_OK
    return Submitted(case_no=submission.case_no, created=submission.created)


@router.get("/{case_no}", response_model=CaseStatus)
async def read_status(
    case_no: CaseNo, actor: CurrentActor, service: ServiceDep, session: SessionDep
) -> CaseStatus:
    """The case's status; a reviewer sees only cases its department has a task on (R22)."""
    await reviewer_with_task(service, session, case_no, actor, "read_status")
    return await service.status(case_no)


@router.post("/{case_no}/accept", response_model=CaseStatus)
async def accept(
    case_no: CaseNo,
    actor: Annotated[Actor, clerk("accept")],
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """Accept the application (受理): voucher and parallel tasks (R5, R7)."""
    return await service.act_and_read(case_no, Accept(actor=actor), request_id=idempotency_key)


@router.post("/{case_no}/refuse", response_model=CaseStatus)
async def refuse(
    case_no: CaseNo,
    body: RefuseIn,
    actor: Annotated[Actor, clerk("refuse")],
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """Do not accept a received application (不予受理, R1): the case closes and the applicant
    is given the non-acceptance voucher with the reason and the competent organ (R5)."""
    command = Refuse(actor=actor, reason=body.reason, competent_organ=body.competent_organ)
    return await service.act_and_read(case_no, command, request_id=idempotency_key)


@router.post("/{case_no}/notice", response_model=CaseStatus)
async def issue_notice(
    case_no: CaseNo,
    actor: Annotated[Actor, clerk("issue_notice")],
    service: ServiceDep,
    body: Annotated[NoticeIn | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """Issue the one-time notice (一次性告知书, R3)."""
    defective = body.defective if body else ()
    return await service.act_and_read(
        case_no, IssueNotice(actor=actor, defective=defective), request_id=idempotency_key
    )


@router.post("/{case_no}/supplement", response_model=CaseStatus)
async def supplement(
    case_no: CaseNo,
    body: SupplementIn,
    actor: Annotated[Actor, clerk("supplement")],
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """Record the applicant's supplement (补正)."""
    return await service.act_and_read(
        case_no, Supplement(actor=actor, materials=body.materials), request_id=idempotency_key
    )


@router.post("/{case_no}/withdraw", response_model=CaseStatus)
async def withdraw(
    case_no: CaseNo,
    actor: Annotated[Actor, clerk("withdraw")],
    service: ServiceDep,
    body: Annotated[WithdrawIn | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """Withdraw the application before the decision (R18)."""
    command = Withdraw(actor=actor, reason=body.reason) if body else Withdraw(actor=actor)
    return await service.act_and_read(case_no, command, request_id=idempotency_key)


@router.post("/{case_no}/fee", response_model=CaseStatus)
async def collect_fee(
    case_no: CaseNo,
    body: FeeIn,
    actor: Annotated[Actor, clerk("collect_fee")],
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """Collect the fee at the window, once (R15)."""
    command = CollectFee(actor=actor, amount_yuan=body.amount_yuan, receipt_no=body.receipt_no)
    return await service.act_and_read(case_no, command, request_id=idempotency_key)


@router.post("/{case_no}/deliver", response_model=CaseStatus)
async def deliver(
    case_no: CaseNo,
    actor: Annotated[Actor, clerk("deliver")],
    service: ServiceDep,
    body: Annotated[DeliverIn | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """Hand over the certificate or decision (送达, R16)."""
    command = Deliver(actor=actor, method=body.method) if body else Deliver(actor=actor)
    return await service.act_and_read(case_no, command, request_id=idempotency_key)


@router.post("/{case_no}/decision", response_model=CaseStatus)
async def decide(
    case_no: CaseNo,
    body: DecisionIn,
    actor: Annotated[Actor, Depends(allowed("decide", Role.REVIEWER))],
    service: ServiceDep,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """A department's opinion, in the name of the reviewer's own department (R22): a body
    naming another department is refused and kept (R21). The same ``Idempotency-Key`` sent
    again has one effect (R23)."""
    department = await deciding_department(service, session, case_no, actor, body.department)
    command = Decide(
        actor=actor,
        department=department,
        outcome=body.outcome,
        reasons=body.reasons,
        items=body.items,
    )
    return await service.act_and_read(case_no, command, request_id=idempotency_key)


@router.post("/{case_no}/extend", response_model=CaseStatus)
async def extend(
    case_no: CaseNo,
    body: ExtendIn,
    actor: Annotated[Actor, supervisor("extend")],
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """Extend the case's period once, with a reason sent to the applicant (R13)."""
    return await service.act_and_read(
        case_no, Extend(actor=actor, reason=body.reason), request_id=idempotency_key
    )


@router.post("/{case_no}/excluded-period", response_model=CaseStatus)
async def open_excluded_period(
    case_no: CaseNo,
    body: ExcludedPeriodFacts,
    actor: Annotated[Actor, supervisor("open_excluded_period")],
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """Open an excluded period (听证、检验、鉴定、专家评审…, art. 45): every clock stops and the
    applicant is told in writing its expected length (R12)."""
    command = OpenExcludedPeriod(actor=actor, **body.model_dump())
    return await service.act_and_read(case_no, command, request_id=idempotency_key)


@router.post("/{case_no}/excluded-period/close", response_model=CaseStatus)
async def close_excluded_period(
    case_no: CaseNo,
    body: ExcludedPeriodResult,
    actor: Annotated[Actor, supervisor("close_excluded_period")],
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """Close the excluded period with its result: every clock resumes with the working days
    it had left (R12)."""
    return await service.act_and_read(
        case_no, CloseExcludedPeriod(actor=actor, result=body.result), request_id=idempotency_key
    )


@router.post("/{case_no}/meetings", response_model=CaseStatus)
async def record_meeting(
    case_no: CaseNo,
    body: MeetingFacts,
    actor: Annotated[Actor, supervisor("record_meeting")],
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """Record a joint review meeting with its attendance: an absent department with an open
    task is deemed to agree, the meeting being the reason (缺席默认, R10)."""
    return await service.act_and_read(
        case_no, RecordMeeting(actor=actor, **body.model_dump()), request_id=idempotency_key
    )
