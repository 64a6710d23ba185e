"""Leaving out chunks far below the best one: pure logic on the retriever's scores."""

from __future__ import annotations

from langchain_core.documents import Document

from app.answering.distant_chunks import drop_distant_chunks
from app.settings import RetrievalSettings


def _doc(name: str, **scores: float) -> Document:
    return Document(name, metadata={"source": name, "scores": scores})


ON = RetrievalSettings(drop_distant_chunks=True, distant_bm25_ratio=0.5, distant_dense_margin=0.03)


def test_another_subjects_chunk_is_left_out() -> None:
    kangaroo = _doc("kangaroo", bm25=24.6, dense=0.85)
    basketball = _doc("basketball", bm25=4.8, dense=0.80)  # far below in both rankings
    close_dense = _doc("close-dense", bm25=3.0, dense=0.84)  # within the cosine margin
    close_bm25 = _doc("close-bm25", bm25=13.0, dense=0.70)  # half the best BM25 score
    docs = [kangaroo, basketball, close_dense, close_bm25]
    assert [d.page_content for d in drop_distant_chunks(docs, ON)] == [
        "kangaroo",
        "close-dense",
        "close-bm25",
    ]


def test_entity_chunks_rerankers_and_the_setting_keep_everything() -> None:
    best, far = _doc("best", bm25=30.0, dense=0.9), _doc("far", bm25=1.0, dense=0.5)
    named = _doc("named", bm25=1.0, dense=0.5, entity=1.0)
    assert [d.page_content for d in drop_distant_chunks([best, far, named], ON)] == [
        "best",
        "named",
    ]
    reranked = [_doc("a", rerank=0.9, bm25=30.0), _doc("b", rerank=0.1, bm25=1.0)]
    assert len(drop_distant_chunks(reranked, ON)) == 2
    assert len(drop_distant_chunks([best, far], RetrievalSettings(drop_distant_chunks=False))) == 2
    assert drop_distant_chunks([], ON) == [] and len(drop_distant_chunks([far], ON)) == 1
