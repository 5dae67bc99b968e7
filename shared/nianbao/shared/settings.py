"""Settings every service shares. Only settings classes read the environment (prefix ``NIANBAO_``).

Each service subclasses :class:`CommonSettings` in its own ``settings.py`` and adds what only it needs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Where data lives and how the services reach each other."""

    model_config = SettingsConfigDict(env_prefix="NIANBAO_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".nianbao"), description="Root for the embedded database and raw pages.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default is a SQLite file inside data_dir.")
    broker_url: str | None = Field(
        None, description="Celery broker (redis://...). Unset means embedded mode: one process, no broker."
    )
    raw_store_dir: Path | None = Field(None, description="Raw page store; default data_dir/raw.")
    sites_file: Path = Field(Path("sites.yaml"), description="Site registry (see docs in README).")
    metrics_port: int | None = Field(
        None, description="Port a worker serves /metrics on (bound to metrics_host); unset = no endpoint."
    )
    metrics_host: str = Field("127.0.0.1", description="Interface the metrics endpoint binds to.")
    log_level: str = Field("INFO", description="Python logging level name.")
    task_max_retries: int = Field(5, description="Retries of a transient task failure before it is recorded.")
    task_retry_backoff_s: float = Field(2.0, description="First retry delay; doubles each retry, with jitter.")
    task_retry_backoff_max_s: float = Field(300.0, description="Cap on one retry delay.")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'nianbao.db').resolve()}"

    def resolved_raw_store_dir(self) -> Path:
        return (self.raw_store_dir or self.data_dir / "raw").resolve()


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://``/``postgresql://`` forms operators paste and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
