"""Leave out retrieved chunks far below the best one before the model reads them.

Hybrid retrieval always returns k chunks, even when only the first is about the question:
for "尤金袋鼠的体重大约是多少？" the second and third are about a basketball player
("体重118公斤") and a fossil reptile, and a small model copies its figure from them
("尤金袋鼠的体重大约是118公斤"). A chunk is kept when it is close to the best one in
either ranking — at least half its BM25 score, or a cosine within a small margin — or
when the entity channel brought it in (it names what the question asks about).
Measured on both shared sets (docs/benchmarks.md, "Answers a user can trust").
"""

from __future__ import annotations

from langchain_core.documents import Document

from app.settings import RetrievalSettings


def drop_distant_chunks(docs: list[Document], config: RetrievalSettings) -> list[Document]:
    """The chunks worth reading, in their order; the best one is always kept."""
    if not config.drop_distant_chunks or len(docs) < 2 or "rerank" in _scores(docs[0]):
        return docs  # a reranker's scores are on another scale: its order is trusted
    best = _scores(docs[0])
    return [docs[0]] + [d for d in docs[1:] if _close(_scores(d), best, config)]


def _close(scores: dict, best: dict, config: RetrievalSettings) -> bool:
    if scores.get("entity"):
        return True
    bm25, top_bm25 = scores.get("bm25"), best.get("bm25")
    dense, top_dense = scores.get("dense"), best.get("dense")
    if bm25 is None and dense is None:
        return True  # nothing to compare with: keep it
    near_bm25 = (
        bm25 is not None and top_bm25 is not None and bm25 >= config.distant_bm25_ratio * top_bm25
    )
    near_dense = (
        dense is not None
        and top_dense is not None
        and dense >= top_dense - config.distant_dense_margin
    )
    return near_bm25 or near_dense


def _scores(doc: Document) -> dict:
    return doc.metadata.get("scores") or {}
