"""Every setting of every service, for `nianbao config` and the README's configuration reference."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings

# (owner, "module:Class"); a field is listed under the first class that declares it.
SETTINGS_CLASSES: tuple[tuple[str, str], ...] = (
    ("all", "nianbao.shared.settings:CommonSettings"),
    ("cli", "nianbao.app.settings:AppSettings"),
    ("crawler", "nianbao.crawler.settings:CrawlerSettings"),
    ("parser", "nianbao.parser.settings:ParserSettings"),
    ("validator", "nianbao.validator.settings:ValidatorSettings"),
)
ENV_PREFIX = "NIANBAO_"


@dataclass(frozen=True)
class SettingDoc:
    owner: str
    env: str
    default: str
    description: str
    secret: bool


def _load(path: str) -> type[BaseSettings]:
    module, name = path.split(":")
    cls: type[BaseSettings] = getattr(importlib.import_module(module), name)
    return cls


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, list | tuple) and not value:
        return "[]"
    return str(value)


def setting_docs() -> list[SettingDoc]:
    docs: list[SettingDoc] = []
    seen: set[str] = set()
    for owner, path in SETTINGS_CLASSES:
        for name, field in _load(path).model_fields.items():
            if name in seen:
                continue
            seen.add(name)
            default = field.get_default(call_default_factory=True)
            secret = "SecretStr" in str(field.annotation)
            docs.append(SettingDoc(owner, ENV_PREFIX + name.upper(), _show(default), field.description or "", secret))
    return docs


def effective_values() -> dict[str, str]:
    """The value each setting has in this environment, secrets and URL passwords redacted."""
    from sqlalchemy.engine import make_url

    values: dict[str, str] = {}
    for _owner, path in SETTINGS_CLASSES:
        settings = _load(path)()
        for name in type(settings).model_fields:
            env = ENV_PREFIX + name.upper()
            if env in values:
                continue
            value = getattr(settings, name)
            if isinstance(value, SecretStr):
                shown = "********" if value.get_secret_value() else "unset"
            elif isinstance(value, str) and "://" in value and "@" in value:
                try:
                    shown = make_url(value).render_as_string(hide_password=True)
                except Exception:
                    shown = value.split("://", 1)[0] + "://***"
            else:
                shown = _show(value)
            values[env] = shown
    return values


def markdown_table() -> str:
    lines = ["| variable | service | default | meaning |", "|---|---|---|---|"]
    for doc in setting_docs():
        default = doc.default.replace("|", "\\|")
        lines.append(f"| `{doc.env}` | {doc.owner} | `{default}` | {doc.description.replace('|', '/')} |")
    return "\n".join(lines)
