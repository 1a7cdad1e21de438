"""The engine's process runtime for Temporal (its Prometheus metrics and its core's logs) and
the metrics a worker adds to the SDK's own: what its steps recorded and how its writes and
sends went. A worker serves them all at APPROVAL_WORKER_METRICS_ADDRESS (``/metrics``); the
API serves its own at ``/metrics`` (approval.api.metrics).

Each count is made by the store write that first stored the step (a retried write that finds
the step stored counts nothing), so the figures follow the record, not the attempts."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from temporalio.common import MetricMeter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from approval.domain.events import (
    ActionRefused,
    CaseApproved,
    CaseEvent,
    CaseRejected,
    ReviewDeemedApproved,
    TaskAnswer,
)

STORE_WRITE_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
STORE_WRITE_SECONDS = "approval_store_write_seconds"
CORE_LOGGER = "temporalio.core"
"""The logger the SDK's core (Rust) logs are forwarded to, through the process's renderer."""


def engine_runtime(metrics_address: str | None = None) -> Runtime:
    """A Temporal runtime whose core logs go through Python's logging (one renderer for
    every line) and, with ``metrics_address`` (``host:port``), whose metrics Prometheus
    scrapes there: the SDK's (durations in seconds) and the engine's (WorkerMetrics)."""
    metrics = (
        PrometheusConfig(
            bind_address=metrics_address,
            durations_as_seconds=True,
            histogram_bucket_overrides={STORE_WRITE_SECONDS: STORE_WRITE_BUCKETS_S},
        )
        if metrics_address
        else None
    )
    logs = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
    )
    return Runtime(telemetry=TelemetryConfig(logging=logs, metrics=metrics))


ANSWER_OUTCOMES: dict[str, str] = {
    "ReviewApproved": "approved",
    "ReviewRejected": "rejected",
    "ReviewSupplementRequested": "supplement_requested",
    "ReviewDeemedApproved": "deemed_approved",
    "ReviewEscalated": "escalated",
    "ReviewDeemedApprovedInAbsence": "deemed_approved_in_absence",
}
"""A department's answer (TaskAnswer events) by the outcome label it is counted under."""


class WorkerMetrics:
    """The engine's counters and histograms on the worker's Temporal runtime (by default on
    none: counted nowhere)."""

    def __init__(self, meter: MetricMeter = MetricMeter.noop) -> None:
        self._decisions = meter.create_counter(
            "approval_decisions_total", "Cases decided (准予/不予许可), by outcome"
        )
        self._answers = meter.create_counter(
            "approval_review_answers_total", "Department answers recorded, by outcome"
        )
        self._silent = meter.create_counter(
            "approval_silent_consents_total", "Silent consents (超时默认), by department"
        )
        self._refused = meter.create_counter(
            "approval_refused_attempts_total", "Refused attempts recorded, by action and field"
        )
        self._retries = meter.create_counter(
            "approval_department_send_retries_total", "Department sends retried, by department"
        )
        self._store_write = meter.create_histogram_float(
            STORE_WRITE_SECONDS, "Time to write one step to the store", "s"
        )

    def recorded(self, events: Iterable[CaseEvent]) -> None:
        """Count what a step newly stored."""
        for event in events:
            if isinstance(event, CaseApproved | CaseRejected):
                outcome = "approved" if isinstance(event, CaseApproved) else "rejected"
                self._decisions.add(1, {"outcome": outcome})
            elif isinstance(event, TaskAnswer):
                labels = {"department": event.department, "outcome": ANSWER_OUTCOMES[event.type]}
                self._answers.add(1, labels)
                if isinstance(event, ReviewDeemedApproved):
                    self._silent.add(1, {"department": event.department})
            elif isinstance(event, ActionRefused):
                self._refused.add(1, {"action": event.action, "field": event.field})

    def store_written(self, seconds: float) -> None:
        """One store write took ``seconds`` (committed or not)."""
        self._store_write.record(seconds)

    def send_retried(self, department: str) -> None:
        """A message to ``department`` is being sent again after a failed attempt."""
        self._retries.add(1, {"department": department})
