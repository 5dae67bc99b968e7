"""Load, merge and validate the site registry (sites.yaml).

File shape::

    version: 1
    defaults: {...}            # applies to every site (same keys as a site entry)
    families: {trs: {...}}     # per-family presets, over the built-in ones in ``families.py``
    sites: [{id, name, family, start_urls, ...}, ...]

A site resolves as built-in family preset < ``defaults`` < ``families[family]`` < the entry itself
(mappings merge key by key, lists and scalars replace). Every problem found is reported at once in a
:class:`SiteConfigError` whose message names the line, the site, the field and what was expected.

The file is read strictly: it must be UTF-8; duplicate keys (which YAML would silently resolve to the last
one), anchors and aliases (``&a``/``*a``: an alias bomb expands to gigabytes) and non-string keys are
errors with their line. Messages quote at most :data:`QUOTE_LIMIT` characters of any value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, SequenceNode

from nianbao.crawler.families import BASE, FAMILY_PRESETS, deep_merge
from nianbao.crawler.siteschema import FAMILIES, SiteConfig

TOP_LEVEL_KEYS = ("version", "defaults", "families", "sites")
QUOTE_LIMIT = 200  # characters of a value (or a YAML error) quoted in a message
MAX_FILE_BYTES = 10 * 1024 * 1024  # a registry of thousands of sites is well under 1 MB

LineOf = Callable[[tuple[Any, ...]], int | None]


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases, duplicate keys and non-scalar keys."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, AliasEvent):
            raise ConstructorError(None, None, "aliases (*name) are not allowed in the site registry", mark)
        if isinstance(event, ScalarEvent | CollectionStartEvent) and event.anchor is not None:
            raise ConstructorError(None, None, "anchors (&name) are not allowed in the site registry", mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConstructorError(None, None, "a mapping key must be a plain value", key_node.start_mark)
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConstructorError(
                    None, None,
                    f"duplicate key {clip(repr(key))} (first at line {seen[key] + 1}; YAML would keep only the last)",
                    key_node.start_mark,
                )  # fmt: skip
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


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
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str = "site registry", line_of: LineOf | None = None
    ) -> SiteRegistry:
        """Resolve a parsed sites.yaml document (also how tests and the demo build registries)."""
        return cls(_resolve(data, source, line_of or (lambda _: None)))


def load_sites(path: Path) -> SiteRegistry:
    """Read and resolve ``path``; raises FileNotFoundError or :class:`SiteConfigError`."""
    return parse_sites(read_registry_bytes(path), str(path))


def read_registry_bytes(path: Path) -> bytes:
    """The bytes of ``path``, at most ``MAX_FILE_BYTES + 1`` of them (:func:`parse_sites` refuses more)."""
    with Path(path).open("rb") as fh:
        return fh.read(MAX_FILE_BYTES + 1)


def parse_sites(raw: bytes, source: str = "site registry") -> SiteRegistry:
    """Resolve the bytes of a sites.yaml file; raises :class:`SiteConfigError` naming ``source``."""
    if len(raw) > MAX_FILE_BYTES:
        raise SiteConfigError([f"the file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB"], source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problem = f"line {line}: not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start}); save the file as UTF-8"
        raise SiteConfigError([problem], source) from None
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or type(exc).__name__
        raise SiteConfigError([f"{where}not valid YAML: {clip(problem)}"], source) from None
    except yaml.YAMLError as exc:
        raise SiteConfigError([f"not valid YAML: {clip(str(exc))}"], source) from None
    except RecursionError:
        raise SiteConfigError(["not valid YAML: nested too deeply"], source) from None
    finally:
        loader.dispose()
    return SiteRegistry.from_dict(data if data is not None else {}, source=source, line_of=_line_finder(node))


def _line_finder(root: Node | None) -> LineOf:
    """The 1-based line of the node at a path of keys and indexes (the deepest one that exists)."""

    def line_of(path: tuple[Any, ...]) -> int | None:
        node = root
        if node is None:
            return None
        for part in path:
            child: Node | None = None
            if isinstance(node, MappingNode):
                child = next((v for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                child = node.value[part]
            if child is None:
                break
            node = child
        return int(node.start_mark.line) + 1

    return line_of


def _at(line: int | None) -> str:
    return f"line {line}: " if line is not None else ""


def _resolve(data: Any, source: str, line_of: LineOf) -> list[SiteConfig]:
    if not isinstance(data, Mapping):
        raise SiteConfigError([f"top level must be a mapping with keys {', '.join(TOP_LEVEL_KEYS)}"], source)
    problems: list[str] = []
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.append(
                f"{_at(line_of((key,)))}unknown top-level key {clip(repr(key))} (allowed: {', '.join(TOP_LEVEL_KEYS)})"
            )
    if data.get("version", 1) != 1:
        problems.append(f"{_at(line_of(('version',)))}version: expected 1, got {clip(repr(data.get('version')))}")
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
        at = _at(line_of(("families", name)))
        if name not in FAMILIES:
            problems.append(f"{at}families.{clip(str(name))}: unknown family (expected one of {', '.join(FAMILIES)})")
        elif not isinstance(preset, Mapping):
            problems.append(f"{at}families.{name}: expected a mapping of site fields")
    if not isinstance(entries, list):
        problems.append("sites: expected a list of site entries")
        entries = []

    sites: list[SiteConfig] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        label = _label(index, entry)
        at = _at(line_of(("sites", index)))
        if not isinstance(entry, Mapping):
            problems.append(f"{at}{label}: expected a mapping with at least id, name, family, start_urls")
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
            for loc, problem in format_errors_at(exc, entry):
                problems.append(f"{_at(line_of(('sites', index, *loc)))}{label}: {problem}")
            continue
        if site.id in seen:
            problems.append(f"{at}{label}: duplicate id {site.id!r} (first used by site #{seen[site.id] + 1})")
            continue
        seen[site.id] = index
        sites.append(site)
    if problems:
        raise SiteConfigError(problems, source)
    return sites


def _label(index: int, entry: Any) -> str:
    site_id = entry.get("id") if isinstance(entry, Mapping) else None
    return f"site #{index + 1}" + (f" ({clip(repr(site_id), 100)})" if site_id else "")


def format_errors(exc: ValidationError, entry: Mapping[str, Any]) -> list[str]:
    """One readable line per pydantic error: field path, what was expected, what was given."""
    return [line for _, line in format_errors_at(exc, entry)]


def format_errors_at(exc: ValidationError, entry: Mapping[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """(location in the entry, readable line) per pydantic error; values quoted are clipped."""
    lines: list[tuple[tuple[Any, ...], str]] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        path = clip(_dotted(loc), 120)
        if error["type"] == "extra_forbidden":
            allowed = _allowed_fields(loc[:-1])
            hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
            lines.append((loc, f"field {path}: unknown field{hint}"))
            continue
        if error["type"] == "missing":
            lines.append((loc, f"field {path}: required field is missing"))
            continue
        message = clip(str(error["msg"]).removeprefix("Value error, "), 2 * QUOTE_LIMIT)
        given = error.get("input")
        origin = "" if _present(entry, loc) else " [value comes from defaults or the family preset]"
        lines.append((loc, f"field {path}: {message}; got {clip(repr(given))}{origin}"))
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
