"""The store's writers and readers under their former single name.

Kept so that callers written before the store was split by concern keep working; new code
imports from the module of the concern: database (engines, sessions, idempotent SQL),
numbering, audit_log, read_model, recording, department_messages, users, queries.
"""

from __future__ import annotations

from approval.store.audit_log import events_of, next_seq, notices_of, record_events, typed
from approval.store.database import (
    FRESH,
    create_schema,
    insert_ignoring_duplicates,
    make_engine,
    make_session_factory,
    upsert_if_newer,
)
from approval.store.department_messages import department_messages_of, record_department_message
from approval.store.numbering import allocate_case_number, case_known
from approval.store.queries import case_row, department_inbox, has_task, task_rows
from approval.store.recording import record_case
from approval.store.users import (
    create_user,
    create_users_with_tokens,
    hash_token,
    issue_token,
    legacy_token_hash,
    user_by_name,
    user_by_token,
)

__all__ = [
    "FRESH",
    "allocate_case_number",
    "case_known",
    "case_row",
    "create_schema",
    "create_user",
    "create_users_with_tokens",
    "department_inbox",
    "department_messages_of",
    "events_of",
    "has_task",
    "hash_token",
    "insert_ignoring_duplicates",
    "issue_token",
    "legacy_token_hash",
    "make_engine",
    "make_session_factory",
    "next_seq",
    "notices_of",
    "record_case",
    "record_department_message",
    "record_events",
    "task_rows",
    "typed",
    "upsert_if_newer",
    "user_by_name",
    "user_by_token",
]
