"""Optional tracing with OpenTelemetry, off by default: with APPROVAL_OTLP_ENDPOINT set, a
process's Temporal client carries Temporal's own tracing interceptor
(``temporalio.contrib.opentelemetry``), so that starting a case, each Update, each workflow
task and each activity is a span, one trace from the API's request to the worker's store write,
exported over OTLP/HTTP to ``{endpoint}/v1/traces`` (a collector, Jaeger, Tempo …)."""

from __future__ import annotations

import atexit
from collections.abc import Sequence

from temporalio.client import Interceptor

TRACES_PATH = "/v1/traces"
API_SERVICE = "approval-api"
WORKER_SERVICE = "approval-worker"
"""The service names the spans of each process carry."""


def tracing_interceptors(endpoint: str | None, service: str) -> Sequence[Interceptor]:
    """The client interceptors that trace this process as ``service`` to ``endpoint``; none
    when it is unset. The spans still buffered are sent when the process exits."""
    if not endpoint:
        return ()
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from temporalio.contrib.opentelemetry import TracingInterceptor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}{TRACES_PATH}")
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
    trace.set_tracer_provider(provider)
    atexit.register(provider.shutdown)
    return (TracingInterceptor(),)
