"""The command line's own labels: the supervision lights in the terminal's colours (the stage
and task names are the domain's, approval.domain.labels)."""

from __future__ import annotations

from approval.domain.status import Light

LIGHT_LABELS = {
    Light.GREEN: "[green]● 绿灯[/green]",
    Light.YELLOW: "[yellow]● 黄灯[/yellow]",
    Light.RED: "[red]● 红灯[/red]",
    Light.PAUSED: "[dim]‖ 暂停[/dim]",
    Light.NONE: "",
}
