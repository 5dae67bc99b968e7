"""Settings of the CLI and worker launcher (env prefix ``NIANBAO_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from nianbao.shared.settings import CommonSettings


class AppSettings(CommonSettings):
    worker_concurrency: int = Field(2, description="Processes per parser/validator worker (Celery prefork pool).")
    crawler_threads: int = Field(
        16,
        description="Sites a crawler worker crawls at once (Celery threads pool; the wait is network and "
        "per-host spacing, not CPU).",
    )
    admin_token: SecretStr | None = Field(
        None, description="Bearer token the admin API requires; the API refuses to start without one."
    )
    admin_host: str = Field("127.0.0.1", description="Interface the admin API binds to.")
    admin_port: int = Field(8080, description="Port of the admin API.")
