"""Reads about knowledge bases (for the service in app.knowledge and retrieval), no model loaded.

A knowledge base is one Chroma collection (plus its BM25 index and record manager,
kept in step by the ingest pipeline). Writing goes through `ingest`; these are the
reads: which knowledge bases exist, how big they are, which documents they hold.
"""

from __future__ import annotations

from collections import Counter

from langchain_chroma import Chroma

from app.settings import Settings
from app.store.chroma import chroma_name, iter_pages, knowledge_base_name, make_client
from app.store.pending import hidden


def list_collections(settings: Settings) -> list[str]:
    """The knowledge bases of this data folder (or Chroma server), by name; one being
    renamed or deleted is not among them until that is finished (app/store/pending.py)."""
    return sorted(collection_ids(settings))


def collection_ids(settings: Settings) -> dict[str, str]:
    """Each knowledge base's Chroma collection id: a cache of a collection's handle keyed
    by name alone would, after a rename and a new knowledge base of the old name, answer
    from the renamed one."""
    gone = hidden(settings)
    found = {
        knowledge_base_name(c.name): str(c.id) for c in make_client(settings).list_collections()
    }
    return {name: found[name] for name in sorted(found) if name not in gone}


def collection_size(settings: Settings, collection: str) -> int:
    """Chunks in a collection (0 if it does not exist)."""
    try:
        return make_client(settings).get_collection(chroma_name(collection)).count()
    except Exception as exc:  # chromadb raises NotFoundError or ValueError by version
        if "does not exist" in str(exc) or type(exc).__name__ == "NotFoundError":
            return 0
        raise


def chunk_counts(store: Chroma) -> Counter[str]:
    """Chunks per source file in one collection."""
    counts: Counter[str] = Counter()
    for page in iter_pages(store, ["metadatas"]):
        counts.update(str((m or {}).get("source", "?")) for m in page["metadatas"] or [])
    return counts
