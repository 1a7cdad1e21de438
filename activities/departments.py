"""Telling the department systems of their tasks, supplements and cancellations."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from temporalio import activity

from activities.logging_context import bound_to_activity
from activities.record_reads import RecordReads
from approval.contracts import DepartmentMessage, DepartmentMessageKind
from approval.departments import DepartmentSystem
from approval.metrics import WorkerMetrics

WITH_MATERIALS = (DepartmentMessageKind.TASK, DepartmentMessageKind.SUPPLEMENT)
BEAT_EVERY_S = 2.0
"""How often a send beats while it waits (well inside the workflow's DEPARTMENT_HEARTBEAT)."""


class DepartmentActivities:
    """Activities that reach the department systems through one interface, with the
    materials of the case's record."""

    def __init__(
        self, system: DepartmentSystem, record: RecordReads, metrics: WorkerMetrics | None = None
    ) -> None:
        self._system = system
        self._record = record
        self._metrics = metrics or WorkerMetrics()

    @activity.defn
    async def send_to_department(self, message: DepartmentMessage) -> None:
        """Deliver one message, with the matter and materials the record holds; a transient
        failure raises and Temporal retries it."""
        attempt = activity.info().attempt
        with bound_to_activity(message.case_no, department=message.department):
            if attempt > 1:
                self._metrics.send_retried(message.department)
            await beating(self._deliver(message, attempt))

    async def _deliver(self, message: DepartmentMessage, attempt: int) -> None:
        if message.as_of_seq is not None and message.matter_code is None:
            message = await self._completed(message, message.as_of_seq)
        await self._system.deliver(message, attempt=attempt)

    async def _completed(self, message: DepartmentMessage, seq: int) -> DepartmentMessage:
        """The message with its case's matter and, for a task or supplement, the materials
        the record held at event ``seq`` (R7)."""
        with_materials = message.kind in WITH_MATERIALS and not message.materials
        record = await self._record.at(message.case_no, seq, with_materials)
        fields: dict[str, object] = {
            "matter_code": record.matter_code,
            "matter_name": record.matter_name,
        }
        if with_materials:
            fields["materials"] = record.materials
        return message.model_copy(update=fields)


async def beating(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work``, heartbeating every BEAT_EVERY_S until it ends (its failure raised); a
    cancelled activity cancels it."""
    task = asyncio.ensure_future(work)
    try:
        while not task.done():
            activity.heartbeat()
            await asyncio.wait({task}, timeout=BEAT_EVERY_S)
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    task.result()
