"""A knowledge base: a Chroma collection, its record manager and its BM25 index, and the
guards that keep them consistent (the writer lock; BM25 in step with every write)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from langchain_chroma import Chroma

from app.settings import Settings
from app.store import bm25
from app.store.records import CollectionRecords
from ingest.writer_lock import (  # noqa: F401 - re-exported for callers
    IngestBusyError,
    wait_for_writer,
    writer_lock,
)


@dataclass
class KnowledgeBase:
    """A collection plus its record manager: the pair the indexing API keeps in step."""

    settings: Settings
    collection: str
    store: Chroma

    @property
    def records(self) -> CollectionRecords:
        return CollectionRecords.of(self.settings, self.collection)

    @property
    def record_manager(self):
        return self.records.manager


def open_knowledge_base(settings: Settings, collection: str) -> KnowledgeBase:
    """The collection with the configured (cached, lazily loaded) embeddings."""
    from app.models.embeddings import make_embeddings
    from app.store.chroma import open_vector_store

    embeddings = make_embeddings(settings)
    return KnowledgeBase(settings, collection, open_vector_store(settings, embeddings, collection))


@contextmanager
def bm25_in_step(kb: KnowledgeBase) -> Iterator[None]:
    """Keep this data folder's BM25 index in step with the writes made inside the block.

    The block bumps the collection's version after each write (`kb.records.bump()`); on
    the way out (Ctrl-C included) the index takes in every change since its version,
    this writer's and any other's, in a small segment. The writer holds the STALE
    marker meanwhile: a SIGKILL leaves it unheld, and the next reader or writer rebuilds
    the index from Chroma; an index a dead writer left stale is rebuilt here too.
    """
    folder = bm25.index_dir(kb.settings, kb.collection)
    was_stale = bm25.is_stale(folder)
    with bm25.writing(folder):
        try:
            yield
        finally:
            bm25.sync(kb.store, folder, kb.records, rebuild=was_stale)
