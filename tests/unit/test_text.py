"""The shared text rules: one definition of Chinese, tokens, citation markers, refusals."""

from __future__ import annotations

import pytest

from app import text
from app.answering.citations import cited_numbers
from app.answering.verification import facts


def test_han_covers_extension_a_and_compatibility_ideographs() -> None:
    assert text.has_han("㐀") and text.has_han("中") and text.has_han("豈")
    assert not text.has_han("GPT-1, ｱ, 한")
    assert text.detect_language("GPT-1有几层？") == "zh"
    assert text.detect_language("How many layers?") == "en"


@pytest.mark.parametrize(
    "marked", ["GPT-1共12层[1, 2]。", "GPT-1共12层 【1，2】。", "GPT-1共12层[1、2]。"]
)
def test_every_marker_form_is_read_and_stripped_alike(marked: str) -> None:
    assert cited_numbers(marked) == [1, 2]
    assert text.strip_citations(marked) == "GPT-1共12层。"
    # the facts check sees no citation numbers, whatever the marker's form
    assert facts(marked) == ["1", "12", "GPT-1"]


def test_refusals_by_sentence_and_by_phrase() -> None:
    sentence = "资料中没有找到答案。"
    assert text.is_refusal("资料中没有找到答案", [sentence], phrases=False)
    assert text.is_refusal("I could not find the answer.")
    assert text.is_refusal("   ")
    assert not text.is_refusal("GPT-1 共 12 层。")
    # "不包含" is a refusal phrase for evaluation, but an answer for the chain
    assert text.is_refusal("GPT-1 不包含编码器。")
    assert not text.is_refusal("GPT-1 不包含编码器。", [sentence], phrases=False)


def test_tokens_are_shared_by_bm25_and_overlap() -> None:
    assert text.tokenize("ＧＰＴ－１模型") == ["gpt-1", "模", "型", "模型"]
