"""Settings every service shares. Only settings classes read the environment (prefix ``NIANBAO_``).

Each service subclasses :class:`CommonSettings` in its own ``settings.py`` and adds what only it needs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
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
    task_retry_backoff_max_s: float = Field(
        240.0, gt=0, description="Cap on one retry delay (a retry waits this long in the worker, unacked)."
    )
    task_soft_time_limit_s: float = Field(
        570.0, gt=0, description="A prefork task running this long gets SoftTimeLimitExceeded (retried)."
    )
    task_time_limit_s: float = Field(
        600.0, gt=0, description="A prefork task running this long is killed and recorded in task_failure (time_limit)."
    )
    broker_visibility_timeout_s: float = Field(
        900.0,
        gt=0,
        description="An unacknowledged message (its worker died) is redelivered after this long; must exceed "
        "task_time_limit_s + task_retry_backoff_max_s.",
    )
    broker_restore_interval_s: float = Field(
        10.0, gt=0, description="How often a worker looks for unacknowledged messages past the visibility timeout."
    )
    task_events: bool = Field(
        False,
        description="Celery task events (sent/received/started/succeeded, for Flower); each is a Redis publish "
        "per task. Flower switches the workers' events on at runtime by itself.",
    )
    startup_db_wait_s: float = Field(
        60.0, ge=0, description="How long a starting worker waits for the database before giving up."
    )

    @model_validator(mode="after")
    def _timeouts_nest(self) -> CommonSettings:
        # A message is unacked from delivery until its task ends: a retry's countdown is spent in the worker
        # (ETA), then the run takes up to the hard limit. Redelivering it earlier would run it twice at once.
        if self.task_soft_time_limit_s >= self.task_time_limit_s:
            raise ValueError("task_soft_time_limit_s must be below task_time_limit_s")
        held = self.task_time_limit_s + self.task_retry_backoff_max_s
        if self.broker_visibility_timeout_s <= held:
            raise ValueError(
                f"broker_visibility_timeout_s ({self.broker_visibility_timeout_s:g}) must exceed "
                f"task_time_limit_s + task_retry_backoff_max_s ({held:g})"
            )
        return self

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
