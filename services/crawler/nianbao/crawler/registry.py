"""The site registry as the file says now: one :class:`RegistrySource` per file and process, read by the
crawler tasks, beat and the admin API, reloaded when the file changes or on SIGHUP.

A check is cheap and happens at most every ``check_interval_s``: ``stat`` the file, and only when its
mtime, size or inode changed read it and compare its SHA-256 with the loaded one; only a new content is
parsed. A load that fails (invalid YAML or schema, file gone, unreadable) keeps the last good registry in
use and makes the failure visible: one log line per failing content, ``nianbao_crawler_sites_registry_ok``
at 0, ``nianbao_crawler_sites_registry_reloads_total{outcome="error"}`` and :meth:`RegistrySource.status`
(shown by the admin API's ``/sites``). Before any good load, :meth:`RegistrySource.current` raises the
error itself (``FileNotFoundError`` or :class:`SiteConfigError`), as :func:`load_sites` does.

:meth:`RegistrySource.request_reload` only sets a flag and an event, so it is safe in a signal handler:
:func:`install_sighup` makes SIGHUP force a reload of every source of the process at the next
:meth:`current` (or at once, when :meth:`RegistrySource.start_watching` runs a watcher thread).
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from nianbao.crawler import metrics
from nianbao.crawler.sites import SiteConfigError, SiteRegistry, clip, parse_sites, read_registry_bytes
from nianbao.crawler.siteschema import SiteConfig

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 2.0  # how often the file is stat'ed at most


@dataclass(frozen=True)
class RegistryStatus:
    """What an operator needs to know about the registry in use."""

    path: str
    ok: bool  # the last load succeeded
    sites: int  # sites in the registry in use (the last good one)
    digest: str | None  # SHA-256 (first 16 hex digits) of the content in use
    loaded_at: float | None  # Unix time the registry in use was loaded
    error: str | None  # why the last load failed (None when ok)
    failed_at: float | None  # Unix time of that failure

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path, "ok": self.ok, "sites": self.sites, "digest": self.digest,
            "loaded_at": self.loaded_at, "error": self.error, "failed_at": self.failed_at,
        }  # fmt: skip


Signature = tuple[int, int, int]  # (mtime_ns, size, inode)


class RegistrySource:
    """The registry of one file, reloaded on change; thread-safe."""

    def __init__(
        self,
        path: Path | str,
        *,
        check_interval_s: float = CHECK_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.check_interval_s = check_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._registry: SiteRegistry | None = None
        self._digest: str | None = None
        self._signature: Signature | None = None
        self._checked_at: float | None = None
        self._loaded_at: float | None = None
        self._error: Exception | None = None
        self._failed_at: float | None = None
        self._failed_digest: str | None = None
        self._force = False
        self._wake = threading.Event()
        self._watcher: threading.Thread | None = None
        self.loads = 0  # contents parsed (successfully or not): tests count reparses with it
        for outcome in metrics.REGISTRY_RELOAD_OUTCOMES:  # the series exist at 0 before the first failure
            metrics.REGISTRY_RELOADS.labels(outcome)

    # --- reading ------------------------------------------------------------------------------------------

    def current(self) -> SiteRegistry:
        """The registry in use, after a check if one is due. Raises the load error while none ever loaded."""
        self.refresh()
        with self._lock:
            if self._registry is not None:
                return self._registry
            assert self._error is not None
            raise self._error.with_traceback(None)

    # A source reads like the SiteRegistry in use, so code written for a fixed registry follows the file.
    @property
    def sites(self) -> list[SiteConfig]:
        return self.current().sites

    def get(self, site_id: str) -> SiteConfig:
        return self.current().get(site_id)

    def __contains__(self, site_id: object) -> bool:
        return site_id in self.current()

    def status(self) -> RegistryStatus:
        self.refresh()
        with self._lock:
            error = self._error
            return RegistryStatus(
                path=str(self.path),
                ok=error is None,
                sites=len(self._registry.sites) if self._registry is not None else 0,
                digest=self._digest[:16] if self._digest else None,
                loaded_at=self._loaded_at,
                error=_describe(error) if error is not None else None,
                failed_at=self._failed_at if error is not None else None,
            )

    # --- reloading ----------------------------------------------------------------------------------------

    def request_reload(self) -> None:
        """Force a reload at the next check (signal-safe: sets a flag and an event)."""
        self._force = True
        self._wake.set()

    def refresh(self) -> None:
        """Check the file if a check is due (or a reload was requested) and load a changed content."""
        with self._lock:
            now = self._clock()
            due = self._checked_at is None or now - self._checked_at >= self.check_interval_s
            if not (due or self._force):
                return
            force, self._force = self._force, False
            self._checked_at = now
            self._check(force)

    def _check(self, force: bool) -> None:
        try:
            st = os.stat(self.path)
            signature: Signature = (st.st_mtime_ns, st.st_size, st.st_ino)
            if not force and signature == self._signature and self._registry is not None:
                return
            raw = read_registry_bytes(self.path)
        except OSError as exc:
            self._signature = None
            self._failed(exc, f"os:{type(exc).__name__}:{exc.errno}")
            return
        digest = hashlib.sha256(raw).hexdigest()
        self._signature = signature
        if digest == self._digest and self._registry is not None:
            self._recovered()  # the same content again (touched, or restored after a failed edit)
            return
        if digest == self._failed_digest and not force:
            return  # this content already failed; said once
        self.loads += 1
        try:
            registry = parse_sites(raw, str(self.path))
        except SiteConfigError as exc:
            self._failed(exc, digest)
            return
        previous = self._registry
        self._registry, self._digest, self._loaded_at = registry, digest, time.time()
        self._recovered()
        metrics.REGISTRY_RELOADS.labels("ok").inc()
        log.info("site registry %s loaded: %s", self.path, _changes(previous, registry))

    def _failed(self, exc: Exception, key: str) -> None:
        first = key != self._failed_digest
        self._error, self._failed_digest = exc, key
        if first:
            self._failed_at = time.time()
            metrics.REGISTRY_RELOADS.labels("error").inc()
            kept = (
                f"keeping the last good registry ({len(self._registry.sites)} sites, loaded at "
                f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(self._loaded_at or 0))})"
                if self._registry is not None
                else "no registry loaded yet"
            )
            one_line = " | ".join(line.strip() for line in _describe(exc).splitlines())
            log.error("site registry %s could not be loaded, %s: %s", self.path, kept, one_line)
        metrics.REGISTRY_OK.set(0)

    def _recovered(self) -> None:
        self._error, self._failed_digest, self._failed_at = None, None, None
        metrics.REGISTRY_OK.set(1)

    # --- watching -----------------------------------------------------------------------------------------

    def start_watching(self) -> None:
        """Check in a daemon thread every ``check_interval_s`` and at once on :meth:`request_reload`, so that
        a broken edit is logged and counted even while no task runs."""
        with self._lock:
            if self._watcher is not None:
                return
            self._watcher = threading.Thread(target=self._watch, name=f"registry-watch:{self.path.name}", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while True:
            self._wake.wait(self.check_interval_s)
            self._wake.clear()
            try:
                self.refresh()
            except Exception:  # never let the watcher die: the next check tries again
                log.exception("site registry check failed")


def _describe(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename or 'file'} not found"
    return clip(str(exc), 2000)


def _changes(before: SiteRegistry | None, after: SiteRegistry) -> str:
    if before is None:
        return f"{len(after.sites)} site(s)"
    old, new = {s.id for s in before.sites}, {s.id for s in after.sites}
    added, removed = sorted(new - old), sorted(old - new)
    parts = [f"{len(after.sites)} site(s)"]
    if added:
        parts.append("added " + ", ".join(added[:20]) + (" …" if len(added) > 20 else ""))
    if removed:
        parts.append("removed " + ", ".join(removed[:20]) + (" …" if len(removed) > 20 else ""))
    return "; ".join(parts)


# --- process-wide sources -----------------------------------------------------------------------------------

_sources: dict[Path, RegistrySource] = {}
_sources_lock = threading.Lock()


def shared_source(path: Path | str) -> RegistrySource:
    """The process-wide source of ``path`` (created on first use)."""
    key = Path(path).absolute()
    with _sources_lock:
        source = _sources.get(key)
        if source is None:
            source = _sources[key] = RegistrySource(key)
        return source


def reload_all() -> None:
    """Request a reload of every source of the process (signal-safe)."""
    for source in list(_sources.values()):
        source.request_reload()


def install_sighup() -> bool:
    """Make SIGHUP reload the site registry instead of its default (terminate) or Celery's (restart the
    worker). Returns False where that is impossible (no SIGHUP, or not the main thread)."""
    if not hasattr(signal, "SIGHUP"):
        return False

    def on_hup(signum: int, frame: FrameType | None) -> None:
        reload_all()

    try:
        signal.signal(signal.SIGHUP, on_hup)
    except ValueError:  # not the main thread
        log.warning("SIGHUP handler not installed (not the main thread): edit the file to reload the registry")
        return False
    return True
