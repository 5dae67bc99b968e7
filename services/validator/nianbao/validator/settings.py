"""Validator settings (env prefix ``NIANBAO_``); the only place the validator reads the environment."""

from __future__ import annotations

from pydantic import Field

from nianbao.shared.settings import CommonSettings


class ValidatorSettings(CommonSettings):
    extra_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts besides *.gov.cn and the report's own host that text.offsite_url accepts.",
    )
