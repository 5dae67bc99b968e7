"""Engine, sessions, migrations and the upsert helper shared by every writer.

PostgreSQL when ``NIANBAO_DATABASE_URL`` points at it, a SQLite file otherwise. Tables are created by
Alembic only (``upgrade``), never by ``create_all``, so the embedded and server paths share one schema
history.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, NullPool, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

from nianbao.shared import (
    jsontext,
    models,  # noqa: F401  (registers the tables on SQLModel.metadata)
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def get_engine(url: str) -> Engine:
    """One engine per URL per process (engines are not shared across a fork: call after forking)."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _make_engine(url)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Drop pooled connections, e.g. in a freshly forked worker child."""
    with _lock:
        for engine in _engines.values():
            engine.dispose(close=False)
        _engines.clear()


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=jsontext.dumps
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # A threaded crawler worker runs many site crawls at once, each with its own sessions.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30, json_serializer=jsontext.dumps)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (idempotent)."""
    _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


class SchemaNotCurrent(Exception):
    """The database is not at the Alembic head this code expects (or cannot be read)."""


def schema_revisions(url: str) -> tuple[set[str], set[str]]:
    """(revisions the database is at, head revisions of the migrations shipped with this code)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = create_engine(url, poolclass=NullPool, **_connect_timeout(url))
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return current, heads


def check_schema(url: str, *, wait_s: float = 0.0) -> None:
    """Raise :class:`SchemaNotCurrent` (one line, naming the fix) unless the database at ``url`` is at the
    migrations' head. An unreachable database is retried with back-off for ``wait_s`` seconds first."""
    from sqlalchemy.exc import OperationalError

    deadline = time.monotonic() + wait_s
    pause = 0.5
    while True:
        try:
            current, heads = schema_revisions(url)
            break
        except OperationalError as exc:
            if time.monotonic() + pause > deadline:
                reason = (str(exc.orig).strip() or type(exc.orig).__name__).splitlines()[0]
                raise SchemaNotCurrent(
                    f"database unreachable ({reason}); start it, then `nianbao db upgrade` if it is new"
                ) from exc
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
    if current != heads:
        at = ", ".join(sorted(current)) or "no schema"
        raise SchemaNotCurrent(
            f"database schema is at {at}, this code needs {', '.join(sorted(heads))}: run `nianbao db upgrade`"
        )


def _connect_timeout(url: str) -> dict[str, Any]:
    return {"connect_args": {"connect_timeout": 5}} if url.startswith("postgresql") else {}


def upsert(
    session: Session,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """INSERT … ON CONFLICT (conflict) DO UPDATE SET update, on PostgreSQL and SQLite alike."""
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
    # Batches keep the statement under SQLite's bound-parameter limit.
    batch = max(1, 900 // max(1, len(rows[0])))
    for start in range(0, len(rows), batch):
        stmt = insert_fn(table).values(list(rows[start : start + batch]))
        if update:
            stmt = stmt.on_conflict_do_update(index_elements=list(conflict), set_={c: stmt.excluded[c] for c in update})
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
        session.execute(stmt)


__all__ = [
    "SQLModel",
    "SchemaNotCurrent",
    "check_schema",
    "dispose_engines",
    "get_engine",
    "session_scope",
    "upgrade",
    "upsert",
]
