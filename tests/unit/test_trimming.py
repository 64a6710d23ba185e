"""Context trimmed to the sentences closest to the question: pure logic, no model."""

from __future__ import annotations

from langchain_core.documents import Document

from app.answering.trimming import trimmed_chunks

GPT1 = (
    "GPT-1采用无监督预训练和有监督微调。它的训练语料是BooksCorpus。"
    "GPT-1模型基本参数?答案:12层、12个head、768维。这些参数在当时已经很大。"
    "训练用了8块GPU。这一句在窗口之外。"
)
PALM = "PaLM由谷歌推出。规模:基于5400亿参数的Transformer架构。它在多个任务上表现出色。"
NOISE = "注意力机制让模型关注输入的不同部分。多头注意力把表示分成几个子空间。"


def _docs() -> list[Document]:
    return [
        Document(NOISE, metadata={"source": "noise.txt"}),
        Document(GPT1, metadata={"source": "qa.txt", "page": 2}),
        Document(PALM, metadata={"source": "palm.txt"}),
    ]


def test_keeps_the_closest_sentences_and_the_two_after_each() -> None:
    chunks = trimmed_chunks("GPT-1模型有多少层?", _docs(), limit=1)
    assert [(c.n, c.source, c.page) for c in chunks] == [(2, "qa.txt", 2)]
    # the question line stays with its answer, and the two sentences after it come along
    answer, after = "GPT-1模型基本参数?答案:12层、12个head、768维。", "这些参数在当时已经很大。"
    assert chunks[0].text == f"{answer}\n{after}\n训练用了8块GPU。"


def test_chunks_keep_their_numbers_and_the_documents_order() -> None:
    chunks = trimmed_chunks("PaLM有多少参数?GPT-1有多少层?", _docs(), limit=4)
    assert [c.n for c in chunks] == [2, 3]  # chunk 1 had nothing close: left out
    assert "5400亿" in chunks[1].text and "注意力" not in "".join(c.text for c in chunks)


def test_a_generous_limit_keeps_every_sentence() -> None:
    chunks = trimmed_chunks("GPT-1", _docs(), limit=100)
    for chunk, doc in zip(chunks, _docs(), strict=True):
        assert chunk.text.replace("\n", "") == doc.page_content
