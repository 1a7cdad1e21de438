"""The worker: serves the case workflows and their activities at the configured Temporal address.

uv run python worker.py

A bad setting (or a missing secret outside development) is one line and exit status 2; a
Temporal server that cannot be reached is one line and exit status 3.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import structlog

from approval.cli.common import unavailable
from approval.config import Settings
from approval.logs import configure_logging
from approval.runtime import build_worker, engine_settings, open_store
from approval.service import connect


async def serve(settings: Settings) -> None:
    """Connect, open the store, and serve until interrupted."""
    configure_logging(json=settings.log_json)
    try:
        client = await connect(settings)
    except RuntimeError as error:  # the SDK's "Failed client connect: ..."
        unavailable(
            "temporal_unreachable",
            f"无法连接 Temporal {settings.temporal_address}（APPROVAL_TEMPORAL_ADDRESS）：{error}",
        )
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
        structlog.get_logger("worker").info(
            "worker.started", address=settings.temporal_address, task_queue=settings.task_queue
        )
        await worker.run()


def main() -> None:
    """Check the settings, then serve."""
    asyncio.run(serve(engine_settings()))


if __name__ == "__main__":
    main()
