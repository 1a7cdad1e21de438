"""The web console's router: every page under /web (approval.web.pages, one module per page),
every POST first checked to come from the console's own page (its Origin and CSRF token,
approval.web.access.guard_posts). The person is the user of the API token kept in an HttpOnly
cookie (set at ``/web/login``); every page and post checks the role as the API does
(approval.http.deps, R22), and every form post calls the same engine method as the API. A
refusal renders the page again with its one line (``field: reason``), never a stack trace;
failed logins are rate-limited per client (429). The public progress page (``/web/progress``,
approval.web.pages.public) needs no login: the applicant's case number and check code, its
posts checked as every other. The app mounts this router and answers the console's own
refusals with approval.web.access.HANDLERS."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from approval.web.access import guard_posts
from approval.web.pages import (
    board,
    case,
    dashboard,
    desk,
    inbox,
    intake,
    login,
    material_files,
    notice_print,
    public,
)

PREFIX = "/web"
PAGES = (login, intake, desk, case, material_files, notice_print, inbox, board, public, dashboard)
"""In this order: ``/cases/new`` (intake) before ``/cases/{case_no}`` (a case)."""

router = APIRouter(include_in_schema=False, dependencies=[Depends(guard_posts)])
for _page in PAGES:
    router.include_router(_page.router, prefix=PREFIX)
