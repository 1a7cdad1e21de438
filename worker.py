"""The worker: serves the case workflows and their activities at the configured Temporal address.

uv run python worker.py

A bad setting (or a missing secret outside development) is one line and exit status 2; a
Temporal server that cannot be reached is one line and exit status 3. SIGTERM or Ctrl-C drains
it: it takes no new tasks, lets its running activities finish (approval.runtime's
GRACEFUL_SHUTDOWN), logs ``worker.stopped`` and exits with status 0. With
APPROVAL_WORKER_METRICS_ADDRESS it serves Prometheus metrics there (approval.metrics).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.service import RPCError

from approval import search_attributes
from approval.calendar_source import provisional_years
from approval.cli.common import EXIT_INTERRUPTED, INTERRUPTED, unavailable
from approval.config import Settings
from approval.logs import configure_logging
from approval.metrics import engine_runtime
from approval.runtime import build_worker, engine_settings, open_store
from approval.service import connect
from approval.tracing import WORKER_SERVICE, tracing_interceptors


async def serve(settings: Settings) -> None:
    """Connect, open the store, and serve until SIGTERM or SIGINT, then drain."""
    configure_logging(json=settings.log_json)
    log = structlog.get_logger("worker")
    try:
        runtime = engine_runtime(settings.worker_metrics_address)
        tracing = tracing_interceptors(settings.otlp_endpoint, WORKER_SERVICE)
        client = await connect(settings, runtime, tracing)
    except RuntimeError as error:  # the SDK's "Failed client connect: ..."
        unavailable(
            "temporal_unreachable",
            f"无法连接 Temporal {settings.temporal_address}（APPROVAL_TEMPORAL_ADDRESS）：{error}",
        )
    await register_search_attributes(client, settings.temporal_namespace)
    sessions = open_store(settings.store_url)
    with ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(
            client,
            task_queue=settings.task_queue,
            sessions=sessions,
            stub_behaviours=settings.stub_behaviours,
            executor=executor,
            audit_key=settings.audit_key_bytes,
        )
        stop = stop_on_signals()
        running = asyncio.create_task(worker.run())
        log.info(
            "worker.started",
            address=settings.temporal_address,
            task_queue=settings.task_queue,
            metrics=settings.worker_metrics_address,
            provisional_years=provisional_years(settings),
        )
        either: set[asyncio.Future[Any]] = {running, stop}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if stop.done():
            log.info("worker.draining", signal=stop.result().name)
            await worker.shutdown()
        await running  # a worker that failed raises here
        log.info("worker.stopped")


async def register_search_attributes(client: Client, namespace: str) -> None:
    """Register the case's search attributes the namespace lacks (approval.search_attributes);
    where the server does not let this worker, say so and go on: the operator's set-up
    registers them (the compose file's setup service)."""
    log = structlog.get_logger("worker")
    try:
        added = await search_attributes.register(client, namespace)
    except RPCError as error:
        log.error("worker.search_attributes_not_registered", namespace=namespace, reason=str(error))
        return
    if added:
        log.info("worker.search_attributes_registered", namespace=namespace, names=added)


def stop_on_signals() -> asyncio.Future[signal.Signals]:
    """A future that SIGTERM or SIGINT resolves with the signal (the first one only)."""
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[signal.Signals] = loop.create_future()

    def stop_with(how: signal.Signals) -> None:
        if not stop.done():
            stop.set_result(how)

    for how in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(how, stop_with, how)
    return stop


def main() -> None:
    """Check the settings, then serve; Ctrl-C before serving is one line, no traceback."""
    settings = engine_settings()
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None


if __name__ == "__main__":
    main()
