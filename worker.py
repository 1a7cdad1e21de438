"""The worker: serves the case workflows and their activities at the configured Temporal address.

uv run python worker.py
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import structlog

from approval.config import get_settings
from approval.logs import configure_logging
from approval.runtime import build_worker, open_store
from approval.service import connect


async def main() -> None:
    """Connect, open the store, and serve until interrupted."""
    settings = get_settings()
    configure_logging(json=settings.log_json)
    client = await connect(settings)
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


if __name__ == "__main__":
    asyncio.run(main())
