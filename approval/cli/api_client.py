"""The command line's client of the HTTP API (APPROVAL_API_URL): every human action and read
of starter.py is a request with the user's bearer token, so the API decides who may do what
(R22), and a request id of its own (``X-Request-ID``), which every log line the API writes
for it carries. Its answers become the command line's: a refusal (4xx, ``{"detail": {"field",
"reason"}}``) is one line and exit status 2; an outage (nothing listens, or the API's 503
``engine_unavailable``) is one line and exit status 3, nothing having been recorded.

A material's file goes up as a multipart upload streamed from disk (``upload_material``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from approval.cli.common import EXIT_REFUSED, fail, unavailable
from approval.cli.identity import Credentials, bearer_token

if TYPE_CHECKING:
    from approval.config import Settings

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 120.0
"""Longest wait for an answer: an action waits for the case's worker (a Temporal Update)."""
UNEXPECTED_EXIT = 1
"""A server error (5xx other than 503): the outcome is not known."""


def case_path(case_no: str, *rest: str) -> str:
    """``/cases/{case_no}/...``, the case number quoted as one path segment."""
    return "/".join(("/cases", quote(case_no, safe=""), *rest))


UPLOAD_PATH = "/materials"


def client_as(credentials: Credentials, settings: Settings) -> ApiClient:
    """A client of the API (APPROVAL_API_URL) acting with ``credentials``' token; no token is
    a one-line refusal."""
    return ApiClient(settings.api_url, bearer_token(credentials, settings))


class ApiClient:
    """Requests to the API as one user."""

    def __init__(self, base_url: str, token: str) -> None:
        self._base_url = base_url
        self._headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> Any:
        """The JSON answer to ``GET path``."""
        return self._send("GET", path)

    def post(
        self, path: str, body: Mapping[str, Any] | None = None, idempotency_key: str | None = None
    ) -> Any:
        """The JSON answer to ``POST path`` with ``body``; ``idempotency_key`` makes a retry
        have one effect where the route takes it (R23)."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._send("POST", path, json=body, headers=headers)

    def upload_material(self, code: str, path: Path) -> Any:
        """The JSON answer to uploading ``path`` as the file of material ``code``: the file is
        streamed from disk in chunks (its length known up front), never read whole."""
        with path.open("rb") as source:
            files = {"file": (path.name, source)}
            return self._send("POST", UPLOAD_PATH, params={"code": code}, files=files)

    def _send(self, method: str, path: str, **options: Any) -> Any:
        timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        headers = {**self._headers, "X-Request-ID": uuid.uuid4().hex}
        try:
            with httpx.Client(base_url=self._base_url, headers=headers, timeout=timeout) as http:
                response = http.request(method, path, **options)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            unavailable(
                "api_unreachable",
                f"无法连接审批服务 {self._base_url}（APPROVAL_API_URL），未做任何记录；"
                f"请确认服务在运行（make run）后重试 ({error})",
            )
        except httpx.TimeoutException:
            unavailable(
                "api_timeout",
                f"审批服务 {READ_TIMEOUT_S:.0f} 秒内未答复，结果未知；"
                "用同一 --key / --request-id 重试只生效一次",
            )
        except httpx.TransportError as error:
            unavailable("api_unreachable", f"与审批服务 {self._base_url} 的连接中断：{error}")
        return answer(response)


def answer(response: httpx.Response) -> Any:
    """The body of a successful answer; any other ends the command with its one line."""
    if response.is_success:
        return response.json()
    detail = problem_detail(response)
    if response.status_code == httpx.codes.SERVICE_UNAVAILABLE:
        wait = response.headers.get("Retry-After")
        reason = detail.get("reason") or "审批引擎暂不可用 (the engine is unavailable)"
        later = f"{wait} 秒后" if wait else "稍后"
        unavailable(
            str(detail.get("code") or "engine_unavailable"),
            f"{reason}；未做任何记录，{later}可重试",
        )
    field = detail.get("field") or "http"
    reason = detail.get("reason") or f"API answered {response.status_code} {response.reason_phrase}"
    fail(f"{field}: {reason}", EXIT_REFUSED if response.is_client_error else UNEXPECTED_EXIT)


def problem_detail(response: httpx.Response) -> dict[str, Any]:
    """The ``detail`` object of a refusal or outage body (field, reason, code); empty when
    the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, dict) else {}
