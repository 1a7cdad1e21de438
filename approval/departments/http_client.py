"""Department systems reached over HTTP: each message is POSTed to its department's system,
one pooled ``httpx.AsyncClient`` per worker, with explicit connect and read timeouts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import httpx
import structlog
from pydantic import ValidationError

from approval.config import Settings
from approval.contracts import DepartmentMessage
from approval.departments import TransientDepartmentError, answer_request_id, message_id
from approval.departments.stub import Answer
from approval.departments.wire import ATTEMPT_HEADER, MESSAGE_ID_HEADER, Receipt, messages_path

log = structlog.get_logger(__name__)

MAX_CONNECTIONS = 20
"""Connections the worker keeps open to the department systems, all departments together."""


class DepartmentRefusedMessage(Exception):
    """A department system refused a message (4xx) or answered what we cannot read: a bug on
    our side or theirs. Raised, like a transient failure, so that the activity is retried
    until someone fixes it — a case must never lose a message."""


@dataclass(frozen=True)
class DepartmentEndpoints:
    """Where the department systems listen; no base URL means the in-process stub."""

    base_url: str | None = None
    overrides: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Department code → base URL of that department's own system."""
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DepartmentEndpoints:
        """The endpoints configured by APPROVAL_DEPARTMENTS_URL, APPROVAL_DEPARTMENT_URLS and
        the APPROVAL_DEPARTMENTS_*_TIMEOUT_S settings (already validated there)."""
        return cls(
            base_url=settings.departments_url,
            overrides=MappingProxyType(dict(settings.department_urls)),
            connect_timeout_s=settings.departments_connect_timeout_s,
            read_timeout_s=settings.departments_read_timeout_s,
        )

    @property
    def over_http(self) -> bool:
        """True when the department systems are reached over HTTP."""
        return self.base_url is not None

    def messages_url(self, department: str) -> str:
        """The URL that ``department``'s messages are POSTed to."""
        base = self.overrides.get(department, self.base_url)
        if base is None:
            raise ValueError("no department system URL configured (APPROVAL_DEPARTMENTS_URL)")
        return base + messages_path(department)


class HttpDepartmentSystem:
    """Pushes messages to the department systems over HTTP.

    A timeout, a connection error or a 5xx answer raises ``TransientDepartmentError``; a 4xx
    answer (or an unreadable receipt) is a bug on our side: it is logged and raises
    ``DepartmentRefusedMessage``. Both are retried by Temporal without limit, so a case never
    loses a message; every attempt carries the same ``Idempotency-Key``, so the department
    counts it once. A decision in the department's receipt is sent to the case."""

    def __init__(self, endpoints: DepartmentEndpoints, answer: Answer) -> None:
        self._endpoints = endpoints
        self._answer = answer
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(endpoints.read_timeout_s, connect=endpoints.connect_timeout_s),
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS),
        )

    async def deliver(self, message: DepartmentMessage, *, attempt: int) -> None:
        """POST ``message`` to its department and pass on the decision it answers with."""
        receipt = await self._post(message, attempt)
        log.info(
            "department.delivered",
            message_id=receipt.message_id,
            attempt=attempt,
            duplicate=receipt.duplicate,
        )
        if receipt.decision is not None:
            await self._answer(message.case_no, receipt.decision, answer_request_id(message))

    async def _post(self, message: DepartmentMessage, attempt: int) -> Receipt:
        url = self._endpoints.messages_url(message.department)
        key = message_id(message)
        headers = {MESSAGE_ID_HEADER: key, ATTEMPT_HEADER: str(attempt)}
        try:
            response = await self._http.post(
                url, content=message.model_dump_json(), headers=headers | JSON
            )
        except httpx.TimeoutException as error:
            raise transient(key, attempt, f"no answer from {url} in time ({error!r})") from error
        except httpx.TransportError as error:
            raise transient(key, attempt, f"cannot reach {url} ({error!r})") from error
        if response.is_server_error:
            raise transient(key, attempt, f"{url} answered {response.status_code}")
        if response.is_success:
            try:
                return Receipt.model_validate_json(response.content)
            except ValidationError as error:
                raise refused(key, url, response, f"unreadable receipt: {error}") from None
        raise refused(key, url, response, response.text[:500])

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()


JSON = {"Content-Type": "application/json"}


def transient(key: str, attempt: int, reason: str) -> TransientDepartmentError:
    """A failure worth retrying soon, logged."""
    log.warning("department.unreachable", message_id=key, attempt=attempt, reason=reason)
    return TransientDepartmentError(f"message {key}: {reason}")


def refused(key: str, url: str, response: httpx.Response, detail: str) -> DepartmentRefusedMessage:
    """A refusal that needs a fix on our side, logged as an error."""
    log.error(
        "department.refused_message",
        message_id=key,
        url=url,
        status=response.status_code,
        detail=detail,
    )
    return DepartmentRefusedMessage(f"message {key}: {url} answered {response.status_code}")
