"""The command line's own labels: the supervision lights in the terminal's colours. The stage
and task names are the domain's (approval.domain.labels), named here too for the modules that
still import them from the command line."""

from __future__ import annotations

from approval.domain.labels import STAGE_LABELS, TASK_LABELS
from approval.domain.status import Light

__all__ = ["LIGHT_LABELS", "STAGE_LABELS", "TASK_LABELS"]

LIGHT_LABELS = {
    Light.GREEN: "[green]● 绿灯[/green]",
    Light.YELLOW: "[yellow]● 黄灯[/yellow]",
    Light.RED: "[red]● 红灯[/red]",
    Light.PAUSED: "[dim]‖ 暂停[/dim]",
    Light.NONE: "",
}
