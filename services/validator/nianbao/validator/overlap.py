"""Storing reports one after another while the caller goes on with the next one, in one process.

In one process (the embedded run) a report costs this process's CPU (parse, rules, building its rows) plus
the time it waits for PostgreSQL to write it, during which the server works on another core and this process
idles. :class:`OverlappedStore` takes that wait out of the loop: each report is checked in the caller's
thread (its reads, the rules, the store's comparison with what is stored), and the rest of its transaction
(a new report's one statement, then the commit) runs in one background thread while the caller parses the
next page. That thread holds the GIL only to send a statement and read back its one row; a thread that ran
the rules as well competed with the parse for the GIL and was slower than none (README, Performance,
rounds 4 and 6).

The result is what storing the reports one by one gives, each in its own transaction, in order: a report's
reads (its stored row, the same agency's report of the year before) start only after the previous report's
commit, so the rules see every earlier report, and the session is used by one thread at a time. Outcomes
(the store's result, or the exception) are handed to the caller's ``done`` callback in the caller's thread,
in submission order, at most one report late; :meth:`OverlappedStore.flush` waits for the last.

On SQLite the write is in-process CPU like the rest, so there is nothing to overlap: each report is stored
in the caller's thread before :meth:`~OverlappedStore.submit` returns.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from nianbao.shared.contracts import ReportParsed
from nianbao.shared.db import get_engine
from nianbao.validator.handlers import CheckedReport, check_report, count_stored
from nianbao.validator.settings import ValidatorSettings
from nianbao.validator.store import StoreResult, finish_store

# Told each report's outcome, in the caller's thread: (message, result, None) once its transaction is
# committed, or (message, None, exception) when checking or storing it failed (nothing of it is stored).
Done = Callable[[ReportParsed, StoreResult | None, Exception | None], None]


@dataclass(frozen=True)
class _Job:
    checked: CheckedReport
    done: Done
    started: float  # perf_counter() when its check began


@dataclass(frozen=True)
class _Outcome:
    job: _Job
    result: StoreResult | None
    error: Exception | None
    finished: float


class OverlappedStore:
    """Validate and store reports in submission order, each in its own transaction, the database's part of
    one report running while the caller works on the next (module docstring). Not for concurrent callers:
    one thread submits."""

    def __init__(self, settings: ValidatorSettings) -> None:
        self._settings = settings
        self._url = settings.resolved_database_url()
        self._overlapped = get_engine(self._url).dialect.name == "postgresql"  # see the module docstring
        self._session: Session | None = None
        self._thread: threading.Thread | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._outcomes: queue.SimpleQueue[_Outcome] = queue.SimpleQueue()
        self._in_flight = False

    def submit(self, message: ReportParsed, done: Done) -> None:
        """Check ``message``'s record and store it; ``done`` is told the outcome (module docstring). Waits
        first for the previous report's commit (and tells its ``done``)."""
        self._collect()
        session = self._open_session()
        started = time.perf_counter()
        try:
            checked = check_report(session, message, self._settings)
        except Exception as exc:
            self._rollback(session)
            done(message, None, exc)
            return
        except BaseException:
            self._rollback(session)
            raise
        job = _Job(checked, done, started)
        if not self._overlapped:
            self._deliver(self._finish(session, job))
            return
        self._ensure_thread()
        self._in_flight = True
        self._jobs.put(job)

    def flush(self) -> None:
        """Wait for the last submitted report and tell its outcome; end the background thread and give the
        session's connection back. A later :meth:`submit` starts again."""
        self._collect()
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> OverlappedStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.flush()

    def _open_session(self) -> Session:
        if self._session is None:
            self._session = Session(get_engine(self._url), expire_on_commit=False)
        return self._session

    def _ensure_thread(self) -> None:
        if self._thread is None:
            # A daemon: an interpreter leaving without flush() does not hang on it (an uncommitted
            # transaction is rolled back by the server).
            self._thread = threading.Thread(target=self._write_loop, name="nianbao-store", daemon=True)
            self._thread.start()

    def _write_loop(self) -> None:
        session = self._session
        assert session is not None  # opened by submit() before the thread starts
        while (job := self._jobs.get()) is not None:
            self._outcomes.put(self._finish(session, job))

    @staticmethod
    def _finish(session: Session, job: _Job) -> _Outcome:
        """The rest of a checked report's transaction: its new-report statement, if any, and the commit."""
        try:
            result = finish_store(session, job.checked.stored)
            session.commit()
        except BaseException as exc:  # any: the caller waits for this outcome, so it must always come
            OverlappedStore._rollback(session)
            error = exc if isinstance(exc, Exception) else RuntimeError(f"storing was interrupted: {exc!r}")
            return _Outcome(job, None, error, time.perf_counter())
        return _Outcome(job, result, None, time.perf_counter())

    def _collect(self) -> None:
        """Wait for the report in flight, if any, and tell its outcome."""
        if self._in_flight:
            outcome = self._outcomes.get()
            self._in_flight = False
            self._deliver(outcome)

    @staticmethod
    def _deliver(outcome: _Outcome) -> None:
        job = outcome.job
        if outcome.result is not None:
            count_stored(job.checked, outcome.result, seconds=outcome.finished - job.started)
        job.done(job.checked.message, outcome.result, outcome.error)

    @staticmethod
    def _rollback(session: Session) -> None:
        try:
            session.rollback()
        except Exception:  # the connection is gone: the pool replaces it at the next checkout
            session.invalidate()
