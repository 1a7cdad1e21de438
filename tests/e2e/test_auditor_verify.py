"""auditor.py run as the program the auditor starts (a process of its own): ``verify
--store-only`` on a store with a recorded case, before and after an edit. The auditor's commands
themselves are tested in this process (tests/auditing/); this proves the program's entry point,
its exit status and its output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from approval.store.schema import CaseEventRow
from tests.auditing.test_integrity import CASE, KEY, recorded_case
from tests.processes import AUDITOR, PROCESS_TIMEOUT_S

pytestmark = pytest.mark.slow


def test_R21_auditor_verify_store_only_names_the_tampered_event(
    sessions: sessionmaker[Session],
) -> None:
    """R21: `auditor.py verify --store-only` (no Temporal to anchor in) says intact, not
    anchored (exit 0) and, after an edit, names the case and the seq of the edited event
    (exit 1)."""
    recorded_case(sessions)
    bind = sessions.kw["bind"]
    env = {
        **os.environ,
        "APPROVAL_DATABASE_URL": bind.url.render_as_string(hide_password=False),
        "APPROVAL_AUDIT_KEY": KEY.decode(),
    }
    command = [sys.executable, str(AUDITOR), "verify", "--store-only"]
    intact = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S, check=False
    )
    assert intact.returncode == 0 and "：完好" in intact.stdout
    assert "未以工作流历史佐证" in intact.stdout
    with sessions.begin() as session:
        session.execute(
            update(CaseEventRow).where(CaseEventRow.seq == 2).values(actor_id="someone-else")
        )
    broken = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S, check=False
    )
    assert broken.returncode == 1
    assert f"{CASE} 第 2 号事件：内容被改动（edited）" in broken.stdout
