"""A knowledge base on disk: a Chroma collection, its record manager and its BM25 index,
and the guards that keep them consistent (one writer; BM25 in step with every write)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from langchain_chroma import Chroma

from app.errors import UserError
from app.once import once_per_arguments
from app.settings import Settings
from app.store import bm25


class IngestBusyError(UserError, RuntimeError):
    """Another ingest holds the data folder; two writers would corrupt Chroma's files."""


@dataclass
class KnowledgeBase:
    """A collection plus its record manager: the pair the indexing API keeps in step."""

    settings: Settings
    collection: str
    store: Chroma

    @property
    def record_manager(self):
        return _record_manager(self.settings, self.collection)


def open_knowledge_base(settings: Settings, collection: str) -> KnowledgeBase:
    """The collection with the configured (cached, lazily loaded) embeddings."""
    from app.models.embeddings import make_embeddings
    from app.store.chroma import open_vector_store

    embeddings = make_embeddings(settings)
    return KnowledgeBase(settings, collection, open_vector_store(settings, embeddings, collection))


def _record_manager(settings: Settings, collection: str):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    location = settings.chroma_server_url or "embedded"
    return _manager(settings.record_manager_db_url, f"{location}/{collection}")


@once_per_arguments(maxsize=64)
def _manager(url: str, namespace: str):
    """One record manager per database and namespace, its schema created once: two
    sessions opening a new knowledge base together would both run CREATE TABLE."""
    from langchain_classic.indexes import SQLRecordManager
    from sqlalchemy.exc import OperationalError

    manager = SQLRecordManager(namespace=namespace, engine=_engine(url))
    try:
        manager.create_schema()
    except OperationalError as exc:  # another process created it between check and create
        if "already exists" not in str(exc):
            raise
    return manager


@once_per_arguments(maxsize=8)
def _engine(url: str):
    """SQLite in WAL mode with normal sync: a commit costs no fsync, yet a killed process
    never corrupts it (at worst a power cut loses the last records, which the next run
    re-upserts under the same ids)."""
    from sqlalchemy import create_engine, event

    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """One writer per data folder at a time (Chroma's files do not survive two)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / ".ingest.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestBusyError(
                f"another ingest is writing to {settings.data_dir}; wait for it to finish"
            ) from None
        yield


def wait_for_writer(settings: Settings, timeout: float = 600.0) -> bool:
    """Block until no ingest holds the data folder (True), or `timeout` passes (False)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with writer_lock(settings):
                return True
        except IngestBusyError:
            time.sleep(0.5)
    return False


@contextmanager
def bm25_in_step(kb: KnowledgeBase) -> Iterator[list[int]]:
    """Keep the collection's BM25 index in step with the writes made inside the block.

    The index is marked stale before any write; on the way out (Ctrl-C included) it is
    rebuilt if the block reports changes (appends a non-zero count) or if an earlier
    run died before rebuilding. A SIGKILL leaves the marker for the next run.
    """
    folder = bm25.index_dir(kb.settings, kb.collection)
    was_stale = bm25.is_stale(folder)
    bm25.mark_stale(folder)
    changes: list[int] = []
    try:
        yield changes
    finally:
        if was_stale or any(changes):
            bm25.rebuild(kb.store, folder)
        else:
            bm25.clear_stale(folder)
