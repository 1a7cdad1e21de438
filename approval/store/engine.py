"""Opening the store, and the settings of a process that opens it, checked before anything
starts. Every engine process (the worker, the API, the local stack) and the stub department
service open the store here; ``approval.runtime`` names the same functions for its callers."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from approval.config import SettingError, Settings, get_settings, refuse_to_start
from approval.store.database import create_schema, make_engine, make_session_factory


def open_store(url: str) -> sessionmaker[Session]:
    """The store at ``url``, its schema created if new."""
    engine = make_engine(url)
    create_schema(engine)
    return make_session_factory(engine)


def engine_settings() -> Settings:
    """The settings of an engine process (the worker, the API, the local stack), checked
    before anything starts: every setting well-formed, the secrets present outside
    development, the store reachable. A problem is one line naming the setting, exit 2."""
    try:
        settings = get_settings()
        _ = settings.token_key_bytes  # the audit key, and the token key derived from it
        check_store(settings)
    except SettingError as problem:
        refuse_to_start(problem)
    return settings


def check_store(settings: Settings) -> None:
    """SettingError naming APPROVAL_DATABASE_URL (or APPROVAL_DATA_DIR, for the default SQLite
    file) when the store's URL is malformed or its database cannot be reached."""
    setting = "APPROVAL_DATABASE_URL" if settings.database_url else "APPROVAL_DATA_DIR"
    try:
        shown = make_url(settings.store_url).render_as_string(hide_password=True)
    except ArgumentError:
        raise SettingError(setting, "不是数据库地址 is not a SQLAlchemy database URL") from None
    try:
        engine = make_engine(settings.store_url)
        try:
            engine.connect().close()
        finally:
            engine.dispose()
    except (SQLAlchemyError, OSError) as error:
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        reason = f"无法连接数据库 cannot open the store at {shown}: {cause}"
        raise SettingError(setting, reason) from None
