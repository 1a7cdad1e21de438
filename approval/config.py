"""One settings object for every process, read from the environment (prefix ``APPROVAL_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_AUDIT_KEY = "development-only-audit-key"


class Settings(BaseSettings):
    """Where the engine finds Temporal, its store, its catalogue and its calendar data."""

    model_config = SettingsConfigDict(env_prefix="APPROVAL_", extra="ignore")

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
    workflow_sandbox: bool = False
    """Run the case workflow in Temporal's sandbox. Off in service: the sandbox costs about a
    third of the worker's CPU per step (bench/PROFILE.md) and the workflow is deterministic by
    construction; the tests run it sandboxed, so a non-deterministic call fails them."""
    log_json: bool = False
    environment: str = "development"
    audit_key: str = DEVELOPMENT_AUDIT_KEY
    """Secret that signs the audit chain (R21); must be set outside development."""
    public_rate_limit: str = "30/minute"
    """Public progress queries per client address (``limits`` notation: ``N/second|minute|
    hour|day``); past it, 429 with Retry-After."""
    login_failure_rate_limit: str = "10/minute"
    """Failed console logins per client address before further attempts are 429."""

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment != "development" and self.audit_key == DEVELOPMENT_AUDIT_KEY:
            raise ValueError("APPROVAL_AUDIT_KEY must be set outside development")
        return self

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
            raise ValueError("APPROVAL_DEPARTMENT_URLS needs APPROVAL_DEPARTMENTS_URL for the rest")
        return self

    @property
    def audit_key_bytes(self) -> bytes:
        """The audit key as bytes for HMAC."""
        return self.audit_key.encode()

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
    ValueError naming ``setting`` and what is wrong."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid:
        raise ValueError(
            f"{setting} must be an http(s) URL such as http://127.0.0.1:8100, not {url!r}"
        )
    return url.rstrip("/")


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
