"""A knowledge base: a Chroma collection, its record manager and its BM25 index, and the
guards that keep them consistent (the writer lock; `kb.bm25.writing()` around writes)."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_chroma import Chroma

from app.settings import Settings
from app.store.bm25 import BM25Index
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

    @property
    def bm25(self) -> BM25Index:
        return BM25Index.open(self.settings, self.collection, self.store, self.records)


def open_knowledge_base(settings: Settings, collection: str) -> KnowledgeBase:
    """The collection with the configured (cached, lazily loaded) embeddings."""
    from app.models.embeddings import make_embeddings
    from app.store.chroma import open_vector_store

    embeddings = make_embeddings(settings)
    return KnowledgeBase(settings, collection, open_vector_store(settings, embeddings, collection))
