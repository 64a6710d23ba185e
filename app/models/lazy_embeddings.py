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

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i : i + self.batch_size]
            vectors.extend(self._encode(batch))
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
