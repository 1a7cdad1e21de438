"""The efficiency figures (效能评估, R19, R20) for the supervisor and the auditor (R22): the
report of a period (``period=2026-12`` a month, ``2026-Q4`` a quarter, ``2026`` a year, or
``start=…&end=…`` with both days included; this month in Beijing when none is given), for
every department and matter or one ``department`` / ``matter``; the same as CSV and Excel
downloads with Chinese headers; and the cases and review tasks behind one of its figures
(``/efficiency/drill``). All from the read model (approval.store.efficiency, through
approval.http.exports, which the console's dashboard and the command line share).

Bad input is a 422 ``{"detail": {"field", "reason", "code"}}`` with a Chinese reason and a
machine code: ``invalid_period``, ``unknown_department``, ``unknown_matter``,
``unknown_figure``, or ``invalid_input`` for any other parameter."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from fastapi.exceptions import RequestValidationError
from fastapi.requests import Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from approval.api.deps import allowed
from approval.domain.models import Actor, Role
from approval.http import exports
from approval.http.deps import ServiceDep, SessionDep
from approval.http.exports import DrillPage, EfficiencyInputError, Filters, Kind
from approval.http.paging import PAGE_SIZE, Limit, Offset
from approval.http.refusals import REFUSALS
from approval.store.efficiency import EfficiencyReport
from approval.validation import first_problem

READERS = (Role.SUPERVISOR, Role.AUDITOR)
FIELD_PROBLEMS = {
    "period": exports.PERIOD_FORMAT,
    "start": exports.DAY_FORMAT,
    "end": exports.DAY_FORMAT,
    "department": "部门代码不正确",
    "matter": "事项编码不正确",
    "figure": "指标名称不正确",
    "limit": "每页条数应为 1–200",
    "offset": "起始位置应为 0 或正整数",
}
"""What is wrong with each parameter, in Chinese, when FastAPI refuses it (said the way a
person fills in the form); another is refused with the validation's own Chinese reason."""
CODE_OF_FIELD = {
    **dict.fromkeys(("period", "start", "end"), exports.INVALID_PERIOD),
    "figure": exports.UNKNOWN_FIGURE,
}
"""The machine code of FastAPI's refusal of a parameter; ``invalid_input`` for the others."""


def refused(field: str, reason: str, code: str) -> JSONResponse:
    """A refusal of bad input: 422 ``{"detail": {"field", "reason", "code"}}``."""
    detail = {"field": field, "reason": reason, "code": code}
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": detail}
    )


class EfficiencyRoute(APIRoute):
    """A route of the figures: bad input is refused with the field, a Chinese reason and a
    machine code (422)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except EfficiencyInputError as error:
                return refused(error.field, error.reason, error.code)
            except RequestValidationError as error:
                field, reason = first_problem(error, of_request=True)
                code = CODE_OF_FIELD.get(field, exports.INVALID_INPUT)
                return refused(field, FIELD_PROBLEMS.get(field, reason), code)

        return answer


router = APIRouter(
    prefix="/supervision",
    tags=["supervision"],
    responses=REFUSALS,
    route_class=EfficiencyRoute,
)
Reader = Annotated[Actor, Depends(allowed("read_efficiency", *READERS))]
Period = Annotated[
    str | None, Query(max_length=20, description="2026-12 (月), 2026-Q4 (季度) or 2026 (年)")
]
Start = Annotated[str | None, Query(max_length=10, description="the first day, YYYY-MM-DD")]
End = Annotated[str | None, Query(max_length=10, description="the last day (included)")]
Department = Annotated[
    str | None, Query(max_length=40, description="a department code (drill-down: or window)")
]
Matter = Annotated[str | None, Query(max_length=40, description="a matter code")]


def asked_for(*, window: bool) -> Callable[..., Filters]:
    """A dependency: the period and the department (or the window, when ``window``) or
    matter asked for, checked against the catalogue."""

    def filters(
        service: ServiceDep,
        period: Period = None,
        start: Start = None,
        end: End = None,
        department: Department = None,
        matter: Matter = None,
    ) -> Filters:
        return exports.filters_of(
            service.catalogue,
            exports.today_in_beijing(),
            period=period,
            start=start,
            end=end,
            department=department,
            matter=matter,
            window=window,
        )

    return filters


Asked = Annotated[Filters, Depends(asked_for(window=False))]
AskedOfAParty = Annotated[Filters, Depends(asked_for(window=True))]


@router.get("/efficiency", response_model=EfficiencyReport)
async def efficiency(
    _actor: Reader, asked: Asked, session: SessionDep, service: ServiceDep
) -> EfficiencyReport:
    """The efficiency figures of the period: the departments by composite score (their rank,
    each one's tasks, working days, reminders and red marks, ratings and follow-ups), the
    matters, and the window with each receiving clerk (首问负责)."""
    return exports.report_of(session, service.catalogue, asked)


def _download(session: SessionDep, service: ServiceDep, asked: Filters, kind: Kind) -> Response:
    report = exports.report_of(session, service.catalogue, asked)
    file = exports.export(report, asked, kind, service.catalogue.centre)
    disposition = {"Content-Disposition": file.disposition}
    return Response(file.content, media_type=file.media_type, headers=disposition)


@router.get(
    "/efficiency.csv",
    response_class=Response,
    responses={200: {"content": {exports.MEDIA_TYPES["csv"]: {}}}},
)
async def efficiency_csv(
    _actor: Reader, asked: Asked, session: SessionDep, service: ServiceDep
) -> Response:
    """The report as one CSV file (UTF-8 with a BOM): the period and weights, the departments
    by rank, the matters, the window and its clerks, each table under its name."""
    return _download(session, service, asked, "csv")


@router.get(
    "/efficiency.xlsx",
    response_class=Response,
    responses={200: {"content": {exports.MEDIA_TYPES["xlsx"]: {}}}},
)
async def efficiency_xlsx(
    _actor: Reader, asked: Asked, session: SessionDep, service: ServiceDep
) -> Response:
    """The report as an Excel workbook, a sheet a table (统计说明, 部门排名, 事项, 窗口)."""
    return _download(session, service, asked, "xlsx")


@router.get("/efficiency/drill", response_model=DrillPage)
async def efficiency_drill(
    _actor: Reader,
    asked: AskedOfAParty,
    session: SessionDep,
    figure: Annotated[str, Query(max_length=40, description=", ".join(exports.FIGURES))],
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> DrillPage:
    """The cases and review tasks behind one figure of the report (e.g. a department's
    ``red_marks``), in the order they were counted, ``limit`` a page: as many in all as the
    figure counts. Each names its case (number, matter, stage), its department or party, the
    task's state and its instants."""
    return exports.drill(session, asked, figure, limit=limit, offset=offset)
