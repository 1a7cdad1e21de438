"""Starting the app as an engine process starts: Temporal reached before it serves, and a
start refused for a setting told in one line (``错误 error: SETTING: reason``), the way
approval.config.refuse_to_start tells it, not as a traceback."""

from __future__ import annotations

import socket

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client
from temporalio.runtime import Runtime

from approval.auditing.integrity import reach_temporal
from approval.config import SettingError, Settings
from approval.service import EngineUnavailableError
from approval.tracing import API_SERVICE, tracing_interceptors

STARTUP_FAILED = "lifespan.startup.failed"


async def reach_engine(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client of the settings' Temporal (on ``runtime``, default the SDK's; traced when
    APPROVAL_OTLP_ENDPOINT is set), once its namespace answers; a SettingError naming
    APPROVAL_TEMPORAL_ADDRESS otherwise."""
    interceptors = tracing_interceptors(settings.otlp_endpoint, API_SERVICE)
    try:
        return await reach_temporal(settings, runtime, interceptors)
    except EngineUnavailableError as error:
        reason = f"API 未启动：{error.reason}"
        raise SettingError("APPROVAL_TEMPORAL_ADDRESS", reason) from None


def free_loopback_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on now (for this process's own SDK metrics)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def refusal_line(problem: SettingError) -> str:
    """The one line a start refused for ``problem`` is told in."""
    return f"错误 error: {problem.setting}: {problem.reason}"


class OneLineStartupRefusal:
    """ASGI middleware: when the lifespan refuses to start for a setting (SettingError), the
    server is told that one line (uvicorn prints it, then exits) instead of the traceback
    Starlette sends. Any other start-up failure is told as Starlette tells it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_failure(message: Message) -> None:
            if message["type"] == STARTUP_FAILED:
                held.append(message)
            else:
                await send(message)

        try:
            await self.app(scope, receive, hold_failure)
        except SettingError as problem:
            held[:] = [{"type": STARTUP_FAILED, "message": refusal_line(problem)}]
            raise
        finally:
            for message in held:
                await send(message)
