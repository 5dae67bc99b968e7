"""Settings of the CLI and worker launcher (env prefix ``NIANBAO_``)."""

from __future__ import annotations

from pydantic import Field

from nianbao.shared.settings import CommonSettings


class AppSettings(CommonSettings):
    worker_concurrency: int = Field(2, description="Processes per worker (Celery prefork pool).")
