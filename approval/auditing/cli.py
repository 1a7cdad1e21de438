"""The auditor's command line (auditor.py). Read-only: nothing here changes a case."""

from __future__ import annotations

import logging

import typer

from approval.cli.app import run_typer
from approval.cli.common import cli_settings
from approval.logs import configure_logging

app = typer.Typer(
    help="审计工具 auditor's tools: export, replay, timeline, check, verify, crosscheck, rebuild",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def main() -> None:
    """Entry point of auditor.py."""
    from approval.auditing import histories, integrity, narrative

    configure_logging(json=cli_settings().log_json, level=logging.WARNING)
    for module in (histories, narrative, integrity):
        module.register(app)
    run_typer(app)
