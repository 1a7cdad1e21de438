"""One settings object for every process, read from the environment (prefix ``APPROVAL_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
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
    log_json: bool = False
    environment: str = "development"
    audit_key: str = DEVELOPMENT_AUDIT_KEY
    """Secret that signs the audit chain (R21); must be set outside development."""

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment != "development" and self.audit_key == DEVELOPMENT_AUDIT_KEY:
            raise ValueError("APPROVAL_AUDIT_KEY must be set outside development")
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


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
