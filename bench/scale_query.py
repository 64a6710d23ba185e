"""The query process of `python -m bench scale`, run as a child so its memory is its own.

`python -m bench.scale_query ROOT SIZE QUESTIONS` prints one JSON object: resident memory
after each thing a query process loads (the embedder, the Chroma collection with its
HNSW index, the BM25 index) and after the questions; hybrid / dense / BM25 latency p50
and p95 with zhiku's default retrieval settings (top 5 of 50 candidates per retriever,
entity channel on); and where the hybrid time goes (the same steps timed alone).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from app.evaluation.retrieval_metrics import hit_at
from app.models.embeddings import make_embeddings
from app.retrieval.hybrid import build_retriever, entity_terms
from app.store.bm25 import BM25Index
from app.store.chroma import open_vector_store
from bench.common import QUESTIONS, read_questions
from bench.scale_build import COLLECTION, settings_for

# zhiku's defaults per mode; the last one shows what the entity channel costs.
VARIANTS: dict[str, dict] = {
    "hybrid": {"retriever": "hybrid"},
    "dense": {"retriever": "dense"},
    "bm25": {"retriever": "bm25"},
    "hybrid_no_entities": {"retriever": "hybrid", "entity_channel": False},
}
WARM_UP = 3


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def pick_questions(limit: int) -> list[dict]:
    """All answerable llm_articles questions, then evenly spaced CMRC ones up to `limit`."""
    llm = [q for q in read_questions(QUESTIONS["llm_articles"]) if q["sources"]]
    cmrc = [q for q in read_questions(QUESTIONS["cmrc2018_trial"]) if q["sources"]]
    wanted = max(0, limit - len(llm))
    step = max(1, len(cmrc) // max(wanted, 1))
    return (llm + cmrc[::step][:wanted])[:limit]


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
    }


def measure(root: Path, size: int, limit: int) -> dict:
    settings = settings_for(root, size)
    memory = {"imports": rss_mb()}
    embeddings = make_embeddings(settings)
    embeddings.embed_query("预热")
    memory["embedder"] = rss_mb()
    store = open_vector_store(settings, embeddings, COLLECTION)
    store.similarity_search_by_vector(embeddings.embed_query("预热"), k=1)
    memory["chroma"] = rss_mb()
    index = BM25Index.open(settings, COLLECTION, store)  # no version read per search
    started = time.perf_counter()
    index.follow()  # reads it from disk into this process
    bm25_load_s = time.perf_counter() - started
    memory["bm25"] = rss_mb()

    retrievers = {
        name: build_retriever(settings, COLLECTION, **overrides)
        for name, overrides in VARIANTS.items()
    }
    questions = pick_questions(limit + WARM_UP)
    latency: dict[str, list[float]] = {name: [] for name in (*VARIANTS, "embed_query")}
    steps: dict[str, list[float]] = {"chroma_knn": [], "bm25_search": [], "get_by_ids": []}
    entity_s: list[float] = []
    hits: dict[str, list[float]] = {"hybrid": [], "hybrid_no_entities": []}
    for i, question in enumerate(questions):
        text = question["question"]
        vector, embed_s = timed(embeddings.embed_query, text)
        for name in VARIANTS:  # interleaved, so contention falls on every mode alike
            docs, seconds = timed(retrievers[name].invoke, text)
            if i >= WARM_UP:
                latency[name].append(seconds)
            if name in hits and i >= WARM_UP:
                sources = [d.metadata["source"] for d in docs]
                hits[name].append(hit_at(5, sources, question["sources"]))
        if i < WARM_UP:
            continue
        latency["embed_query"].append(embed_s)
        steps["chroma_knn"].append(timed(store.similarity_search_by_vector, vector, k=50)[1])
        found, seconds = timed(index.search, text, 50)
        steps["bm25_search"].append(seconds)
        if found:  # the BM25 hits' texts, fetched from Chroma as the hybrid does
            steps["get_by_ids"].append(timed(store.get_by_ids, [i for i, _ in found])[1])
        for term in entity_terms(text):
            where = {"$contains": term}
            search = store.similarity_search_by_vector
            entity_s.append(timed(search, vector, k=10, where_document=where)[1])
    memory["after_queries"] = rss_mb()
    return {
        "size": size,
        "questions": len(questions) - WARM_UP,
        "memory_mb": memory,
        "bm25_load_s": round(bm25_load_s, 3),
        "latency": {name: percentiles(values) for name, values in latency.items()},
        "steps": {name: percentiles(values) for name, values in steps.items()},
        "entity_query": {"count": len(entity_s), **percentiles(entity_s or [0.0])},
        "hit@5": {name: round(statistics.mean(values), 3) for name, values in hits.items()},
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


def timed(call, *args, **kwargs):
    """The call's result and its wall-clock seconds."""
    started = time.perf_counter()
    result = call(*args, **kwargs)
    return result, time.perf_counter() - started


if __name__ == "__main__":
    root, size, limit = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(measure(root, size, limit)))
