"""A printed notice as PDF bytes, rendered by WeasyPrint (a maintained HTML/CSS to PDF library on
Pango and fontconfig) in the fonts of Debian's fonts-noto-cjk.

Rendering blocks for a fraction of a second: the routes run it in a worker thread
(``asyncio.to_thread``), one rendering at a time (fontconfig and Pango's font maps are shared
by the whole process). WeasyPrint is imported on the first rendering, so that the API and the
console start, and serve everything else, on a machine without Pango; there a rendering raises
``PrintingUnavailableError``. Without the CJK fonts the notice is rendered anyway, in whatever
font fontconfig finds, and a warning is logged once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from functools import cache
from typing import Any

import structlog

from approval.printing.sheet import CJK_FONTS, PrintSheet, sheet_html

log = structlog.get_logger(__name__)

FONTS_MISSING = (
    "未找到中文字体 Noto Serif/Sans CJK SC（Debian 软件包 fonts-noto-cjk），"
    "文书 PDF 已用其他字体生成，中文可能显示不全，请安装该字体"
)
LIBRARY_MISSING = "文书打印暂不可用：服务器缺少排版所需的系统库，请联系系统管理员"
"""What the person asking is told; the log names the library (WeasyPrint needs Pango)."""

_rendering = threading.Lock()


class PrintingUnavailableError(Exception):
    """WeasyPrint cannot run here (its system libraries are missing): nothing was rendered."""

    code = "printing_unavailable"

    def __init__(self, reason: str = LIBRARY_MISSING) -> None:
        super().__init__(reason)
        self.reason = reason


@cache
def _weasyprint() -> Any:
    """The weasyprint module, imported once, its step-by-step progress lines (INFO, eight a
    rendering) kept out of the logs; PrintingUnavailableError when Pango is missing."""
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    try:
        import weasyprint  # type: ignore[import-untyped]
    except OSError as missing:
        log.error(
            "printing.library_missing",
            message="WeasyPrint 无法加载：请安装 Debian 软件包 libpango-1.0-0、libpangoft2-1.0-0",
            error=str(missing),
        )
        raise PrintingUnavailableError from None
    return weasyprint


def render_pdf(sheet: PrintSheet) -> bytes:
    """The sheet as a PDF (A4, its text extractable, the fonts embedded). Blocking: call it
    in a worker thread from async code. Nothing is fetched: the sheet is one HTML document
    with its stylesheet and QR code inline, and every URL is refused."""
    html = sheet_html(sheet)
    weasyprint = _weasyprint()
    fetch_nothing = weasyprint.URLFetcher(allowed_protocols=frozenset())
    with _rendering:
        document = weasyprint.HTML(string=html, url_fetcher=fetch_nothing).render()
        content: bytes = document.write_pdf()
    note_fonts(font.family for font in document.fonts.values())
    return content


def note_fonts(families: Iterable[str]) -> None:
    """Warn (once per process) when none of the fonts a rendering used is a CJK font of
    CJK_FONTS: the text was set in a fallback font."""
    if not set(families) & set(CJK_FONTS):
        warn_fonts_missing()


@cache
def warn_fonts_missing() -> None:
    """Log, once, that the CJK fonts are missing (``cache_clear`` to warn again)."""
    log.warning("printing.cjk_fonts_missing", message=FONTS_MISSING, wanted=list(CJK_FONTS))
