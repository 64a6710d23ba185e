"""BM25 alone, dense alone and their fusion (several weights) on both shared sets.

Baseline: each retriever on its own, in the same run, over the same chunks.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from app.retrieval.hybrid import HybridRetriever
from app.settings import RetrievalSettings, load_settings
from app.store.bm25 import BM25Index
from bench.common import CORPORA, QUESTIONS, read_questions, score_retriever
from ingest.indexing import ingest_paths, open_knowledge_base

CHUNK_SIZES = [(200, 40), (300, 50), (500, 80)]  # (chunk_size, chunk_overlap) swept
CONFIGS: dict[str, RetrievalSettings] = {
    "bm25": RetrievalSettings(retriever="bm25", top_k=10),
    "dense": RetrievalSettings(retriever="dense", top_k=10),
    "hybrid 1:1": RetrievalSettings(retriever="hybrid", top_k=10),
    "hybrid dense 1 : bm25 0.5": RetrievalSettings(retriever="hybrid", top_k=10, bm25_weight=0.5),
    "hybrid dense 0.5 : bm25 1": RetrievalSettings(retriever="hybrid", top_k=10, dense_weight=0.5),
    "hybrid 1:1, MMR": RetrievalSettings(retriever="hybrid", top_k=10, mmr=True),
}


def run(cache_dir: Path, chunk_size: int = 300, chunk_overlap: int = 50) -> list[dict]:
    results = []
    for corpus_name, corpus in CORPORA.items():
        work = Path(tempfile.mkdtemp(prefix="zhiku-bench-hybrid-"))
        settings = load_settings(
            data_dir=work / "data",
            cache_dir=cache_dir,
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
        )
        collection = "bench-" + corpus_name.replace("_", "-")
        kb = open_knowledge_base(settings, collection)
        assert ingest_paths(kb, [corpus]).ok
        questions = read_questions(QUESTIONS[corpus_name])
        for name, config in CONFIGS.items():
            retriever = HybridRetriever(
                store=kb.store,
                bm25=BM25Index.open(settings, collection, kb.store),
                config=config,
            )
            results.append(
                {
                    "corpus": corpus_name,
                    "chunk_size": chunk_size,
                    "retriever": name,
                    **score_retriever(retriever, questions),
                }
            )
    return results
