"""Embeddings from another machine: any OpenAI-compatible `/v1/embeddings` server
(`zhiku serve`, TEI, vLLM, Infinity, Ollama) through langchain-openai's `OpenAIEmbeddings`.

- Plain strings are sent: `OpenAIEmbeddings` would otherwise tokenise with tiktoken
  (whose encoding files are downloaded on first use) and split long texts by OpenAI's
  context length, which means nothing for another server's model.
- Questions and documents differ for asymmetric models (E5 wants "query: " and
  "passage: "): with `ZHIKU_EMBEDDING_INPUT_TYPE` each request says which it is in an
  `input_type` field (NVIDIA's convention, honoured by `zhiku serve`).
- The knowledge base records `openai-<model>-<dimension>d`: the dimension is asked of the
  server once (one short text), so a collection built by one remote model refuses another.
- Every failure of the server (down, wrong key, unknown model, timeout) becomes one
  `EmbeddingModelError` line naming the setting to fix; the key is never in it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from app.models.lazy_embeddings import EmbeddingModelError, LazyEmbeddings
from app.settings import EmbeddingSettings, Settings

PROBE_TEXT = "知库 zhiku"


def remote_config(settings: Settings) -> EmbeddingSettings:
    """The backend `openai` settings, checked: the server and its model must be named."""
    if not settings.embedding.embedding_base_url:
        raise EmbeddingModelError(
            "ZHIKU_EMBEDDING_BACKEND=openai needs ZHIKU_EMBEDDING_BASE_URL, the server's /v1 "
            "address (e.g. http://10.0.0.5:8000/v1)"
        )
    if not settings.embedding.embedding_model:
        raise EmbeddingModelError(
            "ZHIKU_EMBEDDING_BACKEND=openai needs ZHIKU_EMBEDDING_MODEL, the model name the "
            "server lists in GET /v1/models"
        )
    return settings.embedding


class RemoteEmbeddings(LazyEmbeddings):
    """`OpenAIEmbeddings` against `config.embedding_base_url`; batching (`chunk_size`) and
    retries with backoff (`max_retries`) are its own."""

    def __init__(self, config: EmbeddingSettings) -> None:
        super().__init__()
        self.config = config
        self.batch_size = config.embedding_batch_size
        self._name: str | None = None
        self._name_lock = threading.Lock()  # not _lock: the client is made under that one

    @property
    def name(self) -> str:  # type: ignore[override]  # the others know theirs at once
        """`openai-<model>-<dim>d`, the dimension asked of the server once."""
        if self._name is None:
            with self._name_lock:
                if self._name is None:
                    with self._errors():
                        dimension = len(self._embed([PROBE_TEXT], "passage")[0])
                    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.config.embedding_model)
                    self._name = f"openai-{safe}-{dimension}d"
        return self._name

    def _load(self):
        from langchain_openai import OpenAIEmbeddings

        config = self.config
        return OpenAIEmbeddings(
            model=config.embedding_model,
            base_url=config.embedding_base_url,
            api_key=config.embedding_api_key,
            timeout=config.embedding_timeout_s,
            max_retries=config.embedding_max_retries,
            chunk_size=config.embedding_batch_size,
            # plain strings, no tiktoken download, no OpenAI context-length splitting
            tiktoken_enabled=False,
            check_embedding_ctx_length=False,
        )

    def _embed(self, texts: list[str], kind: str) -> list[list[float]]:
        extra = {"extra_body": {"input_type": kind}} if self.config.embedding_input_type else {}
        return self.model.embed_documents(texts, **extra)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._errors():
            vectors = self._embed(texts, "passage")
        self.texts_embedded += len(texts)
        return vectors

    def embed_query(self, text: str) -> list[float]:
        with self._errors():
            return self._embed([text], "query")[0]

    def _encode_queries(self, texts: list[str]) -> list[list[float]]:
        with self._errors():
            return self._embed(texts, "query")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """The openai SDK's exceptions as one line naming the setting to change."""
        import openai

        url = self.config.embedding_base_url
        try:
            yield
        except openai.APITimeoutError:
            raise EmbeddingModelError(
                f"the embedding server at {url} did not answer in "
                f"{self.config.embedding_timeout_s:g} s; "
                "raise ZHIKU_EMBEDDING_TIMEOUT_S or lower ZHIKU_EMBEDDING_BATCH_SIZE"
            ) from None
        except openai.APIConnectionError:
            raise EmbeddingModelError(
                f"cannot reach the embedding server at {url}; start it, or fix "
                "ZHIKU_EMBEDDING_BASE_URL"
            ) from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise EmbeddingModelError(
                f"the embedding server at {url} refused the key ({exc.status_code}); "
                "check ZHIKU_EMBEDDING_API_KEY"
            ) from None
        except openai.NotFoundError as exc:
            raise EmbeddingModelError(
                f"the embedding server at {url} has no model {self.config.embedding_model!r} "
                f"({_server_message(exc)}); check ZHIKU_EMBEDDING_MODEL, and that "
                "ZHIKU_EMBEDDING_BASE_URL ends in /v1"
            ) from None
        except openai.APIStatusError as exc:
            raise EmbeddingModelError(
                f"the embedding server at {url} answered {exc.status_code} "
                f"({_server_message(exc)}); check ZHIKU_EMBEDDING_BASE_URL and "
                "ZHIKU_EMBEDDING_MODEL"
            ) from None


def _server_message(exc) -> str:
    """The server's own error message (OpenAI's shape), on one short line."""
    body = exc.body if isinstance(exc.body, dict) else {}
    message = str(body.get("message") or exc.message or type(exc).__name__)
    return " ".join(message.split())[:200]
