"""The pager under each of the console's lists: where the page starts, how many rows in all,
and the links to its neighbours (the paging parameters are approval.http.paging's)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request


@dataclass(frozen=True)
class Pager:
    """One page of a list: where it starts, how many in all, the links to its neighbours."""

    total: int
    limit: int
    offset: int
    previous: str | None
    next: str | None

    @property
    def first(self) -> int:
        """The position of the page's first row, from 1 (0 for an empty list)."""
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        """The position of the page's last row."""
        return min(self.offset + self.limit, self.total)


def pager(request: Request, total: int, limit: int, offset: int, param: str = "offset") -> Pager:
    """The pager of a list shown from ``offset``; its links keep the page's other parameters."""

    def link(to: int) -> str:
        query = {**request.query_params, "limit": str(limit), param: str(to)}
        return f"{request.url.path}?{urlencode(query)}"

    previous = link(max(0, offset - limit)) if offset > 0 else None
    following = link(offset + limit) if offset + limit < total else None
    return Pager(total, limit, offset, previous, following)
