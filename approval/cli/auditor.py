"""The auditor's command line (auditor.py). Read-only: nothing here changes a case."""

from __future__ import annotations

import logging

import typer

from approval.cli.common import cli_settings, run_typer
from approval.logs import configure_logging

app = typer.Typer(
    help=(
        "审计工具（只读）：export 导出审计事件、replay 重放工作流历史、timeline 办件时间线、"
        "check 合规检查、verify 核验哈希链、crosscheck 对照工作流历史、rebuild 重建读模型"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def main() -> None:
    """Entry point of auditor.py."""
    from approval.cli import audit_histories, audit_integrity, audit_story

    configure_logging(json=cli_settings().log_json, level=logging.WARNING)
    for module in (audit_histories, audit_story, audit_integrity):
        module.register(app)
    run_typer(app)
