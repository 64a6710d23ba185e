"""bm25s (zhiku's index) against LangChain's BM25Retriever (rank_bm25) on the same tokens.

`python -m bench.scale_bm25 ROOT SIZE QUESTIONS` (a child of `python -m bench scale`, so
rank_bm25's memory is freed afterwards) prints one JSON object. Both sides get every
chunk of the collection and zhiku's tokenizer (`app.text.tokenize`: character unigrams
and bigrams, Latin words whole), answer the same questions one at a time for the top 50,
and include the question's tokenization in their time. rank_bm25 scores every document
in Python for every query token, so it gets a time budget rather than every question.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from app.models.embeddings import make_embeddings
from app.store.bm25._index import all_chunks
from app.store.bm25._scoring import Bm25sIndex  # white-box: one segment's bm25s
from app.store.chroma import open_vector_store
from app.text import tokenize
from bench.scale_build import COLLECTION, settings_for
from bench.scale_query import pick_questions, rss_mb, timed

TOP = 50
RANK_BM25_BUDGET_S = 60.0


def measure(root: Path, size: int, limit: int) -> dict:
    from langchain_community.retrievers import BM25Retriever

    settings = settings_for(root, size)
    store = open_vector_store(settings, make_embeddings(settings), COLLECTION)
    started = time.perf_counter()
    ids, texts = all_chunks(store)
    read_s = time.perf_counter() - started
    questions = [q["question"] for q in pick_questions(limit)]

    memory = {"chunks_read": rss_mb()}
    index, build_s = timed(Bm25sIndex.build, ids, texts)
    memory["bm25s"] = rss_mb()
    bm25s_s, bm25s_top = _queries(lambda q: [i for i, _ in index.search(q, TOP)], questions)

    metadatas = [{"id": chunk_id} for chunk_id in ids]
    rank, rank_build_s = timed(
        BM25Retriever.from_texts, texts, metadatas, preprocess_func=tokenize, k=TOP
    )
    memory["rank_bm25"] = rss_mb()
    rank_s, rank_top = _queries(
        lambda q: [d.metadata["id"] for d in rank.invoke(q)], questions, RANK_BM25_BUDGET_S
    )
    answered = len(rank_top)
    overlap = [
        len(set(a[:10]) & set(b[:10])) / max(1, min(10, len(b)))
        for a, b in zip(bm25s_top, rank_top, strict=False)
    ]
    bm25s_qps = len(questions) / bm25s_s
    rank_qps = answered / rank_s
    return {
        "size": size,
        "chunks": len(ids),
        "read_from_chroma_s": round(read_s, 2),
        "bm25s_build_s": round(build_s, 2),
        "rank_bm25_build_s": round(rank_build_s, 2),
        "bm25s_qps": round(bm25s_qps, 1),
        "rank_bm25_qps": round(rank_qps, 2),
        "ratio": round(bm25s_qps / rank_qps, 1),
        "questions": len(questions),
        "rank_bm25_questions": answered,
        "top10_overlap": round(sum(overlap) / max(1, len(overlap)), 3),
        "memory_mb": memory,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


def _queries(search, questions: list[str], budget_s: float = float("inf")):
    """Seconds for the questions answered within the budget, and each one's top ids."""
    tops = []
    started = time.perf_counter()
    for question in questions:
        tops.append(search(question))
        if time.perf_counter() - started > budget_s:
            break
    return time.perf_counter() - started, tops


if __name__ == "__main__":
    root, size, limit = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(measure(root, size, limit)))
