"""Ratings, complaints and follow-ups (好差评, 效能投诉, 整改, R20): a clerk records the
applicant's rating or complaint at the window; the addressed department's reviewer, or a
clerk for the window, answers a follow-up; each party lists its own follow-ups, the supervisor
and the auditor every party's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from approval.api.deps import CaseNo, IdempotencyKey, allowed
from approval.api.schemas import FollowUpItem, FollowUpPage
from approval.domain.models import WINDOW, Actor, AnswerFollowUp, Complain, Rate, Role
from approval.domain.status import CaseStatus
from approval.http.bodies import ComplaintIn, FollowUpAnswerIn, RatingIn
from approval.http.deps import ServiceDep, SessionDep
from approval.http.paging import PAGE_SIZE, Limit, Offset
from approval.http.refusals import REFUSALS
from approval.store.lights import calendar_through, follow_up_clock
from approval.store.queries import follow_ups_of

router = APIRouter(tags=["ratings"], responses=REFUSALS)


@router.post("/cases/{case_no}/rating", response_model=CaseStatus)
async def rate(
    case_no: CaseNo,
    body: RatingIn,
    actor: Annotated[Actor, Depends(allowed("rate", Role.CLERK))],
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """The applicant's one rating of the completed case, recorded by a clerk (R20); a bad one
    opens a follow-up with each party it concerns (the window when none is named)."""
    command = Rate(actor=actor, **body.model_dump(exclude_unset=True))
    return await service.act_and_read(case_no, command, request_id=idempotency_key)


@router.post("/cases/{case_no}/complaints", response_model=CaseStatus)
async def complain(
    case_no: CaseNo,
    body: ComplaintIn,
    actor: Annotated[Actor, Depends(allowed("complain", Role.CLERK))],
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """An efficiency complaint about the open case (效能投诉, R20): a follow-up goes to each
    party it concerns."""
    command = Complain(actor=actor, **body.model_dump(exclude_unset=True))
    return await service.act_and_read(case_no, command, request_id=idempotency_key)


@router.post("/cases/{case_no}/follow-ups/answer", response_model=CaseStatus)
async def answer_follow_up(
    case_no: CaseNo,
    body: FollowUpAnswerIn,
    actor: Annotated[Actor, Depends(allowed("answer_follow_up", Role.REVIEWER, Role.CLERK))],
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseStatus:
    """The addressed party answers a follow-up with its explanation and remedy; the applicant
    is told in writing (R20). Only its party may: the department's reviewer, or a clerk for
    the window (R22)."""
    command = AnswerFollowUp(actor=actor, **body.model_dump())
    return await service.act_and_read(case_no, command, request_id=idempotency_key)


@router.get("/follow-ups", response_model=FollowUpPage)
async def follow_ups(
    actor: Annotated[
        Actor,
        Depends(allowed("follow_ups", Role.REVIEWER, Role.CLERK, Role.SUPERVISOR, Role.AUDITOR)),
    ],
    service: ServiceDep,
    session: SessionDep,
    open_only: Annotated[bool, Query(description="only those not yet answered")] = True,
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> FollowUpPage:
    """The follow-ups of the caller's party, earliest deadline first: a reviewer's department,
    a clerk's window; every party's for a supervisor or an auditor (R20, R22)."""
    party = {Role.REVIEWER: actor.department or "", Role.CLERK: WINDOW}.get(actor.role)
    total, rows = follow_ups_of(session, party, open_only=open_only, limit=limit, offset=offset)
    now = datetime.now(UTC)
    calendar = calendar_through(service.settings, (row.due_at.date() for row, _ in rows), now)
    items = []
    for row, case in rows:
        clock = follow_up_clock(row, calendar, now)
        items.append(
            FollowUpItem(
                follow_up_no=row.follow_up_no,
                case_no=row.case_no,
                matter_name=case.matter_name,
                party=row.party,
                party_name=row.party_name,
                cause=row.cause,
                opened_at=row.opened_at,
                due=row.due_at,
                last_day=clock.last_day,
                light=clock.light,
                answered_at=row.answered_at,
                on_time=row.on_time,
                reminded=row.reminded,
                red_marked=row.red_marked,
            )
        )
    return FollowUpPage(party=party, total=total, limit=limit, offset=offset, follow_ups=items)
