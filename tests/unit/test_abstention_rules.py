"""When not to answer: the evidence and support rules, and the decision, on given text."""

from __future__ import annotations

from langchain_core.documents import Document

from app import text
from app.answering import abstention as ab
from app.answering.verification import facts, novelty, sentences, verify
from app.settings import AbstentionSettings

MISTRAL = "Mistral-7B\n模型特点:70亿参数的语言模型,采用分组查询注意力和滑动窗口注意力技术。"


def doc(text: str, dense: float = 0.8) -> Document:
    return Document(page_content=text, metadata={"scores": {"dense": dense}})


def test_normalise_makes_numbers_comparable() -> None:
    assert text.normalise("ＧＰＴ－１有十二层") == "gpt-1有12层"
    assert text.normalise("参数量约1.17亿") == "参数量约117000000"
    assert text.normalise("七十亿参数") == text.normalise("70亿参数") == "7000000000参数"
    assert text.normalise("1,024 个") == "1024 个"


def test_names_are_latin_tokens_that_look_like_names() -> None:
    assert text.names("Which attention does Mistral-7B use? Ask OpenAI or Meta.") == [
        "Mistral-7B", "OpenAI", "Meta",
    ]  # fmt: skip
    assert text.names("GPT-3和LLaMA-2的区别") == ["GPT-3", "LLaMA-2"]
    assert text.names("Code Llama 最多支持多长的上下文？") == ["Code Llama"]  # one name
    assert text.normalise("一共用了多少个任务？统一的模型") == "一共用了多少个任务?统一的模型"


def test_an_invented_number_is_caught() -> None:
    question = "Mistral-7B的滑动窗口有多大？"
    invented = verify(question, "Mistral-7B的滑动窗口大小是4096 [1]。", [MISTRAL], "zh")
    assert invented.scores["unsupported"] == ["4096"] and invented.kept == ""
    assert not invented.trimmed  # nothing verified: withheld, not trimmed
    assert ab.support_says_abstain(invented.scores, AbstentionSettings())
    faithful = verify(question, "Mistral-7B有七十亿参数，用了滑动窗口注意力 [1]。", [MISTRAL], "zh")
    assert faithful.scores["unsupported"] == [] and faithful.scores["support"] >= 0.75
    assert not ab.support_says_abstain(faithful.scores, AbstentionSettings(abstain_min_support=0.5))
    quoted = verify("它叫什么？", "它叫“长程注意力”。", [MISTRAL], "zh")
    assert quoted.scores["unsupported"] == ["长程注意力"]


def test_what_the_question_says_is_not_an_invention() -> None:
    question = "在“不微调、直接拿来用”这件事上，Mixtral和Mistral-7B有什么不同？"
    answer = "在“不微调、直接拿来用”这件事上，Mixtral和Mistral-7B都用了滑动窗口注意力。"
    assert verify(question, answer, [MISTRAL], "zh").scores["unsupported"] == []


def test_only_the_verified_opening_is_kept() -> None:
    answer = "Mistral-7B有70亿参数 [1]。它的滑动窗口大小是4096。它还有8个专家。"
    checked = verify("Mistral-7B有多少参数？", answer, [MISTRAL], "zh")
    assert checked.kept == "Mistral-7B有70亿参数 [1]。"
    assert checked.scores["unsupported"] == ["4096"]
    assert (checked.scores["verified"], checked.scores["sentences"]) == (1, 3) and checked.trimmed
    assert "".join(sentences(answer)) == answer


def test_an_entity_must_be_found_next_to_the_subject() -> None:
    chunks = ["Alpaca 是一个基于 LLaMA 的指令微调模型。", "Google 发布了 PaLM 和 PaLM-2。"]
    wrong = verify("Alpaca 是由哪所大学发布的？", "Alpaca 是由 Google 开发的。", chunks, "zh")
    assert wrong.scores["unsupported"] == ["Google"]
    right = verify("PaLM 是谁发布的？", "PaLM 是 Google 发布的 [2]。", chunks, "zh")
    assert right.scores["unsupported"] == []


def test_a_figure_asked_for_must_be_given_and_come_from_the_subjects_document() -> None:
    chunks = ["Baichuan-7B 的训练目标是语言模型。", "PaLM 用了6144块TPU训练。"]
    sources = ["notes.txt", "palm.txt"]
    question = "Baichuan-7B 预训练一共用了多少 token？"
    borrowed = verify(question, "Baichuan-7B 用了 6144 token [2]。", chunks, "zh", sources)
    assert borrowed.scores["unsupported"] == ["6144"]
    echo = verify(question, "Baichuan-7B 预训练一共用了多少 token [1]。", chunks, "zh", sources)
    assert echo.scores["figure_missing"]
    assert ab.support_says_abstain(echo.scores, AbstentionSettings())
    # the same figure from a document about the subject, though its passage omits the name
    chunks = ["ChatGPT 的训练分三个阶段。", "第二阶段：用约33K个人工标注数据训练奖励模型。"]
    question = "ChatGPT 训练奖励模型用了多少人工标注数据？"
    found = verify(question, "约33K个 [2]。", chunks, "zh", ["chatgpt.txt", "chatgpt.txt"])
    assert found.scores["unsupported"] == [] and not found.scores["figure_missing"]


def test_english_words_and_list_numbers_are_not_facts() -> None:
    answer = "It relies on:1. **Grouped Query Attention**: This saves memory.2. Self Attention."
    assert facts(answer) == []
    assert facts("GPT-3.5 has 175B parameters.") == ["175", "3.5", "GPT-3.5", "175B"]


def test_an_answer_that_restates_the_question_says_nothing_new() -> None:
    question = "GPT-3 的参数量是 GPT-2 的多少倍?"
    echo = "根据资料，GPT-3 的参数量是 GPT-2 的多少倍 [1]。"
    assert novelty(question, echo) == 0.0
    assert novelty(question, "GPT-3 有1750亿参数，GPT-2 有15亿。") > 0.2
    scores = verify(question, echo, ["GPT-3 有1750亿参数。"], "zh").scores
    assert scores["figure_missing"]  # a figure was asked for: withheld by the facts check
    question = "大模型能力随规模提升的规律叫什么？"
    echo = "大模型能力随规模提升的规律叫什么 [1]。"
    scores = verify(question, echo, ["这种规律被称为标度律。"], "zh").scores
    assert scores["novelty"] == 0.0 and not scores["figure_missing"]
    assert ab.support_says_abstain(scores, AbstentionSettings(abstain_min_novelty=0.1))
    lenient = AbstentionSettings(abstain_min_novelty=0.0, abstain_min_support=0.0)
    assert not ab.support_says_abstain(scores, lenient)


def test_evidence_needs_the_question_names_and_a_close_chunk() -> None:
    config = AbstentionSettings(abstain_min_dense=0.7, abstain_min_coverage=0.5)
    absent = ab.evidence_scores("Mixtral 8x7B有多少个专家？", [doc(MISTRAL)])
    assert absent["missing_names"] == ["Mixtral", "8x7B"]
    assert ab.evidence_says_abstain(absent, config)
    present = ab.evidence_scores("Mistral-7B用了什么注意力技术？", [doc(MISTRAL)])
    assert present["missing_names"] == [] and present["coverage"] > 0.5
    assert not ab.evidence_says_abstain(present, config)
    far = ab.evidence_scores("知库的吉祥物是什么？", [doc(MISTRAL, dense=0.3)])
    assert far["coverage"] == 0 and ab.evidence_says_abstain(far, config)


def test_reasoning_that_found_nothing() -> None:
    assert text.reasoning_finds_nothing("段落[1]讲的是注意力，没有任何段落包含窗口大小的答案。")
    assert text.reasoning_finds_nothing("None of the passages mention the window size.")
    assert not text.reasoning_finds_nothing("段落[1]说GPT-1共12层。")
