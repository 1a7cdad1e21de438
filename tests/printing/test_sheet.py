"""Printed notices (approval.printing.sheet, approval.printing.pdf) without a server: every kind of
notice rendered to a real PDF by WeasyPrint in Debian's Noto CJK fonts, its text read back with
pdftotext (poppler-utils, installed by .ci/run); the layout of the recorded text, the QR code of
the public progress page, and the warning when the CJK fonts are missing."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
import segno
from structlog.testing import capture_logs

from approval.domain.check_code import check_code, progress_address
from approval.domain.documents import ProgressLookup, render_notice
from approval.domain.notices import NoticeKind
from approval.printing import pdf
from approval.printing.pdf import FONTS_MISSING, render_pdf
from approval.printing.sheet import (
    CJK_FONTS,
    LineKind,
    PrintSheet,
    layout,
    line_kind,
    qr_code,
    qr_svg,
    sheet_html,
)
from tests.domain.test_documents import CENTRE, COMPLETE, ITEMS, notice

ADDRESS = progress_address("https://zwfw.binzhou.example.cn/")
LOOKUP = ProgressLookup(
    check_code=check_code("371600-20261128-000042", b"printing-test-key"), address=ADDRESS
)
ISSUED_ON = date(2026, 11, 29)


def pdf_text(content: bytes) -> str:
    """The text pdftotext reads from a PDF, in the order it was drawn (``-raw``: a line that
    breaks after a hyphen keeps it, as in ``…-000042-`` / ``F01``)."""
    done = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"],
        input=content,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode("utf-8")


def compact(text: str) -> str:
    """``text`` without any whitespace: where a printed line breaks is the layout's choice."""
    return re.sub(r"\s+", "", text)


def sheet(kind: NoticeKind, lookup: ProgressLookup | None = LOOKUP) -> PrintSheet:
    """The printed form of a complete notice of ``kind`` (approval.domain.documents renders
    its text, with the check code and address where ``lookup`` is given)."""
    facts = notice(kind, progress_url=lookup.address if lookup else None)
    document = render_notice(facts, CENTRE, lookup)
    return PrintSheet(
        centre=CENTRE,
        notice_no=document.notice_no,
        case_no=facts.case_no,
        title=document.title,
        body=document.body,
        issued_on=ISSUED_ON,
        lookup=lookup,
    )


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_R5_every_kind_of_notice_prints_with_its_header_numbers_check_code_and_text(
    kind: NoticeKind,
) -> None:
    """R5: each kind of notice the engine issues prints as a PDF whose text (pdftotext) names
    the centre, the notice's title, the case number, the check code (查询码) and the progress
    page's address, and holds every line of the notice's recorded text, in order: the items
    to supplement (the material codes and what is wrong), the departments' reasons, the
    dates."""
    printed = sheet(kind)
    text = pdf_text(render_pdf(printed))
    flat = compact(text)
    for fact in (CENTRE, printed.title, printed.case_no, LOOKUP.check_code, ADDRESS):
        assert compact(fact) in flat, fact
    position = 0
    for line in printed.body.splitlines()[2:]:
        if line.strip():
            found = flat.find(compact(line), position)
            assert found >= 0, line
            position = found
    for item in COMPLETE[kind].get("items", ()):
        assert item.code in flat and compact(item.reason) in flat


def poppler(tool: str, content: bytes, tmp_path: Path) -> str:
    """What poppler-utils' ``tool`` (pdfinfo, pdffonts) says of the PDF ``content``."""
    path = tmp_path / "notice.pdf"
    path.write_bytes(content)
    done = subprocess.run([tool, str(path)], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def test_the_pdf_is_one_a4_page_titled_and_embedding_the_cjk_fonts(tmp_path: Path) -> None:
    """The PDF is one A4 page titled with the notice's title and number, authored by the
    centre, and embeds (subsets of) the Noto CJK fonts it is set in, with their Unicode
    maps: it prints the same on a computer without them and its text can be read back."""
    content = render_pdf(sheet(NoticeKind.APPROVAL_DECISION))
    info = poppler("pdfinfo", content, tmp_path)
    assert re.search(r"^Pages:\s+1$", info, re.M)
    assert re.search(r"^Page size:.*\(A4\)$", info, re.M)
    assert re.search(r"^Title:\s+准予行政许可决定书 BZ-2026-000042-01$", info, re.M)
    assert re.search(rf"^Author:\s+{CENTRE}$", info, re.M)
    fonts = poppler("pdffonts", content, tmp_path).splitlines()[2:]
    embedded = {line.split()[0].split("+")[1] for line in fonts if " yes yes yes " in line}
    assert {"Noto-Serif-CJK-SC", "Noto-Sans-CJK-SC"} <= embedded
    assert len(embedded) == len(fonts)


def test_R1_a_notice_the_public_page_does_not_know_prints_without_a_check_code() -> None:
    """R1, R5: a 不予受理通知书 of an application refused before any case began (no lookup)
    prints its header, case number and text, and neither a check code nor a QR code."""
    printed = sheet(NoticeKind.NON_ACCEPTANCE_VOUCHER, lookup=None)
    html = sheet_html(printed)
    assert "<svg" not in html and "查询码" not in html
    flat = compact(pdf_text(render_pdf(printed)))
    for fact in (CENTRE, "不予受理通知书", printed.case_no, "申请事项依法不需要取得行政许可"):
        assert fact in flat
    assert "查询码" not in flat


def test_the_qr_code_holds_the_public_progress_address() -> None:
    """The QR code printed is segno's code of the public progress page's address (the one
    the notice names), a full QR code correcting at least 15 % (level M, raised where the
    version has room); another address gives another code."""
    code = qr_code(ADDRESS)
    assert code.matrix == segno.make(ADDRESS, error="m", micro=False).matrix
    assert code.error in ("M", "Q", "H") and not code.is_micro
    assert code.matrix != qr_code(progress_address("http://127.0.0.1:8000")).matrix
    html = sheet_html(sheet(NoticeKind.ACCEPTANCE_VOUCHER))
    assert qr_svg(ADDRESS) in html
    assert qr_svg(ADDRESS).startswith("<svg") and 'viewBox="0 0 ' in qr_svg(ADDRESS)


def test_the_header_and_the_seal_take_the_recorded_opening_and_closing_lines() -> None:
    """The recorded text's first lines (centre, title) go to the header and its last two
    (the issuer's 盖章 line, the date) beside the seal; the lines between stay in their
    order, each set by its kind: numbered items, labelled facts, prose paragraphs."""
    printed = sheet(NoticeKind.ONE_TIME_NOTICE)
    parts = layout(printed)
    body = printed.body.splitlines()
    assert parts.closing == (f"{CENTRE}（盖章）", "日期：2026年11月29日")
    assert [line.text for line in parts.lines] == body[3:-3]
    kinds = {line.text: line.kind for line in parts.lines}
    (first_item,) = [text for text in body if text.startswith("1. ") and ITEMS[0].code in text]
    assert kinds[first_item] is LineKind.ITEM
    assert kinds["办件编号：371600-20261128-000042"] is LineKind.FIELD
    assert line_kind("滨州市鲁北餐饮有限公司：") is LineKind.FIELD
    assert line_kind("你（单位）提出的申请，经审查，决定予以受理。") is LineKind.PROSE
    assert line_kind("") is LineKind.BLANK


def test_a_text_without_the_frame_prints_whole_with_the_centre_and_date_at_the_seal() -> None:
    """A recorded text that does not open with the centre and title nor close with the seal
    and date lines is printed whole; the seal then names the centre and the issue date."""
    printed = sheet(NoticeKind.APPROVAL_DECISION).model_copy(update={"body": "第一行\n第二行"})
    parts = layout(printed)
    assert [line.text for line in parts.lines] == ["第一行", "第二行"]
    assert parts.closing == (f"{CENTRE}（盖章）", "日期：2026年11月29日")


def test_the_text_is_escaped_not_markup() -> None:
    """An applicant's name with markup in it prints as text: the sheet's HTML escapes it."""
    printed = sheet(NoticeKind.APPROVAL_DECISION)
    tricky = printed.model_copy(update={"body": printed.body + "\n<b>加粗</b> & <script>"})
    html = sheet_html(tricky)
    assert "&lt;b&gt;加粗&lt;/b&gt; &amp; &lt;script&gt;" in html
    assert "<script>" not in html


def test_missing_cjk_fonts_are_warned_of_once_in_chinese() -> None:
    """A rendering that used none of the Noto CJK fonts (they are not installed) logs one
    warning in Chinese naming the Debian package, however many renderings follow; one that
    used them logs nothing."""
    pdf.warn_fonts_missing.cache_clear()
    try:
        with capture_logs() as logs:
            pdf.note_fonts([CJK_FONTS[0], "DejaVu Sans"])
            assert logs == []
            pdf.note_fonts(["DejaVu Serif"])
            pdf.note_fonts(["DejaVu Sans"])
        assert [(e["event"], e["log_level"]) for e in logs] == [
            ("printing.cjk_fonts_missing", "warning")
        ]
        assert logs[0]["message"] == FONTS_MISSING and "fonts-noto-cjk" in FONTS_MISSING
    finally:
        pdf.warn_fonts_missing.cache_clear()


def test_this_machine_renders_in_the_cjk_fonts_without_a_warning() -> None:
    """Here (fonts-noto-cjk installed by .ci/run) a rendering uses the Noto CJK fonts: no
    warning is logged."""
    pdf.warn_fonts_missing.cache_clear()
    with capture_logs() as logs:
        render_pdf(sheet(NoticeKind.CERTIFICATE))
    assert [e for e in logs if e["event"] == "printing.cjk_fonts_missing"] == []
