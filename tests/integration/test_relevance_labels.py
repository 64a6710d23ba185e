"""The strong / partial / weak label over the samples, with the default embeddings (the
label is calibrated for them: `python -m bench relevance`), real Chroma and BM25."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.retrieval.hybrid import build_retriever
from app.retrieval.service import RetrievalService
from app.schema import context_info
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import SAMPLES

ANSWERED = {  # the README's questions, each answered by one sample
    "Who named retrieval-augmented generation, and in which year?": (
        "rag-retrieval-augmented-generation.md"
    ),
    "GPT-1有多少层？参数量是多少？": "大语言模型简史.txt",
}
UNRELATED = ["红烧肉怎么做才好吃？", "What is the capital of Australia?"]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    from app.settings import load_settings

    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("relevance"),
        cache_dir=embedding_cache_root,
        collection="samples",
    )  # the default embedding backend and retriever: what the label was fitted on
    assert ingest_paths(open_knowledge_base(settings, "samples"), [SAMPLES]).ok
    return settings


def _contexts(settings, question: str) -> list[dict]:
    """What the chat shows beside an answer (the chain builds contexts the same way)."""
    docs = build_retriever(settings).invoke(question)
    return [dict(context_info(n, d)) for n, d in enumerate(docs, start=1)]


@pytest.mark.parametrize("question", list(ANSWERED))
def test_the_source_that_answers_is_strong(samples, question: str) -> None:
    contexts = _contexts(samples, question)
    strong = [c["source"] for c in contexts if c["relevance"] == "strong"]
    assert ANSWERED[question] in strong, [(c["source"], c["scores"]) for c in contexts]
    # the old displayed score could not say this: it is ~1 for the first source anyway
    assert {c["relevance"] for c in contexts} <= {"strong", "partial", "weak"}


@pytest.mark.parametrize("question", UNRELATED)
def test_an_unrelated_question_gets_no_strong_source(samples, question: str) -> None:
    contexts = _contexts(samples, question)
    assert contexts[0]["score"] >= 0.9  # ranked first, as before
    assert contexts[0]["relevance"] != "strong", contexts[0]["scores"]
    assert all(c["relevance"] != "strong" for c in contexts)


def test_the_api_and_mcp_search_carry_the_same_label(samples) -> None:
    question = next(iter(ANSWERED))
    chunks = RetrievalService(samples).search("samples", question, k=3)
    chat = {c["chunk_id"]: c["relevance"] for c in _contexts(samples, question)}
    assert chunks and all(chat[c.chunk_id] == c.relevance for c in chunks)
    assert any(c.relevance == "strong" for c in chunks)
