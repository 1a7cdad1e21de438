"""The case's custom search attributes: what a supervisor or an operator filters cases by in
Temporal's UI and ``temporal workflow list --query`` (e.g. ``CaseStage="in_review" AND
Overdue=true``). They are registered on the namespace when the server starts (the dev server's
``--search-attribute`` flags, the compose file's setup service, the test servers through the
operator service) and upserted by the case workflow whenever one of them changes."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    SearchAttributeUpdate,
)
from temporalio.service import RPCError, RPCStatusCode

from approval.domain.state import CaseState

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
"""The case's stage (approval.domain.state.Stage: ``in_review``, ``completed`` …)."""
MATTER_CODE = SearchAttributeKey.for_keyword("MatterCode")
DEPARTMENTS = SearchAttributeKey.for_keyword_list("Departments")
"""The codes of the departments that review the case."""
CENTRE = SearchAttributeKey.for_keyword("Centre")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
"""A department, the case's committed period or its delivery has passed its deadline."""
RED_MARKED = SearchAttributeKey.for_bool("RedMarked")
"""A supervised clock of the case went red (R19)."""
RECEIVED_AT = SearchAttributeKey.for_datetime("ReceivedAt")
COMMITTED_COMPLETION_AT = SearchAttributeKey.for_datetime("CommittedCompletionAt")
"""The end of the committed period (承诺时限) as last counted: while its clock is stopped (a
supplement, an excluded procedure) it keeps the value it had, and moves when the clock does."""

KEYS: tuple[SearchAttributeKey[Any], ...] = (
    CASE_STAGE,
    MATTER_CODE,
    DEPARTMENTS,
    CENTRE,
    OVERDUE,
    RED_MARKED,
    RECEIVED_AT,
    COMMITTED_COMPLETION_AT,
)
TYPE_NAMES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
}
"""How the Temporal CLI names each type (``--search-attribute Name=Type``)."""


def definitions() -> dict[str, str]:
    """Each attribute's name and its type as the Temporal CLI names it."""
    return {key.name: TYPE_NAMES[key.indexed_value_type] for key in KEYS}


def dev_server_args() -> tuple[str, ...]:
    """The dev server's flags that register every attribute when it starts."""
    return tuple(
        arg
        for name, kind in definitions().items()
        for arg in ("--search-attribute", f"{name}={kind}")
    )


async def register(client: Client, namespace: str) -> list[str]:
    """Register on ``namespace``, through the operator service, every attribute it does not
    have yet; the names registered. A worker does it as it starts, so that no case of a
    namespace without them stalls (its workflow tasks would fail until they are)."""
    known = await _registered(client, namespace)
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in KEYS
        if key.name not in known
    }
    if not missing:
        return []
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    except RPCError as error:
        if error.status is not RPCStatusCode.ALREADY_EXISTS:  # another worker, meanwhile
            raise
        return []
    return sorted(missing)


async def _registered(client: Client, namespace: str) -> set[str]:
    """The custom attributes the namespace has; none known where the server cannot list them
    (the time-skipping test server)."""
    try:
        known = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
    except RPCError as error:
        if error.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        return set()
    return set(known.custom_attributes)


@dataclass(frozen=True)
class CaseAttributes:
    """The attributes' values for one case at one moment, a field per key of KEYS, in its
    order."""

    stage: str
    matter_code: str
    departments: tuple[str, ...]
    centre: str
    overdue: bool
    red_marked: bool
    received_at: datetime
    committed_completion_at: datetime | None

    @classmethod
    def of(cls, state: CaseState, centre: str, red_marked: bool) -> CaseAttributes:
        """The values for ``state``; ``red_marked``: whether a red mark has been recorded."""
        clock = state.case_clock
        return cls(
            stage=state.stage.value,
            matter_code=state.matter.code,
            departments=tuple(review.department for review in state.matter.reviews),
            centre=centre,
            overdue=state.case_overdue
            or state.delivery_overdue
            or any(task.overdue for task in state.tasks.values()),
            red_marked=red_marked,
            received_at=state.received_at,
            committed_completion_at=clock.deadline.due if clock and clock.deadline else None,
        )

    def updates(self, before: CaseAttributes | None) -> list[SearchAttributeUpdate[Any]]:
        """What to upsert to move from ``before`` (None: nothing upserted yet) to these. A
        value not known (None) is left as it was: never unset (the time-skipping test server
        keeps an unset date as a null that the SDK cannot read back)."""
        then = before._values() if before is not None else [None] * len(KEYS)
        return [
            key.value_set(value)
            for key, value, old in zip(KEYS, self._values(), then, strict=True)
            if value is not None and value != old
        ]

    def _values(self) -> list[object]:
        """The values in the order of KEYS (the fields are declared in that order)."""
        return [getattr(self, field.name) for field in fields(self)]
