"""Settings at start-up: a malformed setting, an unreachable store or a missing secret is one
line naming the setting and the reason, never a traceback, exit status 2 — in starter.py, in
worker.py and in the API's start. Outside the explicit development mode
(APPROVAL_ENVIRONMENT=development) the engine does not start without an audit key of its own."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from approval.cli.common import EXIT_INTERRUPTED
from approval.config import DEVELOPMENT_AUDIT_KEY, SECRETS_DIR_VARIABLE, get_settings
from approval.runtime import api_app, engine_settings
from tests.processes import invoke_cli, invoke_worker, process_env, run_python


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set APPROVAL_ variables for the test; the settings are read anew before and after."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def refused_line(capsys: pytest.CaptureFixture[str], start: Callable[[], object]) -> str:
    """The one line on stderr with which ``start`` refused to start (exit status 2)."""
    with pytest.raises(SystemExit) as stopped:
        start()
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


BAD_SETTINGS = [
    ({"APPROVAL_TEMPORAL_ADDRESS": "temporal.example"}, "APPROVAL_TEMPORAL_ADDRESS", "host:port"),
    ({"APPROVAL_TEMPORAL_ADDRESS": "localhost:99999"}, "APPROVAL_TEMPORAL_ADDRESS", "host:port"),
    ({"APPROVAL_API_URL": "127.0.0.1:8000"}, "APPROVAL_API_URL", "http(s) URL"),
    ({"APPROVAL_OTLP_ENDPOINT": "otel:4318"}, "APPROVAL_OTLP_ENDPOINT", "http(s) URL"),
    ({"APPROVAL_WORKER_METRICS_ADDRESS": "9464"}, "APPROVAL_WORKER_METRICS_ADDRESS", "host:port"),
    ({"APPROVAL_DATABASE_URL": "not a url"}, "APPROVAL_DATABASE_URL", "database URL"),
    ({"APPROVAL_DATABASE_URL": "postgres://u@127.0.0.1/x"}, "APPROVAL_DATABASE_URL", "plugin"),
    ({"APPROVAL_STUB_BEHAVIOURS": "{not json"}, "APPROVAL_STUB_BEHAVIOURS", "JSON"),
    ({"APPROVAL_ENVIRONMENT": "production"}, "APPROVAL_AUDIT_KEY", "outside development"),
    (
        {"APPROVAL_ENVIRONMENT": "production", "APPROVAL_AUDIT_KEY": DEVELOPMENT_AUDIT_KEY},
        "APPROVAL_AUDIT_KEY",
        "of your own",
    ),
]


@pytest.mark.parametrize(("variables", "setting", "reason"), BAD_SETTINGS)
def test_the_engine_and_the_api_refuse_to_start_on_a_bad_setting_naming_it(
    environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variables: dict[str, str],
    setting: str,
    reason: str,
) -> None:
    """A malformed address or URL, a value that is not JSON, and outside development a
    missing or published audit key stop an engine process (the worker's and the local
    stack's check) and the API's start (uvicorn's factory) with one line naming the setting."""
    environment.delenv("APPROVAL_AUDIT_KEY", raising=False)
    for name, value in variables.items():
        environment.setenv(name, value)
    for start in (engine_settings, api_app):
        get_settings.cache_clear()
        line = refused_line(capsys, start)
        assert line.startswith(f"错误 error: {setting}: ") and reason in line, line


def test_an_unreachable_store_stops_the_start_naming_it_without_its_password(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PostgreSQL store nobody answers stops the start: one line naming
    APPROVAL_DATABASE_URL and why, the password not shown."""
    url = f"postgresql+psycopg://approval:s3cret-pw@127.0.0.1:{closed_port()}/approval"
    environment.setenv("APPROVAL_DATABASE_URL", url)
    line = refused_line(capsys, engine_settings)
    assert line.startswith("错误 error: APPROVAL_DATABASE_URL: 无法连接数据库"), line
    assert "s3cret-pw" not in line and "approval:***@" in line


def test_outside_development_the_engine_starts_with_a_key_of_its_own(
    environment: pytest.MonkeyPatch,
) -> None:
    """With APPROVAL_ENVIRONMENT=production and an audit key of its own the checks pass: the
    audit chain is signed with that key, and the token key is derived from it under its own
    label (neither is the other)."""
    environment.setenv("APPROVAL_ENVIRONMENT", "production")
    environment.setenv("APPROVAL_AUDIT_KEY", "a-key-of-this-service-centre")
    settings = engine_settings()
    assert settings.audit_key_bytes == b"a-key-of-this-service-centre"
    assert settings.token_key_bytes not in (settings.audit_key_bytes, b"")
    assert "a-key-of-this-service-centre" not in repr(settings)


def test_starter_names_a_malformed_api_url_in_one_line() -> None:
    """starter.py with a malformed APPROVAL_API_URL: one line naming it, exit status 2,
    before any request."""
    result = invoke_cli(
        "--token", "t", "status", "371600-20261201-000001", env={"APPROVAL_API_URL": "api:80"}
    )
    assert result.exited(2), result
    assert result.message_lines() == [
        "错误 error: APPROVAL_API_URL: 须为 http(s) 地址 must be an http(s) URL such as "
        "http://host:port, not 'api:80'"
    ]


def test_the_worker_program_refuses_to_start_without_the_audit_key(tmp_path: Path) -> None:
    """worker.py outside development without APPROVAL_AUDIT_KEY exits with status 2 and one
    line naming the setting, before it connects to anything."""
    env = process_env(
        address=f"127.0.0.1:{closed_port()}",
        namespace="default",
        task_queue="refused",
        data_dir=tmp_path,
    )
    result = invoke_worker(env | {"APPROVAL_ENVIRONMENT": "production"})
    assert result.exited(2), result
    assert result.message_lines() == [
        "错误 error: APPROVAL_AUDIT_KEY: 非开发环境必须设置自己的审计密钥 must be set, to a key "
        "of your own, outside development (APPROVAL_ENVIRONMENT='production')"
    ]


def settings_in_a_process(env: dict[str, str], expression: str) -> str:
    """What ``expression`` (of ``settings``, this process's Settings) prints in a fresh
    interpreter with ``env``: the secrets directory is read as the settings class is defined."""
    done = run_python(
        f"from approval.config import Settings\nsettings = Settings()\nprint({expression})", env
    )
    assert done.returncode == 0, done
    return done.stdout.strip()


def test_secrets_are_read_from_the_files_of_the_secrets_directory(tmp_path: Path) -> None:
    """With APPROVAL_SECRETS_DIR (Docker's /run/secrets), a setting's secret is the content of
    the file named as its variable in lower case; a variable set in the environment wins over
    its file; without the directory setting, its files are not read."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "approval_audit_key").write_text("key-from-a-file", encoding="utf-8")
    (secrets / "approval_database_url").write_text("sqlite:///from-a-file.db", encoding="utf-8")
    env = process_env(address="127.0.0.1:7233", namespace="n", task_queue="q", data_dir=tmp_path)
    env |= {"APPROVAL_ENVIRONMENT": "production", SECRETS_DIR_VARIABLE: str(secrets)}
    assert settings_in_a_process(env, "settings.audit_key_bytes") == "b'key-from-a-file'"
    assert settings_in_a_process(env, "settings.store_url") == "sqlite:///from-a-file.db"
    given = env | {"APPROVAL_DATABASE_URL": "sqlite:///from-the-environment.db"}
    assert settings_in_a_process(given, "settings.store_url") == "sqlite:///from-the-environment.db"
    without = {k: v for k, v in env.items() if k != SECRETS_DIR_VARIABLE}
    assert settings_in_a_process(without, "settings.audit_key is None") == "True"


INTERRUPTED_COMMAND = """
import typer
from approval.cli.common import run_typer

app = typer.Typer()

@app.command()
def work() -> None:
    raise KeyboardInterrupt

run_typer(app)
"""


def test_ctrl_c_is_one_line_and_status_130_without_a_traceback(tmp_path: Path) -> None:
    """A command of the programs' command lines interrupted by Ctrl-C (KeyboardInterrupt)
    prints at most one line, no traceback, and exits with the shell's status for it, 130."""
    done = run_python(INTERRUPTED_COMMAND)
    assert done.returncode == EXIT_INTERRUPTED, done
    assert len(done.stderr.strip().splitlines()) <= 1 and "Traceback" not in done.stderr, done
