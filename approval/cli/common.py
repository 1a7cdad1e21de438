"""What every command line of the project shares (starter.py, auditor.py, the users command):
the one-line refusal (exit status 2), the one-line outage (exit status 3), JSON output, and
running a Typer app. Light on purpose: nothing here imports the domain, Temporal or the store
until a command needs them, so that ``--help`` answers at once."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from pydantic import BaseModel

    from approval.config import Settings

T = TypeVar("T")

EXIT_REFUSED = 2
"""Bad input, a bad setting or a refused action: nothing changed."""
EXIT_UNAVAILABLE = 3
"""The API, the engine or Temporal could not be reached: nothing was decided; try again."""

JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出，供程序读取")]
CaseArg = Annotated[str, typer.Argument(help="办件编号，例如 371600-20261128-000001")]
RequestId = Annotated[str | None, typer.Option(help="请求编号，可安全重试：同一编号只生效一次")]


def fail(message: str, status: int = EXIT_REFUSED) -> NoReturn:
    """One line on stderr (``错误 error: field: reason``), no stack trace, exit ``status``
    (2: refused, nothing changed)."""
    print(f"错误 error: {message}", file=sys.stderr)
    raise typer.Exit(status)


def unavailable(code: str, message: str) -> NoReturn:
    """One line on stderr (``不可用 unavailable: code: 说明``), exit status 3: an outage, told
    apart from a refusal. ``code`` is stable, for programs."""
    print(f"不可用 unavailable: {code}: {message}", file=sys.stderr)
    raise SystemExit(EXIT_UNAVAILABLE)


INTERRUPTED = "已中断 interrupted"
EXIT_INTERRUPTED = 130
"""The shell's status of a program stopped by Ctrl-C (128 + SIGINT)."""


def guarded(work: Callable[[], T]) -> T:
    """Run ``work``, turning every refusal, bad input and bad setting into a one-line error."""
    from pydantic import ValidationError

    from approval.config import SettingError
    from approval.domain.errors import DomainError
    from approval.validation import problem_line

    try:
        return work()
    except (DomainError, SettingError) as error:
        fail(str(error))
    except ValidationError as error:
        fail(problem_line(error, unnamed="input"))
    except RuntimeError as error:
        if "connect" in str(error).lower():
            address = cli_settings().temporal_address
            fail(f"无法连接 Temporal（{address}）：请先运行 `make run`")
        raise


def cli_settings() -> Settings:
    """The process's settings; a malformed one is one line naming it, exit status 2."""
    from approval.config import SettingError, get_settings

    try:
        return get_settings()
    except SettingError as problem:
        fail(str(problem))


def emit_json(value: BaseModel | dict[str, Any] | list[Any]) -> None:
    """Print machine-readable JSON on stdout."""
    data = value if isinstance(value, dict | list) else value.model_dump(mode="json")
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def run_typer(typer_app: typer.Typer) -> None:
    """Run a command-line app and leave without interpreter finalisation: the Temporal
    client's native threads may still be running, and finalising under them can abort the
    process after the work is done."""
    try:
        typer_app()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback
        print(INTERRUPTED, file=sys.stderr)
        code = EXIT_INTERRUPTED
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
