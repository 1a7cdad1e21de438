"""A stub department service reached over real HTTP, for demos and tests: every department's
system in one small FastAPI app. It records what each department receives (in memory, and in
the store when it has one), counts a retried delivery once, answers as the in-process stub
does (silent, approve, reject, supplement, flaky — see ``departments.stub``), and can be told
to fail (HTTP 503) or to answer slowly on the first attempts of every message, to show the
engine's retries and timeouts.

uv run --frozen python -m approval.departments.http_service --port 8100
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from typing import Annotated

import structlog
import typer
import uvicorn
from fastapi import FastAPI, Header, HTTPException, Path
from pydantic import Field
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from approval.config import get_settings
from approval.contracts import DepartmentMessage
from approval.departments import message_id
from approval.departments.stub import Behaviour, answer_for, record_received
from approval.departments.wire import ATTEMPT_HEADER, MESSAGE_ID_HEADER, Receipt, messages_path
from approval.domain.catalogue import Frozen
from approval.logs import configure_logging
from approval.store.engine import open_store

log = structlog.get_logger(__name__)

DEFAULT_PORT = 8100


class Faults(Frozen):
    """How the service misbehaves on the first deliveries of every message."""

    fail_first: int = Field(default=0, ge=0)
    """Answer HTTP 503 to the first N attempts (the message is not received)."""
    slow_first: int = Field(default=0, ge=0)
    """Receive the first N attempts, but answer them only after ``delay_s``."""
    delay_s: float = Field(default=0.0, ge=0, le=600)


class Received(Frozen):
    """One message as a department received it."""

    message_id: str
    attempts: int
    message: DepartmentMessage


class DepartmentService:
    """The departments' state: what they received, how often it was delivered, and how
    they answer."""

    def __init__(
        self,
        behaviours: Mapping[str, str],
        faults: Faults,
        sessions: sessionmaker[Session] | None,
    ) -> None:
        self.faults = faults
        self._behaviours = {dept: Behaviour(b) for dept, b in behaviours.items()}
        self._sessions = sessions
        self._received: dict[str, DepartmentMessage] = {}
        self._attempts: Counter[str] = Counter()

    def behaviour_of(self, department: str) -> Behaviour:
        """The configured behaviour; silent when none is set."""
        return self._behaviours.get(department, Behaviour.SILENT)

    def unavailable(self, key: str, department: str) -> bool:
        """Count a delivery attempt of ``key``; True when this one is to fail."""
        self._attempts[key] += 1
        attempts = self._attempts[key]
        flaky = self.behaviour_of(department) is Behaviour.FLAKY and attempts == 1
        return flaky or attempts <= self.faults.fail_first

    def receive(self, key: str, message: DepartmentMessage) -> Receipt:
        """Record ``message`` once and give the department's receipt. With a store, the store
        says whether the message is new: its insert (one transaction) reports whether the row
        was added, so a retry after a failed write records the message then, once (R23).
        The message counts as received only once it is recorded."""
        if self._sessions is not None:
            duplicate = not record_received(self._sessions, message)
        else:
            duplicate = key in self._received
        self._received.setdefault(key, message)
        return Receipt(
            message_id=key,
            duplicate=duplicate,
            attempts=self._attempts[key],
            decision=answer_for(self.behaviour_of(message.department), message),
        )

    def slow(self, key: str) -> bool:
        """Whether the answer to this attempt of ``key`` is to be late."""
        return self._attempts[key] <= self.faults.slow_first

    def received_by(self, department: str) -> list[Received]:
        """What ``department`` received, in order of arrival."""
        return [
            Received(message_id=key, attempts=self._attempts[key], message=message)
            for key, message in self._received.items()
            if message.department == department
        ]


DepartmentCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Z0-9_]+$")]


def create_app(
    behaviours: Mapping[str, str] | None = None,
    faults: Faults | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> FastAPI:
    """The service: departments answering per ``behaviours`` (silent when not named),
    misbehaving per ``faults``, recording in the store of ``sessions`` if given."""
    service = DepartmentService(behaviours or {}, faults or Faults(), sessions)
    app = FastAPI(title="模拟部门系统 (stub department service)")
    app.state.departments = service

    @app.post(messages_path("{department}"), response_model=Receipt)
    async def receive(
        department: DepartmentCode,
        message: DepartmentMessage,
        idempotency_key: Annotated[
            str | None, Header(alias=MESSAGE_ID_HEADER, min_length=1, max_length=200)
        ] = None,
        attempt: Annotated[int | None, Header(alias=ATTEMPT_HEADER, ge=1)] = None,
    ) -> Receipt:
        """Receive one message for ``department``; a repeat of the same message id (the
        ``Idempotency-Key`` header, else the message's own identity) is not counted again."""
        if message.department != department:
            raise HTTPException(422, f"department: the message is for {message.department}")
        key = idempotency_key or message_id(message)
        if service.unavailable(key, department):
            log.info("department.unavailable", message_id=key, attempt=attempt)
            raise HTTPException(503, f"{department} system unavailable, try again")
        try:
            receipt = service.receive(key, message)
        except SQLAlchemyError as error:
            log.warning("department.store_failed", message_id=key, error=str(error))
            raise HTTPException(503, f"{department} could not record it, try again") from None
        log.info(
            "department.received", message_id=key, attempt=attempt, duplicate=receipt.duplicate
        )
        if service.slow(key):
            await asyncio.sleep(service.faults.delay_s)
        return receipt

    @app.get(messages_path("{department}"), response_model=list[Received])
    async def received(department: DepartmentCode) -> list[Received]:
        """What ``department`` received so far, each message once, with its attempts."""
        return service.received_by(department)

    @app.put("/faults", response_model=Faults)
    async def set_faults(faults: Faults) -> Faults:
        """Change how the service misbehaves from now on (for demos)."""
        service.faults = faults
        return faults

    return app


def main(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = DEFAULT_PORT,
    fail_first: Annotated[int, typer.Option(min=0, help="answer 503 to the first N attempts")] = 0,
    slow_first: Annotated[int, typer.Option(min=0, help="answer the first N attempts late")] = 0,
    delay: Annotated[float, typer.Option(min=0, help="seconds a late answer takes")] = 0.0,
    store: Annotated[bool, typer.Option(help="also record in the store (APPROVAL_*)")] = True,
) -> None:
    """Serve the stub departments; behaviours from APPROVAL_STUB_BEHAVIOURS."""
    settings = get_settings()
    configure_logging(json=settings.log_json)
    app = create_app(
        settings.stub_behaviours,
        Faults(fail_first=fail_first, slow_first=slow_first, delay_s=delay),
        open_store(settings.store_url) if store else None,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


if __name__ == "__main__":
    typer.run(main)
