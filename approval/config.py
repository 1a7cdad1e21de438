"""One settings object for every process, read from the environment (prefix ``APPROVAL_``).

A setting that is missing or malformed is a :class:`SettingError` naming the variable and the
reason; every entry point prints it as one line and exits with status 2 (``refuse_to_start``).
Secrets have no usable default: outside an explicit development mode
(``APPROVAL_ENVIRONMENT=development``) the engine does not start without ``APPROVAL_AUDIT_KEY``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT = "development"
DEVELOPMENT_AUDIT_KEY = "development-only-audit-key"
"""The audit key of development mode only: it is published here, so it protects nothing."""
TOKEN_KEY_LABEL = b"approval-engine/api-token-hash/v1"
"""Domain separation of the API token key derived from the audit key (Settings.token_key_bytes)."""
ENV_PREFIX = "APPROVAL_"
SETTING_EXIT_STATUS = 2
SECRETS_DIR_VARIABLE = "APPROVAL_SECRETS_DIR"
"""A directory of secret files, one per setting, named as its variable in lower case (e.g.
``approval_audit_key``): Docker's and Kubernetes' secrets (``/run/secrets``). A variable set
in the environment wins over its file."""


class SettingError(ValueError):
    """A setting is missing or malformed: ``setting`` names the environment variable."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}")
        self.setting = setting
        self.reason = reason


class Settings(BaseSettings):
    """Where the engine finds Temporal, its store, its catalogue and its calendar data."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", secrets_dir=os.environ.get(SECRETS_DIR_VARIABLE)
    )

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "approval-cases"
    data_dir: Path = PROJECT_ROOT / ".data"
    database_url: str = ""
    """SQLAlchemy URL of the store; default: a SQLite file in ``data_dir``."""
    catalogue_path: Path = PROJECT_ROOT / "data" / "catalogue.yaml"
    holiday_override_path: Path = PROJECT_ROOT / "data" / "holidays-override.yaml"
    count_makeup_workdays: bool = True
    calendar_years_ahead: int = Field(default=2, ge=0, le=10)
    stub_behaviours: dict[str, str] = Field(default_factory=dict)
    """Department code → how the stub department system answers (see departments.stub)."""
    departments_url: str | None = None
    """Base URL of the department systems, e.g. ``http://127.0.0.1:8100``: messages are
    POSTed to ``{url}/departments/{code}/messages``. Unset: the in-process stub."""
    department_urls: dict[str, str] = Field(default_factory=dict)
    """Department code → base URL of that department's own system (over departments_url)."""
    departments_connect_timeout_s: float = Field(default=5.0, gt=0, le=30)
    departments_read_timeout_s: float = Field(default=20.0, gt=0, le=50)
    """Longest wait for a department's answer; below the activity's 60 s limit."""
    api_url: str = "http://127.0.0.1:8000"
    """Base URL of the HTTP API, which the command line (starter.py) acts through."""
    public_base_url: str = "http://127.0.0.1:8000"
    """Base URL at which applicants reach the app from outside (a reverse proxy's, in
    service): the notices that show the check code print the public progress page's address
    under it (approval.domain.check_code.PROGRESS_PATH). The default is ``make run``'s.
    Printed into the stored notices: the auditor's rebuild must run with the value the worker
    had when it recorded them."""
    workflow_sandbox: bool = False
    """Run the case workflow in Temporal's sandbox. Off in service: the sandbox costs about a
    third of the worker's CPU per step (bench/PROFILE.md) and the workflow is deterministic by
    construction; the tests run it sandboxed, so a non-deterministic call fails them."""
    log_json: bool = False
    """Log one JSON object per line (for a log collector) instead of the console's lines."""
    otlp_endpoint: str | None = None
    """Base URL of an OpenTelemetry collector (OTLP over HTTP, e.g. ``http://otel:4318``): the
    worker and the API trace their Temporal calls there (approval.tracing); unset: no tracing."""
    worker_metrics_address: str | None = None
    """``host:port`` at which a worker serves its Prometheus metrics (the Temporal SDK's and
    the engine's, approval.metrics), e.g. ``0.0.0.0:9464``; unset: none are served."""
    environment: str = "production"
    """``development`` (set by ``make run`` and the tests) allows the published development
    audit key and ``starter.py --as USER``; any other value requires the secrets."""
    audit_key: SecretStr | None = None
    """Secret that signs the audit chain (R21) and, derived from it, keys the stored hashes
    of API tokens; required outside development."""
    public_rate_limit: str = "30/minute"
    """Public progress queries per client address (``limits`` notation: ``N/second|minute|
    hour|day``); past it, 429 with Retry-After."""
    login_failure_rate_limit: str = "10/minute"
    """Failed console logins per client address before further attempts are 429."""
    material_max_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    """The largest material file accepted (bytes); a bigger upload is refused, naming the
    material, and nothing is kept of it."""
    session_lifetime_minutes: int = Field(default=480, gt=0, le=7 * 24 * 60)
    """How long a console sign-in lasts (minutes) before the person signs in again."""

    @field_validator("temporal_address")
    @classmethod
    def _temporal_address_is_host_and_port(cls, address: str) -> str:
        return host_and_port(address, "APPROVAL_TEMPORAL_ADDRESS")

    @field_validator("worker_metrics_address")
    @classmethod
    def _worker_metrics_address_is_host_and_port(cls, address: str | None) -> str | None:
        return host_and_port(address, "APPROVAL_WORKER_METRICS_ADDRESS") if address else None

    @field_validator("api_url")
    @classmethod
    def _api_url_is_http(cls, url: str) -> str:
        return http_url(url, "APPROVAL_API_URL")

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url_is_http(cls, url: str) -> str:
        return http_url(url, "APPROVAL_PUBLIC_BASE_URL")

    @field_validator("otlp_endpoint")
    @classmethod
    def _otlp_endpoint_is_http(cls, url: str | None) -> str | None:
        return None if not url else http_url(url, "APPROVAL_OTLP_ENDPOINT")

    @field_validator("departments_url")
    @classmethod
    def _departments_url_is_http(cls, url: str | None) -> str | None:
        return None if not url else http_url(url, "APPROVAL_DEPARTMENTS_URL")

    @field_validator("department_urls")
    @classmethod
    def _department_urls_are_http(cls, urls: dict[str, str]) -> dict[str, str]:
        return {
            code: http_url(url, f"APPROVAL_DEPARTMENT_URLS[{code}]") for code, url in urls.items()
        }

    @model_validator(mode="after")
    def _overrides_need_a_base_url(self) -> Settings:
        if self.department_urls and not self.departments_url:
            raise SettingError(
                "APPROVAL_DEPARTMENT_URLS",
                "需要同时设置 APPROVAL_DEPARTMENTS_URL needs APPROVAL_DEPARTMENTS_URL for the rest",
            )
        return self

    @property
    def development(self) -> bool:
        """True in the explicit development mode (APPROVAL_ENVIRONMENT=development)."""
        return self.environment == DEVELOPMENT

    @property
    def audit_key_bytes(self) -> bytes:
        """The audit key as bytes for HMAC; the published development key only in development.
        SettingError outside development when APPROVAL_AUDIT_KEY is not set, or is that key."""
        given = self.audit_key.get_secret_value() if self.audit_key is not None else ""
        if self.development:
            return (given or DEVELOPMENT_AUDIT_KEY).encode()
        if not given or given == DEVELOPMENT_AUDIT_KEY:
            raise SettingError(
                "APPROVAL_AUDIT_KEY",
                "非开发环境必须设置自己的审计密钥 must be set, to a key of your own, outside "
                f"development (APPROVAL_ENVIRONMENT={self.environment!r})",
            )
        return given.encode()

    @property
    def token_key_bytes(self) -> bytes:
        """The key of the stored API token hashes: derived from the audit key under its own
        label, so one secret is provisioned and neither use's outputs say anything about the
        other's. SettingError where the audit key is (outside development, unset)."""
        return hmac.new(self.audit_key_bytes, TOKEN_KEY_LABEL, hashlib.sha256).digest()

    @property
    def store_url(self) -> str:
        """The store's URL, defaulting to ``data_dir/approval.sqlite3``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'approval.sqlite3'}"

    @property
    def documents_dir(self) -> Path:
        """Where submitted material files are kept by content hash."""
        return self.data_dir / "documents"


def http_url(url: str, setting: str) -> str:
    """``url`` without a trailing slash, if it is an http(s) URL with a host; otherwise a
    SettingError naming ``setting`` and what is wrong."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid:
        raise SettingError(
            setting,
            f"须为 http(s) 地址 must be an http(s) URL such as http://host:port, not {url!r}",
        )
    return url.rstrip("/")


HOST_AND_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})$")


def host_and_port(address: str, setting: str) -> str:
    """``address`` if it is ``host:port`` (a port 1-65535); otherwise a SettingError."""
    found = HOST_AND_PORT.match(address)
    if found is None or not 1 <= int(found["port"]) <= 65535:
        raise SettingError(
            setting, f"须为 主机:端口 must be host:port such as localhost:7233, not {address!r}"
        )
    return address


def setting_error(error: ValidationError | SourceError) -> SettingError:
    """The first problem of the settings as a SettingError naming its variable."""
    if isinstance(error, SourceError):  # a value that is not JSON, e.g. of a dict setting
        named = re.search(r'field "(\w+)"', str(error))
        setting = ENV_PREFIX + named[1].upper() if named else "APPROVAL_*"
        return SettingError(setting, "不是合法的 JSON is not valid JSON")
    first = error.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, SettingError):
        return cause
    field = str(first["loc"][0]) if first["loc"] else "*"
    return SettingError(ENV_PREFIX + field.upper(), str(first["msg"]))


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once; SettingError naming a malformed one."""
    try:
        return Settings()
    except (ValidationError, SourceError) as error:
        raise setting_error(error) from None


def refuse_to_start(problem: SettingError) -> NoReturn:
    """One line naming the setting and the reason on stderr, no stack trace; exit status 2."""
    print(f"错误 error: {problem.setting}: {problem.reason}", file=sys.stderr)
    raise SystemExit(SETTING_EXIT_STATUS)
