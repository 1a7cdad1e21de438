"""Paging of every list, in the API and the console alike: ``limit`` rows from ``offset``,
both bounded, so an out-of-range value is a 422 naming the parameter, never a query the
store cannot run. One definition here, below both faces, so that a page of the API and a page
of the console are the same page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_LIMIT = 200
"""The most rows one page shows."""
MAX_OFFSET = 1_000_000
"""The farthest a page may start: beyond any list the store holds, within every database's
integer range."""
PAGE_SIZE = 50
"""Rows per page when the caller does not say."""

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"rows per page, 1–{MAX_LIMIT}")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"rows to skip, 0–{MAX_OFFSET:_}")]
