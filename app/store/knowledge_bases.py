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


def list_collections(settings: Settings) -> list[str]:
    """The knowledge bases of this data folder (or Chroma server), by name."""
    return sorted(knowledge_base_name(c.name) for c in make_client(settings).list_collections())


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


def document_chunks(store: Chroma, source: str) -> list[str]:
    """One source's chunk texts in document order (page, then offset in the page)."""
    found = store.get(where={"source": source}, include=["documents", "metadatas"])
    rows = zip(found["documents"] or [], found["metadatas"] or [], strict=False)

    def order(row: tuple[str, dict | None]) -> tuple[int, int]:
        meta = row[1] or {}
        return int(meta.get("page") or 0), int(meta.get("start") or 0)

    return [text for text, _meta in sorted(rows, key=order)]
