"""Weighted reciprocal-rank fusion, by hand."""

from __future__ import annotations

import pytest

from app.retrieval.hybrid import rrf


def test_rrf_by_hand() -> None:
    fused = rrf({"dense": ["a", "b"], "bm25": ["b", "c"]}, {"dense": 1, "bm25": 1}, k=1)
    # best possible = 2/2 = 1; a = 1/2, b = 1/3 + 1/2, c = 1/3
    assert fused == pytest.approx({"a": 0.5, "b": 5 / 6, "c": 1 / 3})
    weighted = rrf({"dense": ["a"], "bm25": ["b"]}, {"dense": 1, "bm25": 0.5}, k=0)
    assert weighted["a"] > weighted["b"]


def test_entity_terms_are_names_and_quoted_terms_once_each() -> None:
    from app.retrieval.hybrid import _near, entity_terms

    assert entity_terms("GPT-1模型有多少层、多少个注意力头?") == ["GPT-1"]
    assert entity_terms("《泡泡战士》里 LLaMA-2 和 llama2 有什么不同？") == ["LLaMA-2", "泡泡战士"]
    assert entity_terms("大模型是什么？") == []
    # the chunk whose text around the term holds the question's words wins
    near = "GPT-1模型基本参数?答案:12层、12个head"
    far = "GPT-1采用无监督训练。" + "无关内容。" * 20 + "模型有很多层。"
    assert _near(near, "GPT-1", ["模型", "层"]) == 3 > _near(far, "GPT-1", ["模型", "层"])
