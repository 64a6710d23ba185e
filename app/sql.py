"""SQL databases zhiku keeps its own state in (the record manager, the writer lock, the
conversations): one engine per URL and timeout, made once per process.

SQLite runs in WAL mode with normal sync: readers never wait for a writer, a commit costs
no fsync, and a killed process never corrupts the file. Any other URL (PostgreSQL for a
team) is used as given, with a pre-ping so a restarted server costs one retry.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.once import once_per_arguments


@once_per_arguments(maxsize=16)
def engine(url: str, timeout_s: float = 30.0) -> Engine:
    """The engine for `url`; SQLite waits up to `timeout_s` for another writer."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    sqlite_engine = create_engine(
        url, connect_args={"timeout": timeout_s, "check_same_thread": False}
    )

    @event.listens_for(sqlite_engine, "connect")
    def _pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        with contextlib.suppress(sqlite3.Error):  # read-only or corrupt: a query reports it
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return sqlite_engine


def create_tables(url: str, metadata: MetaData, timeout_s: float = 30.0) -> None:
    """CREATE TABLE IF NOT EXISTS, tolerating another process creating them at the same
    moment (SQLite says "already exists", PostgreSQL a duplicate key in pg_type)."""
    try:
        metadata.create_all(engine(url, timeout_s))
    except DBAPIError as exc:
        if "already exists" not in str(exc) and "duplicate key" not in str(exc):
            raise
        metadata.create_all(engine(url, timeout_s))


class LazyTables:
    """A store's tables, made at its first use rather than when it is built (a store is
    built at import time by some callers, before the database may be reachable). Two
    threads starting together run CREATE TABLE once; `create_tables` covers processes."""

    def __init__(self, url: str, metadata: MetaData, timeout_s: float) -> None:
        self._url, self._metadata, self._timeout_s = url, metadata, timeout_s
        self._lock = threading.Lock()
        self._ready = False

    def ensure(self) -> None:
        with self._lock:
            if not self._ready:
                create_tables(self._url, self._metadata, self._timeout_s)
                self._ready = True


def make_sqlite_folder(url: str) -> None:
    """A SQLite URL's file can be opened only in a folder that exists: make it."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///").split("?")[0]).parent.mkdir(parents=True, exist_ok=True)


def first_line(exc: SQLAlchemyError) -> str:
    """The database's own reason, on one line (without SQLAlchemy's statement dump)."""
    return (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
