"""The simulation command: weeks of demo cases on the time-skipping server, each ending as
its path says."""

from __future__ import annotations

from pathlib import Path

from approval.cli.simulate import simulate_all
from approval.config import Settings
from approval.domain.catalogue import Catalogue
from approval.domain.state import Stage, TaskState


async def test_R9_simulation_shows_every_path_including_deemed_approval(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    """R3, R9, R11, R14, R18: the simulation's cases end approved, rejected, deemed approved,
    supplemented, escalated, withdrawn and deemed accepted, as their scenarios intend."""
    settings = Settings(
        data_dir=tmp_path, task_queue="sim-test", holiday_override_path=tmp_path / "none.yaml"
    )
    results = dict(await simulate_all(catalogue, settings))
    decision = {title.split()[-1]: status for title, status in results.items()}
    assert decision["approved"].decision is not None and decision["approved"].decision.approved
    assert decision["rejected"].decision is not None and not decision["rejected"].decision.approved
    deemed = decision["deemed"]
    assert deemed.decision is not None and deemed.decision.deemed_departments == ("JJ",)
    assert any(t.state is TaskState.DEEMED_APPROVED and t.overdue for t in deemed.tasks)
    assert decision["supplement"].stage is Stage.AWAITING_DELIVERY
    assert decision["escalated"].stage is Stage.IN_REVIEW
    assert all(t.escalated for t in decision["escalated"].tasks)
    assert decision["withdrawn"].stage is Stage.WITHDRAWN
    assert decision["acceptance"].deemed_accepted
