"""What every embedding backend shares: loading its model once, on first use, and the
error that says how to fix a model that cannot be used.

Its own module so that `embeddings.py` (which picks a backend) and each backend module
(`remote_embeddings.py`) import it without importing each other.
"""

from __future__ import annotations

import threading

from langchain_core.embeddings import Embeddings

from app.errors import UserError


class EmbeddingModelError(UserError, RuntimeError):
    """The embedding model cannot be loaded; the message says how to fix it."""


class LazyEmbeddings(Embeddings):
    """Loads its model once, on first use, thread-safely; counts embedded texts."""

    batch_size = 32
    name: str  # the model's stable name: the cache namespace, stored with each collection

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model = None
        self.texts_embedded = 0

    def _load(self):
        raise NotImplementedError

    def _encode(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError

    def _encode_queries(self, texts: list[str]) -> list[list[float]]:
        """A backend whose query side has no batch call embeds them one by one."""
        return [self.embed_query(text) for text in texts]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._batched(self._encode, texts)

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Many questions at once, each as `embed_query` embeds it (E5's "query: " side),
        `batch_size` per call: one call per question cost an FAQ import of 10,000 rows
        ~17 minutes (docs/benchmarks.md, "FAQ entries")."""
        return self._batched(self._encode_queries, texts)

    def _batched(self, encode, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i : i + self.batch_size]
            vectors.extend(encode(batch))
            self.texts_embedded += len(batch)
        return vectors

    @property
    def model(self):
        # Checked again under the lock: two threads asking at once load it once.
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model
