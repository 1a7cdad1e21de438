"""The HTTP API as production serves it, in processes of its own: ``uvicorn --factory
approval.runtime:api_app`` on ports of their own, with the workers' environment (the same
Temporal server, queue, store and audit key), and a driver that sends the harness's actions
(tests/faults/harness.py ``Engine``) over HTTP with the demo users' bearer tokens.

The driver turns every answer into what the harness's ``Drive`` expects: a 2xx is the answer;
an outage (the connection refused or broken, no answer within REQUEST_TIMEOUT_S, a 503 whose
machine code is ``engine_unavailable`` or ``store_unavailable``) is EngineUnavailableError,
which the drive retries with the same key; any other 4xx is a refusal (RefusedError, noted by
the drive); anything else is a fault of the engine (AssertionError).

Used by tests/faults/test_scale_out.py and bench/scale_out.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel

from approval.api.routes.public import PublicRatingIn
from approval.demo_users import DemoUser
from approval.domain.check_code import check_code
from approval.domain.models import (
    Accept,
    Actor,
    Application,
    CaseCommand,
    Decide,
    Deliver,
    Rate,
    Role,
)
from approval.http.bodies import DecisionIn, DeliverIn
from approval.service import EngineUnavailableError, RefusedError, Submission
from tests.faults.harness import READY_TIMEOUT_S, eventually, free_port, stop_process
from tests.processes import spawn

PUBLIC_RATE_LIMIT = "100000/minute"
"""The API processes' limit on the public routes per client address (APPROVAL_PUBLIC_RATE_LIMIT):
the driver is one address (127.0.0.1) rating a hundred applicants' cases and polling /readyz,
where each applicant would have an address of their own."""
REQUEST_TIMEOUT_S = 60.0
"""Longest the driver waits for an answer before it calls it an outage: beyond the API's own
bound on an action (approval.service.ANSWER_WITHIN_S for the action, again for the status it
answers with), so that the API tells an outage first."""
OUTAGE_CODES = frozenset({"engine_unavailable", "store_unavailable"})
"""The machine codes of a 503 that tells an outage (approval.api.app)."""
SUBMISSIONS = "submissions"
"""The key under which the driver alternates the submissions between the APIs."""


# ---- the API processes -----------------------------------------------------------------------


class ApiProcess:
    """One API process on a free port of 127.0.0.1; its output goes to ``log_path``."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        command = [
            "-m",
            "uvicorn",
            "--factory",
            "approval.runtime:api_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
        ]
        self._process = spawn(command, env, log_path)

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    async def wait_ready(self) -> None:
        """Until ``GET /readyz`` answers 200 (Temporal and the store answer it), bounded by
        READY_TIMEOUT_S; AssertionError with its log if it exits meanwhile."""
        await eventually(self._ready, f"the API at {self.url} to be ready", READY_TIMEOUT_S)

    async def _ready(self) -> bool:
        if self._process.poll() is not None:
            log = self.log_path.read_text(encoding="utf-8", errors="replace")
            raise AssertionError(f"the API at {self.url} exited early:\n{log[-4000:]}")
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=5.0) as client:
                answer = await client.get("/readyz")
        except httpx.TransportError:
            return False
        return answer.status_code == httpx.codes.OK

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it is still there after a bound (harness.stop_process)."""
        stop_process(self._process)


@contextlib.asynccontextmanager
async def api_processes(
    directory: Path, env: Mapping[str, str], count: int
) -> AsyncIterator[list[str]]:
    """``count`` API processes with the environment ``env`` (the workers', harness.Workers.env)
    and the public rate limit PUBLIC_RATE_LIMIT, logging to ``api-N.log`` in ``directory``;
    yields their URLs once each is ready, and stops them all when the block ends, however it
    ends (their logs are printed with the workers' by harness.stopped_on_exit)."""
    environment = {**env, "APPROVAL_PUBLIC_RATE_LIMIT": PUBLIC_RATE_LIMIT}
    started: list[ApiProcess] = []
    try:
        for n in range(1, count + 1):
            started.append(ApiProcess(environment, directory / f"api-{n}.log"))
        await asyncio.gather(*(api.wait_ready() for api in started))
        yield [api.url for api in started]
    finally:
        for api in started:
            api.stop()


# ---- the driver ------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the driver sent through one API and how it was answered."""

    url: str
    sent: int = 0
    answered: int = 0
    outages: int = 0
    refused: int = 0


@dataclass(frozen=True)
class Request:
    """One action as the API takes it: the route, the bearer token (none for the public
    routes), the JSON body."""

    path: str
    token: str | None
    body: dict[str, Any] | None


class ApiDriver:
    """The harness's Engine over HTTP, through several API processes in turn: each request of
    a case goes to the API after the one its previous request went to (a submission: after the
    previous submission's), so a case's actions, and the retries of one action, alternate
    between the APIs. Each action is sent as its user: the clerk's token for the window's
    actions, the department's reviewer's for its decision (R22), the check code for the
    applicant's rating (the public route, as the harness's Rate is the applicant's). Each
    carries its key: a submission its ``idempotency_key`` in the body, every action its request
    id as ``Idempotency-Key`` (R23; the accept and deliver routes take none and ignore it). How
    many are in flight at once is the caller's (harness.decide_all: 8)."""

    def __init__(self, urls: Sequence[str], users: Sequence[DemoUser], audit_key: bytes) -> None:
        self.tallies = [Tally(url) for url in urls]
        self._clients = [httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S) for url in urls]
        self._clerk = next(u.token for u in users if u.role is Role.CLERK)
        self._reviewers = {u.department: u.token for u in users if u.role is Role.REVIEWER}
        self._audit_key = audit_key
        self._last: dict[str, int] = {}

    async def __aenter__(self) -> ApiDriver:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients))

    async def submit(self, application: Application, clerk: Actor) -> Submission:
        """``POST /cases`` as the clerk (the token's, not ``clerk``)."""
        body = application.model_dump(mode="json")
        request = Request("/cases", self._clerk, body)
        through, answer = await self._send(SUBMISSIONS, request, application.idempotency_key)
        found = answer.json()
        self._last[found["case_no"]] = through
        return Submission(case_no=found["case_no"], created=found["created"])

    async def act(
        self, case_no: str, command: CaseCommand, request_id: str | None = None
    ) -> object:
        """The command's route; its answer (the case's status, or the public progress)."""
        _, answer = await self._send(case_no, self._request(case_no, command), request_id)
        found: object = answer.json()
        return found

    def _request(self, case_no: str, command: CaseCommand) -> Request:
        """The route, token and body of ``command`` on the case."""
        cases = f"/cases/{case_no}"
        match command:
            case Accept():
                return Request(f"{cases}/accept", self._clerk, None)
            case Decide():
                body = DecisionIn(
                    outcome=command.outcome,
                    department=command.department,
                    reasons=command.reasons,
                    items=command.items,
                )
                token = self._reviewers[command.department]
                return Request(f"{cases}/decision", token, _json(body))
            case Deliver():
                return Request(
                    f"{cases}/deliver", self._clerk, _json(DeliverIn(method=command.method))
                )
            case Rate() if command.actor.role is Role.APPLICANT:
                rating = PublicRatingIn(
                    check_code=check_code(case_no, self._audit_key),
                    level=command.level,
                    comment=command.comment,
                    concerns=command.concerns,
                )
                return Request(f"/public{cases}/rating", None, _json(rating))
        raise NotImplementedError(f"no route for {command.kind} in the driver")

    async def _send(
        self, key: str, request: Request, request_id: str | None
    ) -> tuple[int, httpx.Response]:
        """Send through the API after the one ``key``'s previous request went to; the API's
        index and its answer, or EngineUnavailableError / RefusedError."""
        through = (self._last.get(key, -1) + 1) % len(self._clients)
        self._last[key] = through
        tally = self.tallies[through]
        headers = {}
        if request.token is not None:
            headers["Authorization"] = f"Bearer {request.token}"
        if request_id is not None:
            headers["Idempotency-Key"] = request_id
        where = f"POST {tally.url}{request.path}"
        tally.sent += 1
        try:
            answer = await self._clients[through].post(
                request.path, json=request.body, headers=headers
            )
        except httpx.TransportError as error:
            tally.outages += 1
            raise EngineUnavailableError(f"{where}: {type(error).__name__} {error}") from None
        if answer.is_success:
            tally.answered += 1
            return through, answer
        field, reason, code = _problem(answer)
        if answer.status_code == httpx.codes.SERVICE_UNAVAILABLE and code in OUTAGE_CODES:
            tally.outages += 1
            raise EngineUnavailableError(f"{where}: 503 {code}: {reason}")
        if answer.is_client_error:
            tally.refused += 1
            kind = f"HTTP {answer.status_code}" + (f" {code}" if code else "")
            raise RefusedError(field, f"{where}: {answer.status_code}: {reason}", kind=kind)
        raise AssertionError(f"{where}: {answer.status_code} {answer.text[:2000]}")


def _json(body: BaseModel) -> dict[str, Any]:
    """A request body as the API reads it (only the fields set)."""
    found: dict[str, Any] = body.model_dump(mode="json", exclude_none=True)
    return found


def _problem(answer: httpx.Response) -> tuple[str, str, str | None]:
    """The field, reason and machine code of a refusal's body (``{"detail": {...}}``)."""
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    if not isinstance(detail, dict):
        return "body", answer.text[:500], None
    code = detail.get("code")
    return str(detail.get("field")), str(detail.get("reason")), str(code) if code else None
