"""A case's recorded notice printed on demand: what the API's
``GET /cases/{case_no}/notices/{notice_no}.pdf`` and the console's
``GET /web/cases/{case_no}/notices/{notice_no}.pdf`` answer, after each has checked who asks
(R22). Nothing is stored: the PDF is made from the notice's text as recorded
(approval.store.audit_log), so it says exactly what the text notice says.

The check code (查询码) and the QR code are printed when the public progress page knows the
case (it is in the read model); the QR code holds the address the notice itself names (the
progress page fixed when the case was received), else the centre's public progress page today
(``APPROVAL_PUBLIC_BASE_URL``). An application refused before any case began has no read model:
its 不予受理通知书 prints without them."""

from __future__ import annotations

import asyncio

from fastapi import status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from approval.config import Settings
from approval.domain.calendar import SHANGHAI
from approval.domain.check_code import check_code, progress_address
from approval.domain.documents import ProgressLookup
from approval.http.exports import Download
from approval.http.refusals import HttpRefusal
from approval.printing.pdf import PrintingUnavailableError, render_pdf
from approval.printing.sheet import PrintSheet
from approval.store.audit_log import events_of, notices_of
from approval.store.queries import case_row
from approval.store.schema import NoticeRow

PDF = "application/pdf"
NOTICE_FACTS = ("NoticeIssued", "ApplicationNotAccepted")
"""The events that carry a notice's facts (its progress page among them)."""
NOTICE_NOT_FOUND = "notice_not_found"


class PrintRefusal(HttpRefusal):
    """No PDF: the status, the field at fault, a Chinese reason and a machine code."""


def no_such_notice(case_no: str, notice_no: str) -> PrintRefusal:
    """404: the case has no notice of that number (or no such case)."""
    reason = f"办件 {case_no} 没有编号为 {notice_no} 的文书"
    return PrintRefusal(status.HTTP_404_NOT_FOUND, "notice_no", reason, NOTICE_NOT_FOUND)


def notice_row(session: Session, case_no: str, notice_no: str) -> NoticeRow | None:
    """The recorded notice ``notice_no`` of the case, if it has one."""
    return next((n for n in notices_of(session, case_no) if n.notice_no == notice_no), None)


def named_address(session: Session, case_no: str, notice_no: str) -> str | None:
    """The progress page's address the notice's recorded facts name, if any."""
    for event in events_of(session, case_no, types=NOTICE_FACTS):
        facts = event.payload.get("notice") or {}
        if facts.get("notice_no") == notice_no:
            address = facts.get("progress_url")
            return str(address) if address else None
    return None


def lookup_for(session: Session, settings: Settings, row: NoticeRow) -> ProgressLookup | None:
    """How the printed notice tells the applicant to follow the case: its check code and the
    progress page; None when the public progress page does not know the case."""
    if case_row(session, row.case_no) is None:
        return None
    address = named_address(session, row.case_no, row.notice_no) or progress_address(
        settings.public_base_url
    )
    return ProgressLookup(
        check_code=check_code(row.case_no, settings.audit_key_bytes), address=address
    )


def sheet_of(session: Session, settings: Settings, centre: str, row: NoticeRow) -> PrintSheet:
    """The printed form of a recorded notice of the centre named ``centre``."""
    return PrintSheet(
        centre=centre,
        notice_no=row.notice_no,
        case_no=row.case_no,
        title=row.title,
        body=row.body,
        issued_on=row.issued_at.astimezone(SHANGHAI).date(),
        lookup=lookup_for(session, settings, row),
    )


async def printed_notice(
    session: Session, settings: Settings, centre: str, case_no: str, notice_no: str
) -> Download:
    """The case's notice ``notice_no`` as a PDF to download, rendered in a worker thread;
    PrintRefusal when the case has no such notice (404) or the PDF cannot be made here (503)."""
    row = notice_row(session, case_no, notice_no)
    if row is None:
        raise no_such_notice(case_no, notice_no)
    sheet = sheet_of(session, settings, centre, row)
    try:
        content = await asyncio.to_thread(render_pdf, sheet)
    except PrintingUnavailableError as missing:
        unavailable = status.HTTP_503_SERVICE_UNAVAILABLE
        raise PrintRefusal(unavailable, "printing", missing.reason, missing.code) from None
    return Download(f"{row.notice_no}-{row.title}.pdf", PDF, content)


def pdf_answer(file: Download) -> Response:
    """The download's answer: its bytes, its media type and its Content-Disposition."""
    disposition = {"Content-Disposition": file.disposition}
    return Response(file.content, media_type=file.media_type, headers=disposition)
