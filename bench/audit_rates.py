"""How fast the auditor's two checks run on this machine: replaying histories against the
workflow code (histories per second, over the golden histories replayed N times) and
verifying audit chains (events per second, over a throw-away SQLite store of many chained
events). Prints the figures; asserts nothing.

    uv run python -m bench.audit_rates [--replays 5] [--cases 200] [--events 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import WorkflowHistory

from approval.auditing.histories import case_replayer, load_history
from approval.config import DEVELOPMENT_AUDIT_KEY, PROJECT_ROOT
from approval.domain.audit import verify_chain
from approval.domain.events import CaseEvent, ReviewApproved
from approval.domain.models import Actor, Role
from approval.runtime import open_store
from approval.store.audit_log import events_of, record_events

GOLDEN_DIR = PROJECT_ROOT / "tests" / "golden"
KEY = DEVELOPMENT_AUDIT_KEY.encode()
DEPARTMENTS = ("ZRZY", "ZJJ", "RFB", "CGJ")


@dataclass(frozen=True)
class ReplayRate:
    """Histories replayed, their events, the seconds it took and how many failed."""

    histories: int
    events: int
    seconds: float
    failures: int


async def replay_rate(histories: list[WorkflowHistory], rounds: int) -> ReplayRate:
    """Replay every history ``rounds`` times through one replayer of the current code."""

    async def stream() -> AsyncIterator[WorkflowHistory]:
        for _ in range(rounds):
            for history in histories:
                yield history

    failures = 0
    started = time.perf_counter()
    async with case_replayer().workflow_replay_iterator(stream()) as results:
        async for result in results:
            failures += result.replay_failure is not None
    seconds = time.perf_counter() - started
    events = rounds * sum(len(h.events) for h in histories)
    return ReplayRate(rounds * len(histories), events, seconds, failures)


def synthetic_events(count: int, start: datetime) -> list[CaseEvent]:
    """``count`` events of one case, shaped like a review's: dispatches and opinions."""
    events: list[CaseEvent] = []
    for seq in range(1, count + 1):
        department = DEPARTMENTS[seq % len(DEPARTMENTS)]
        actor = Actor(role=Role.REVIEWER, id=f"reviewer-{department}", department=department)
        at = start + timedelta(minutes=seq)
        events.append(ReviewApproved(seq=seq, at=at, actor=actor, department=department))
    return events


@dataclass(frozen=True)
class ChainRate:
    """Chained events written, then read and verified, with the seconds of each part."""

    events: int
    write_seconds: float
    read_seconds: float
    verify_seconds: float
    findings: int


def chain_rate(cases: int, per_case: int, scratch: Path) -> ChainRate:
    """Record ``cases`` × ``per_case`` chained events in a new SQLite store, read each case's
    chain back and verify it under the key."""
    sessions = open_store(f"sqlite:///{scratch / 'bench.sqlite3'}")
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    case_nos = [f"371600-20260302-{n:06d}" for n in range(1, cases + 1)]
    started = time.perf_counter()
    with sessions.begin() as session:
        for case_no in case_nos:
            events = synthetic_events(per_case, start)
            record_events(session, key=KEY, case_no=case_no, events=events, documents=[], now=start)
    write_seconds = time.perf_counter() - started
    read_seconds = verify_seconds = 0.0
    findings = 0
    with sessions() as session:
        for case_no in case_nos:
            before_read = time.perf_counter()
            rows = events_of(session, case_no)
            before_verify = time.perf_counter()
            findings += len(verify_chain(KEY, rows, last_seq=per_case))
            done = time.perf_counter()
            read_seconds += before_verify - before_read
            verify_seconds += done - before_verify
    sessions.kw["bind"].dispose()
    return ChainRate(cases * per_case, write_seconds, read_seconds, verify_seconds, findings)


def main() -> None:
    """Measure both rates and print them."""
    parser = argparse.ArgumentParser(description="Replay and audit-chain verification rates.")
    parser.add_argument("--replays", type=int, default=5, help="rounds over the golden set")
    parser.add_argument("--cases", type=int, default=200, help="cases in the chain store")
    parser.add_argument("--events", type=int, default=50, help="events per case")
    args = parser.parse_args()

    histories = [load_history(p) for p in sorted(GOLDEN_DIR.glob("*.json"))]
    replay = asyncio.run(replay_rate(histories, args.replays))
    print(
        f"replay: {replay.histories} histories ({len(histories)} golden × {args.replays}), "
        f"{replay.events} events in {replay.seconds:.2f} s → "
        f"{replay.histories / replay.seconds:.1f} histories/s, "
        f"{replay.events / replay.seconds:.0f} events/s; failures {replay.failures}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        chain = chain_rate(args.cases, args.events, Path(scratch))
    print(
        f"audit chain: {chain.events} events ({args.cases} cases × {args.events}) → "
        f"verify {chain.events / chain.verify_seconds:.0f} events/s "
        f"({chain.verify_seconds:.2f} s); "
        f"read + verify {chain.events / (chain.read_seconds + chain.verify_seconds):.0f} "
        f"events/s; write {chain.events / chain.write_seconds:.0f} events/s; "
        f"findings {chain.findings}"
    )


if __name__ == "__main__":
    main()
    # Leave without interpreter finalisation: the Temporal runtime's native threads may still
    # be running (as run_typer does for the command lines).
    sys.stdout.flush()
    os._exit(0)
