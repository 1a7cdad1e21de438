"""Security headers on every answer of the app, the API's and the console's: a Content
Security Policy without inline script (the console has no script at all), no framing, no
content-type sniffing, the referrer kept on the site, and ``Cache-Control: no-store`` unless the
route says otherwise (the console's stylesheet), so no page or answer with a person's cases
stays in a shared computer's cache.

The referrer policy is ``same-origin``, not ``no-referrer``: under ``no-referrer`` a browser
sends ``Origin: null`` with a form post, and the console refuses a post whose Origin is not
its own (approval.web.security)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
"""/docs and /redoc load their viewers from this server (fastapi-offline ships Swagger UI and
ReDoc: a government intranet has no CDN) and start them with an inline script; they show the
schema only, never a case."""
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP answer that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in DOCS_PATHS else POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
