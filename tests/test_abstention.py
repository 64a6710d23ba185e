"""When not to answer: the evidence and support checks, alone and inside the chain."""

from __future__ import annotations

import json

import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from app import abstention as ab
from app.chains import build_rag_chain
from tests.conftest import zhiku
from tests.test_chains import kb_settings  # noqa: F401 - shared knowledge base fixture

MISTRAL = "Mistral-7B\n模型特点:70亿参数的语言模型,采用分组查询注意力和滑动窗口注意力技术。"


def doc(text: str, dense: float = 0.8) -> Document:
    return Document(page_content=text, metadata={"scores": {"dense": dense}})


def test_normalise_makes_numbers_comparable() -> None:
    assert ab.normalise("ＧＰＴ－１有十二层") == "gpt-1有12层"
    assert ab.normalise("参数量约1.17亿") == "参数量约117000000"
    assert ab.normalise("七十亿参数") == ab.normalise("70亿参数") == "7000000000参数"
    assert ab.normalise("1,024 个") == "1024 个"


def test_names_are_latin_tokens_that_look_like_names() -> None:
    assert ab.names("Which attention does Mistral-7B use? Ask OpenAI or Meta.") == [
        "Mistral-7B", "OpenAI", "Meta",
    ]  # fmt: skip
    assert ab.names("GPT-3和LLaMA-2的区别") == ["GPT-3", "LLaMA-2"]


def test_an_invented_number_is_caught() -> None:
    invented = ab.support_scores("Mistral-7B的滑动窗口大小是4096 [1]。", [MISTRAL], "zh")
    assert invented["unsupported"] == ["4096"]
    assert ab.support_says_abstain(invented, ab.AbstentionConfig())
    faithful = ab.support_scores(
        "Mistral-7B有七十亿参数，用了滑动窗口注意力 [1]。", [MISTRAL], "zh"
    )
    assert faithful["unsupported"] == [] and faithful["support"] >= 0.75
    assert not ab.support_says_abstain(faithful, ab.AbstentionConfig(min_support=0.5))
    quoted = ab.support_scores("它叫“长程注意力”。", [MISTRAL], "zh")
    assert quoted["unsupported"] == ["长程注意力"]


def test_evidence_needs_the_question_names_and_a_close_chunk() -> None:
    config = ab.AbstentionConfig(min_dense=0.7, min_coverage=0.5)
    absent = ab.evidence_scores("Mixtral 8x7B有多少个专家？", [doc(MISTRAL)])
    assert absent["missing_names"] == ["Mixtral", "8x7B"]
    assert ab.evidence_says_abstain(absent, config)
    present = ab.evidence_scores("Mistral-7B用了什么注意力技术？", [doc(MISTRAL)])
    assert present["missing_names"] == [] and present["coverage"] > 0.5
    assert not ab.evidence_says_abstain(present, config)
    far = ab.evidence_scores("知库的吉祥物是什么？", [doc(MISTRAL, dense=0.3)])
    assert far["coverage"] == 0 and ab.evidence_says_abstain(far, config)


def test_reasoning_that_found_nothing() -> None:
    assert ab.reasoning_finds_nothing("段落[1]讲的是注意力，没有任何段落包含窗口大小的答案。")
    assert ab.reasoning_finds_nothing("None of the passages mention the window size.")
    assert not ab.reasoning_finds_nothing("段落[1]说GPT-1共12层。")


def test_unanswerable_question_abstains_before_the_model(kb_settings) -> None:  # noqa: F811
    result = zhiku(kb_settings, "ask", "Mixtral 8x7B的专家数量是多少？", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["answer"] == "资料中没有找到答案。"
    assert data["abstention"]["abstained"] and data["abstention"]["signal"] == "evidence"
    assert data["abstention"]["scores"]["evidence"]["missing_names"] == ["Mixtral", "8x7B"]
    assert data["contexts"], "the closest passages are still shown"
    assert data["tokens"] == {}  # the model was never asked


def test_answerable_question_is_answered(kb_settings) -> None:  # noqa: F811
    result = build_rag_chain(kb_settings).invoke("GPT-1有多少层?")
    assert not result["abstention"]["abstained"], result["abstention"]
    assert "12" in result["answer"] and result["citations"]


@pytest.mark.parametrize("strategy", ["zero-shot", "cot"])
def test_an_invented_number_is_withheld_in_the_chain(kb_settings, strategy: str) -> None:  # noqa: F811
    chain = build_rag_chain(kb_settings, strategy=strategy)
    draft = "GPT-1共有48层，参数量约1.17亿 [1]。"
    reply = f"推理：段落[1]提到GPT-1。\n最终答案：{draft}" if strategy == "cot" else draft
    chain.model = GenericFakeChatModel(messages=iter([AIMessage(content=reply)]))
    result = chain.invoke("GPT-1有多少层?")
    assert result["answer"] == "资料中没有找到答案。"
    assert result["abstention"]["signal"] == "support"
    assert result["abstention"]["scores"]["support"]["unsupported"] == ["48"]
    assert result["draft"].startswith("GPT-1共有48层") and result["citations"] == []


def test_abstention_can_be_switched_off(kb_settings) -> None:  # noqa: F811
    chain = build_rag_chain(kb_settings.model_copy(update={"abstain": False}))
    chain.abstention = ab.AbstentionConfig(enabled=False)
    chain.model = GenericFakeChatModel(messages=iter([AIMessage(content="GPT-1共有48层 [1]。")]))
    result = chain.invoke("GPT-1有多少层?")
    assert result["answer"].startswith("GPT-1共有48层")
    assert not result["abstention"]["abstained"]
    assert result["abstention"]["scores"]["support"]["unsupported"] == ["48"]  # still measured
