"""Fixtures of the fault runs."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from approval.config import Settings


@pytest.fixture
def fault_settings(tmp_path: Path) -> Settings:
    """Settings of a fault run: development mode (its published audit key, also given to the
    worker processes), a task queue and data directory of the run's own."""
    return Settings(
        environment="development",
        task_queue=f"faults-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path,
        holiday_override_path=tmp_path / "no-override.yaml",
    )
