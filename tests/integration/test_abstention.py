"""When not to answer, inside the real chain (the rules alone: tests/unit/)."""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from app.answering.chain import build_rag_chain
from tests.helpers import zhiku


def test_unanswerable_question_abstains_before_the_model(kb_settings) -> None:
    result = zhiku(kb_settings, "ask", "Mixtral 8x7B的专家数量是多少？", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["answer"] == "资料中没有找到答案。"
    assert data["abstention"]["abstained"] and data["abstention"]["signal"] == "evidence"
    assert data["abstention"]["scores"]["evidence"]["missing_names"] == ["Mixtral", "8x7B"]
    assert data["contexts"], "the closest passages are still shown"
    assert data["tokens"] == {}  # the model was never asked


def test_answerable_question_is_answered(kb_settings) -> None:
    result = build_rag_chain(kb_settings).invoke("GPT-1有多少层?")
    assert not result["abstention"]["abstained"], result["abstention"]
    assert "12" in result["answer"] and result["citations"]


@pytest.mark.parametrize("strategy", ["zero-shot", "cot"])
def test_an_invented_number_is_withheld_in_the_chain(kb_settings, strategy: str) -> None:
    chain = build_rag_chain(kb_settings, strategy=strategy)
    draft = "GPT-1共有48层，参数量约1.17亿 [1]。"
    reply = f"推理：段落[1]提到GPT-1。\n最终答案：{draft}" if strategy == "cot" else draft
    chain.model = GenericFakeChatModel(messages=iter([AIMessage(content=reply)]))
    result = chain.invoke("GPT-1有多少层?")
    assert result["answer"] == "资料中没有找到答案。"
    assert result["abstention"]["signal"] == "support"
    assert result["abstention"]["scores"]["support"]["unsupported"] == ["48"]
    assert result["draft"].startswith("GPT-1共有48层") and result["citations"] == []


def test_abstention_can_be_switched_off(kb_settings) -> None:
    # The setting alone must switch it off (ZHIKU_ABSTAIN=false).
    chain = build_rag_chain(kb_settings.updated(**{"abstain": False}))
    chain.model = GenericFakeChatModel(messages=iter([AIMessage(content="GPT-1共有48层 [1]。")]))
    result = chain.invoke("GPT-1有多少层?")
    assert result["answer"].startswith("GPT-1共有48层")
    assert not result["abstention"]["abstained"]
    assert result["abstention"]["scores"]["support"]["unsupported"] == ["48"]  # still measured


def test_an_invented_tail_is_cut_in_the_chain(kb_settings) -> None:
    chain = build_rag_chain(kb_settings)
    draft = "GPT-1共有12层 [1]。它有48个注意力头。"
    chain.model = GenericFakeChatModel(messages=iter([AIMessage(content=draft)]))
    result = chain.invoke("GPT-1有多少层?")
    assert not result["abstention"]["abstained"]
    assert result["answer"].startswith("GPT-1共有12层") and "48" not in result["answer"]
    assert result["draft"] == draft and result["citations"]
    assert result["abstention"]["scores"]["support"]["unsupported"] == ["48"]
