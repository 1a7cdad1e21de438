"""What every log line of an activity carries: the case and its workflow run, the activity and
its attempt (structlog's context variables, merged into each line by approval.logs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from structlog.contextvars import bound_contextvars
from temporalio import activity


@contextmanager
def bound_to_activity(case_no: str, **fields: str) -> Iterator[None]:
    """While the block runs, every log line names ``case_no``, the workflow id and run id,
    the activity and its attempt, and ``fields`` (e.g. the department)."""
    info = activity.info()
    with bound_contextvars(
        case_no=case_no,
        workflow_id=info.workflow_id,
        run_id=info.workflow_run_id,
        activity=info.activity_type,
        attempt=info.attempt,
        **fields,
    ):
        yield
