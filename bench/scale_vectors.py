"""Vectors for the synthetic passages, composed from real `use` vectors of their sentences.

Why: `use` embeds 30–100 chunks/s on these 2 cores (and under 5/s while other jobs share
them), so embedding 100k passages would take from 20 minutes to many hours, for a
benchmark that measures storage and retrieval, not the model. Every passage is made of
runs of real sentences (bench/scale_corpus.py), so each distinct sentence of the shared
corpora (~4,300) is embedded once with `use`, and a passage's vector is the mean of its
sentences' vectors, weighted by their length, normalised: a vector in the same space,
near where the model would put the passage, and distinct per passage. These vectors are
written into zhiku's own embedding cache under the passage's text, so the build itself
is zhiku's ingest unchanged: it finds them there and embeds nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from app.models.embeddings import make_base_embeddings
from app.settings import Settings
from bench.scale_corpus import Paragraph, passage, passage_runs


class SentenceVectors:
    """Every distinct sentence of the paragraphs and its `use` vector (cached in a file)."""

    def __init__(self, settings: Settings, paragraphs: list[Paragraph], path: Path) -> None:
        sentences = sorted({s for p in paragraphs for s in p.sentences})
        self.embed_s = 0.0
        if path.exists():
            stored = np.load(path, allow_pickle=False)
            self.matrix = stored["vectors"]
            sentences = [str(s) for s in stored["sentences"]]
        else:
            started = time.perf_counter()
            vectors = make_base_embeddings(settings).embed_documents(sentences)
            self.embed_s = time.perf_counter() - started
            self.matrix = np.asarray(vectors, dtype=np.float32)
            np.savez(path, sentences=np.array(sentences), vectors=self.matrix)
        self.row = {sentence: i for i, sentence in enumerate(sentences)}

    def compose(self, runs: list[tuple[str, ...]]) -> list[float]:
        sentences = [s for run in runs for s in run]
        weights = np.array([len(s) for s in sentences], dtype=np.float32)
        vector = weights @ self.matrix[[self.row[s] for s in sentences]]
        return (vector / np.linalg.norm(vector)).tolist()


def seed_cache(
    embeddings, numbers: range, paragraphs: list[Paragraph], vectors: SentenceVectors
) -> int:
    """Put composed vectors for passages `numbers` into the embedding cache; returns how
    many. `embeddings` is zhiku's CacheBackedEmbeddings (make_embeddings)."""
    store = embeddings.document_embedding_store
    for first in range(numbers.start, numbers.stop, 1000):
        batch = range(first, min(first + 1000, numbers.stop))
        store.mset(
            [(passage(n, paragraphs), vectors.compose(passage_runs(n, paragraphs))) for n in batch]
        )
    return len(numbers)
