"""One worker in a process of its own, for bench.throughput to measure the worker's CPU apart
from the client that drives it: the engine's (the project's running_worker, departments that
keep nothing, the given store) or the skeleton's. Prints ``ready`` once it polls, and runs
until its standard input closes.

    python -m bench.worker_process engine|skeleton ADDRESS TASK_QUEUE [STORE_URL]
"""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client

from approval.config import DEVELOPMENT_AUDIT_KEY
from approval.contracts import DATA_CONVERTER
from approval.environments import running_worker
from approval.store.engine import open_store
from bench.common import AbsentDepartments
from bench.skeleton import skeleton_worker


async def serve(kind: str, address: str, task_queue: str, store_url: str | None) -> None:
    """Run the worker until standard input closes."""
    client = await Client.connect(address, data_converter=DATA_CONVERTER)
    stdin_closed = asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    if kind == "engine":
        assert store_url is not None
        sessions = open_store(store_url)
        async with running_worker(
            client,
            sessions,
            task_queue=task_queue,
            audit_key=DEVELOPMENT_AUDIT_KEY.encode(),
            system=AbsentDepartments(),
        ):
            print("ready", flush=True)
            await stdin_closed
        return
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with skeleton_worker(client, task_queue, executor):
            print("ready", flush=True)
            await stdin_closed


if __name__ == "__main__":
    kind, address, queue, *store = sys.argv[1:]
    asyncio.run(serve(kind, address, queue, store[0] if store else None))
