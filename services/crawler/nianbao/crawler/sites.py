"""Load, merge and validate the site registry (sites.yaml).

File shape::

    version: 1
    defaults: {...}            # applies to every site (same keys as a site entry)
    families: {trs: {...}}     # per-family presets, over the built-in ones in ``families.py``
    sites: [{id, name, family, start_urls, ...}, ...]

A site resolves as built-in family preset < ``defaults`` < ``families[family]`` < the entry itself
(mappings merge key by key, lists and scalars replace). Every problem found is reported at once in a
:class:`SiteConfigError` whose message names the site, the field and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from nianbao.crawler.families import BASE, FAMILY_PRESETS, deep_merge
from nianbao.crawler.siteschema import FAMILIES, SiteConfig

TOP_LEVEL_KEYS = ("version", "defaults", "families", "sites")


class SiteConfigError(Exception):
    """sites.yaml is malformed; the message lists every problem, one per line."""

    def __init__(self, problems: list[str], source: str = "site registry") -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source} is invalid ({len(problems)} problem(s)):\n{lines}")


class UnknownSite(KeyError):
    """No site with this id is configured."""

    def __str__(self) -> str:
        return f"unknown site {self.args[0]!r}"


class SiteRegistry:
    """The resolved sites, in file order."""

    def __init__(self, sites: Iterable[SiteConfig]) -> None:
        self.sites: list[SiteConfig] = list(sites)
        self._by_id = {s.id: s for s in self.sites}

    def get(self, site_id: str) -> SiteConfig:
        try:
            return self._by_id[site_id]
        except KeyError:
            raise UnknownSite(site_id) from None

    def __contains__(self, site_id: object) -> bool:
        return site_id in self._by_id

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "site registry") -> SiteRegistry:
        """Resolve a parsed sites.yaml document (also how tests and the demo build registries)."""
        return cls(_resolve(data, source))


def load_sites(path: Path) -> SiteRegistry:
    """Read and resolve ``path``; raises FileNotFoundError or :class:`SiteConfigError`."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SiteConfigError([f"not valid YAML: {exc}"], source=str(path)) from None
    return SiteRegistry.from_dict(data if data is not None else {}, source=str(path))


def _resolve(data: Any, source: str) -> list[SiteConfig]:
    if not isinstance(data, Mapping):
        raise SiteConfigError([f"top level must be a mapping with keys {', '.join(TOP_LEVEL_KEYS)}"], source)
    problems: list[str] = []
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.append(f"unknown top-level key {key!r} (allowed: {', '.join(TOP_LEVEL_KEYS)})")
    if data.get("version", 1) != 1:
        problems.append(f"version: expected 1, got {data.get('version')!r}")
    defaults = data.get("defaults") or {}
    families = data.get("families") or {}
    entries = data.get("sites") or []
    if not isinstance(defaults, Mapping):
        problems.append("defaults: expected a mapping of site fields")
        defaults = {}
    if not isinstance(families, Mapping):
        problems.append("families: expected a mapping of family name to preset")
        families = {}
    for name, preset in families.items():
        if name not in FAMILIES:
            problems.append(f"families.{name}: unknown family (expected one of {', '.join(FAMILIES)})")
        elif not isinstance(preset, Mapping):
            problems.append(f"families.{name}: expected a mapping of site fields")
    if not isinstance(entries, list):
        problems.append("sites: expected a list of site entries")
        entries = []

    sites: list[SiteConfig] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        label = _label(index, entry)
        if not isinstance(entry, Mapping):
            problems.append(f"{label}: expected a mapping with at least id, name, family, start_urls")
            continue
        family = entry.get("family")
        merged = deep_merge(BASE, FAMILY_PRESETS.get(str(family), {}))
        merged = deep_merge(merged, dict(defaults))
        family_preset = families.get(family) if isinstance(family, str) else None
        if isinstance(family_preset, Mapping):
            merged = deep_merge(merged, dict(family_preset))
        merged = deep_merge(merged, dict(entry))
        try:
            site = SiteConfig.model_validate(merged)
        except ValidationError as exc:
            problems.extend(f"{label}: {p}" for p in format_errors(exc, entry))
            continue
        if site.id in seen:
            problems.append(f"{label}: duplicate id {site.id!r} (first used by site #{seen[site.id] + 1})")
            continue
        seen[site.id] = index
        sites.append(site)
    if problems:
        raise SiteConfigError(problems, source)
    return sites


def _label(index: int, entry: Any) -> str:
    site_id = entry.get("id") if isinstance(entry, Mapping) else None
    return f"site #{index + 1}" + (f" ({site_id!r})" if site_id else "")


def format_errors(exc: ValidationError, entry: Mapping[str, Any]) -> list[str]:
    """One readable line per pydantic error: field path, what was expected, what was given."""
    lines: list[str] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        path = _dotted(loc)
        if error["type"] == "extra_forbidden":
            allowed = _allowed_fields(loc[:-1])
            hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
            lines.append(f"field {path}: unknown field{hint}")
            continue
        if error["type"] == "missing":
            lines.append(f"field {path}: required field is missing")
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        given = error.get("input")
        origin = "" if _present(entry, loc) else " [value comes from defaults or the family preset]"
        lines.append(f"field {path}: {message}; got {given!r}{origin}")
    return lines


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(entry)"


def _present(entry: Mapping[str, Any], loc: tuple[Any, ...]) -> bool:
    node: Any = entry
    for part in loc:
        in_list = isinstance(part, int) and isinstance(node, list) and part < len(node)
        if in_list or (isinstance(node, Mapping) and part in node):
            node = node[part]
        else:
            return False
    return True


def _allowed_fields(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = SiteConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)
