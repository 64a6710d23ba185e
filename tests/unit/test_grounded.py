"""The grounded strategy's pure parts: the check against the chosen sentences, the
fall-back to the quotes, the markers, the answering prompt."""

from __future__ import annotations

from langchain_core.documents import Document

from app.answering import grounded
from app.answering.extractive import Sentence

GPT1 = "OpenAI 发布了 GPT-1，它采用仅解码器的 Transformer，共 12 层，参数量约 1.17 亿。"
LAYERS = "原始的 Transformer 由编码器和解码器两部分组成，各堆叠 6 层。"
DOCS = [Document("大语言模型简史\n\n" + GPT1, id="a", metadata={"source": "简史.txt"}),
        Document(LAYERS, id="b", metadata={"source": "transformer.md", "page": 2})]  # fmt: skip


def picked(*texts_and_chunks: tuple[str, int]) -> list[Sentence]:
    return [Sentence(n, chunk, text, n) for n, (text, chunk) in enumerate(texts_and_chunks, 1)]


def test_a_figure_found_only_outside_the_chosen_sentence_is_dropped() -> None:
    # "6" is in the retrieved text ("各堆叠 6 层") but not in the sentence chosen as evidence
    chosen = picked((GPT1, 1))
    checked = grounded.check(
        "GPT-1有多少层？参数量是多少？", "GPT-1有6层。参数量约1.17亿 [1]。", chosen, "zh"
    )
    assert checked.dropped == ("GPT-1有6层。",)
    assert checked.answer == "参数量约1.17亿 [1]。" and not checked.from_quotes


def test_an_answer_with_nothing_supported_falls_back_to_the_quotes() -> None:
    chosen = picked((GPT1, 1))
    checked = grounded.check("GPT-1 是什么结构？", "GPT-1 有 6 层编码器 [1]。", chosen, "zh")
    assert checked.from_quotes
    assert "共 12 层" in checked.answer and "[1]" in checked.answer
    assert checked.verification.scores["unsupported"] == []


def test_a_supported_answer_is_kept_whole() -> None:
    chosen = picked((GPT1, 1))
    answer = "GPT-1共12层，参数量约1.17亿 [1]。"
    checked = grounded.check("GPT-1有多少层？参数量是多少？", answer, chosen, "zh")
    assert checked.answer == answer and checked.dropped == ()


def test_an_answer_without_markers_is_attributed_to_the_chosen_chunks() -> None:
    chosen = picked((LAYERS, 2))
    cited = grounded.cite_selection("编码器和解码器各6层。", chosen, DOCS)
    assert cited.endswith("[2]。")
    assert grounded.cite_selection("已有标记 [1]。", chosen, DOCS) == "已有标记 [1]。"


def test_quotes_carry_their_chunk_marker_and_source() -> None:
    quotes = grounded.quote_infos(picked((LAYERS, 2)), DOCS)
    assert quotes == [
        {"n": 2, "source": "transformer.md", "page": 2, "chunk_id": "b", "text": LAYERS}
    ]


def test_both_steps_share_their_static_system_prompt_and_show_only_their_sentences() -> None:
    chosen, candidates = picked((GPT1, 1)), picked((GPT1, 1), (LAYERS, 2))
    select = grounded.select_messages("GPT-1有多少层？", candidates, "zh", 3)
    answer = grounded.answer_messages("GPT-1有多少层？", chosen, "zh", 3)
    assert select[0] == answer[0] and select[0][0] == "system"  # one prefix, kept evaluated
    assert "GPT-1" not in select[0][1]  # the same for every question
    assert f"1. {GPT1}" in select[1][1] and f"2. {LAYERS}" in select[1][1]
    assert f"- {GPT1} [1]" in answer[1][1] and LAYERS not in answer[1][1]
    assert answer[1][1].startswith("只根据下面") and answer[1][1].endswith("问题：GPT-1有多少层？")
    english = grounded.answer_messages("How many layers?", chosen, "en", 3)
    assert "English" in english[1][1]


def test_candidates_leave_out_headings_and_chunks_not_named_and_rank_by_words() -> None:
    docs = [
        Document("# Transformer 架构简介\n\n原始论文的基础模型使用 8 个注意力头，模型维度为 512。"),
        Document("GPT-3 拥有 1750 亿参数。2020 年的 GPT-3 能少样本学习。"),
    ]
    found = grounded.candidates("基础模型用了几个注意力头？", docs, 5, {1}, None)
    assert [s.text for s in found] == ["原始论文的基础模型使用 8 个注意力头，模型维度为 512。"]
    ranked = grounded.candidates("GPT-3 有多少参数？", docs, 5, None, None)
    assert ranked[0].text == "GPT-3 拥有 1750 亿参数。" and [s.n for s in ranked] == [1, 2, 3]


def test_an_answer_that_says_nothing_is_not_dressed_up_as_the_quotes() -> None:
    checked = grounded.check("GPT-1有多少层？", "[1]", picked((GPT1, 1)), "zh")
    assert checked.answer == "" and not checked.from_quotes


def test_word_support_is_not_measured_across_languages() -> None:
    english = "Chroma uses HNSW, a graph of vectors in several layers."
    checked = grounded.check(
        "Chroma 用的是哪种索引？", "Chroma 用的是 HNSW 索引 [1]。", picked((english, 1)), "zh"
    )
    assert checked.verification.scores["support"] is None and not checked.dropped


def test_a_figure_question_whose_written_figure_is_dropped_is_withheld_not_quoted() -> None:
    chosen = picked(("2019 年的 GPT-2 把参数量提高到 15 亿。", 1))
    checked = grounded.check(
        "How many layers does GPT-2 have?", "GPT-2 has 15 layers.", chosen, "en"
    )
    assert checked.answer == "" and not checked.from_quotes and checked.dropped


def test_words_taken_from_the_question_count_as_supported_and_yi_zhong_is_no_figure() -> None:
    chosen = picked(("此后，开源模型迅速发展：Meta 的 LLaMA 系列、阿里巴巴的通义千问系列等。", 1))
    question = "Meta 和阿里巴巴各自推出了哪个开源模型系列？"
    answer = "Meta 和阿里巴巴各自推出了 LLaMA 系列和通义千问系列 [1]。"
    checked = grounded.check(question, answer, chosen, "zh")
    assert checked.answer == answer and checked.verification.scores["support"] >= 0.9
    english = picked(("Chroma uses HNSW, a graph of vectors in several layers.", 1))
    checked = grounded.check(
        "Chroma 用的是哪种索引？", "Chroma 使用的是 HNSW，一种图索引。", english, "zh"
    )
    assert not checked.dropped


def test_the_api_content_shows_the_answer_then_the_quotes_as_text() -> None:
    from app.api.schemas import answer_content, extras

    quote = {
        "n": 1,
        "source": "a.md",
        "page": None,
        "chunk_id": "x",
        "text": "![y](http://e/x) 共 12 层。",
    }
    result = {"question": "GPT-1有多少层？", "answer": "GPT-1 共 12 层 [1]。", "refused": False,
              "quotes": [quote], "citations": [], "contexts": []}  # fmt: skip
    content = answer_content(result, with_sources=False)
    assert content.startswith("GPT-1 共 12 层 [1]。\n\n原文:\n> ")
    assert "![y](" not in content and "[1]" in content.splitlines()[-1]
    withheld = {**result, "answer": "资料中没有找到答案。", "refused": True}
    assert answer_content(withheld, with_sources=False) == "资料中没有找到答案。"
    assert extras({**result, "abstention": {}, "strategy": "grounded", "standalone_question": "",
                   "draft": "", "timings": {}})["quotes"] == [quote]  # fmt: skip
