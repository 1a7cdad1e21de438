"""One printed notice laid out for A4 (HTML and CSS for WeasyPrint): the centre's header, the
title, the case number, the check code (查询码) and the QR code of the public progress page
above; the notice's recorded text, line for line, in between; the issuer, the date and a place
for the seal below. Pure: the same sheet in, the same HTML out.

The recorded text already opens with the centre and the title and closes with the issuer's
``（盖章）`` line and the date: those lines are printed in the header and beside the seal, every
other line as it is, in its order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from approval.domain.catalogue import Frozen
from approval.domain.documents import ProgressLookup, cn_date

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = TEMPLATES / "notice.css"
CJK_FONTS = ("Noto Serif CJK SC", "Noto Sans CJK SC")
"""The fonts the sheet is set in (Debian's fonts-noto-cjk): the text in the serif, the header
in the sans; the generic families after them where neither is installed."""
QR_ERROR_LEVEL = "m"
"""The QR code's error correction (at least level M): it still reads with 15 % of it lost
under a stamp or a fold."""
SEAL_MARK = "（盖章）"
DATE_LABEL = "日期："

_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
_ITEM = re.compile(r"^\d+\. ")
_FIELD = re.compile(r"^[^：。，]{1,10}：[^。]*$|^[^。]*：$")
"""A short label and its fact ("受理日期：…"), or a line introducing what follows ("理由如下：")."""


class PrintSheet(Frozen):
    """What one printed notice shows: who issued it, which notice of which case, its recorded
    text, its day, and how the applicant follows the case (None: the public progress page
    does not know the case, so neither the check code nor the QR code is printed)."""

    centre: str
    notice_no: str
    case_no: str
    title: str
    body: str
    issued_on: date
    lookup: ProgressLookup | None = None


class LineKind(StrEnum):
    """How a line of the recorded text is set."""

    BLANK = "blank"  # a space between paragraphs
    ITEM = "item"  # "1. RFSJ：未提交。": a numbered item, hanging
    FIELD = "field"  # "受理日期：2026年11月28日": a labelled fact
    PROSE = "prose"  # a paragraph, its first line indented by two characters


@dataclass(frozen=True)
class Line:
    """One line of the recorded text and how it is set."""

    text: str
    kind: LineKind


@dataclass(frozen=True)
class Layout:
    """The recorded text split for the page: the lines printed in the body, and the closing
    lines (the issuer's seal line and the date) printed beside the seal."""

    lines: tuple[Line, ...]
    closing: tuple[str, ...]


def line_kind(text: str) -> LineKind:
    """How ``text``, one line of a notice, is set on the page."""
    if not text.strip():
        return LineKind.BLANK
    if _ITEM.match(text):
        return LineKind.ITEM
    if _FIELD.match(text):
        return LineKind.FIELD
    return LineKind.PROSE


def layout(sheet: PrintSheet) -> Layout:
    """The sheet's recorded text without the opening centre and title lines (the header
    prints them) and with its closing seal and date lines apart, when it has them; blank
    lines at either end dropped."""
    lines = sheet.body.splitlines()
    if lines[:2] == [sheet.centre, sheet.title]:
        lines = lines[2:]
    closing: list[str] = []
    if len(lines) >= 2 and lines[-1].startswith(DATE_LABEL) and lines[-2].endswith(SEAL_MARK):
        closing, lines = lines[-2:], lines[:-2]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not closing:
        closing = [f"{sheet.centre}{SEAL_MARK}", f"{DATE_LABEL}{cn_date(sheet.issued_on)}"]
    return Layout(tuple(Line(text, line_kind(text)) for text in lines), tuple(closing))


def qr_code(address: str) -> segno.QRCode:
    """The QR code of ``address`` (the public progress page) as printed on the notice."""
    return segno.make(address, error=QR_ERROR_LEVEL, micro=False)


def qr_svg(address: str) -> str:
    """The QR code of ``address`` as an inline SVG sized by the stylesheet (no width or
    height of its own, no border: the page's margin is its quiet zone)."""
    return str(qr_code(address).svg_inline(scale=1, border=0, omitsize=True))


def font_stack(*families: str) -> str:
    """A CSS font-family value: named families quoted, generic ones as they are."""
    generic = {"serif", "sans-serif"}
    return ", ".join(f if f in generic else f'"{f}"' for f in families)


def sheet_html(sheet: PrintSheet) -> str:
    """The sheet as one HTML document, its stylesheet inline: what WeasyPrint renders."""
    lookup = sheet.lookup
    return _ENVIRONMENT.get_template("notice.html").render(
        sheet=sheet,
        layout=layout(sheet),
        lookup=lookup,
        qr=Markup(qr_svg(lookup.address)) if lookup is not None else None,
        stylesheet=Markup(STYLESHEET.read_text(encoding="utf-8")),
        serif=Markup(font_stack(*CJK_FONTS, "serif")),
        sans=Markup(font_stack(*reversed(CJK_FONTS), "sans-serif")),
        issued_on=cn_date(sheet.issued_on),
    )
