"""The strong / partial / weak label of a source (app/retrieval/relevance.py)."""

from __future__ import annotations

import itertools

import pytest
from langchain_core.documents import Document

from app.retrieval import relevance
from app.settings import RetrievalSettings

CONFIG = RetrievalSettings()
QUESTION = "GPT-1有多少层?"
ANSWER = "GPT-1模型基本参数:12层、12个head、768维、参数量1.17亿。"
UNRELATED = "泡泡战士是多人在线游戏,玩家以水枪泡封敌人。"


def _doc(text: str, **scores: float) -> Document:
    return Document(page_content=text, metadata={"scores": dict(scores)})


def test_thresholds_split_the_probability_in_three() -> None:
    strong, partial = CONFIG.relevance_strong, CONFIG.relevance_partial
    assert 0 < partial < strong < 1
    assert relevance.label(CONFIG, strong) == "strong"
    assert relevance.label(CONFIG, 1.0) == "strong"
    assert relevance.label(CONFIG, strong - 1e-6) == "partial"
    assert relevance.label(CONFIG, partial) == "partial"
    assert relevance.label(CONFIG, partial - 1e-6) == "weak"
    assert relevance.label(CONFIG, 0.0) == "weak"


def test_thresholds_are_settings() -> None:
    strict = RetrievalSettings(relevance_strong=0.9, relevance_partial=0.5)
    assert relevance.label(strict, 0.6) == "partial"
    assert relevance.label(strict, 0.4) == "weak"


def test_the_label_never_falls_as_the_probability_rises() -> None:
    order = {"weak": 0, "partial": 1, "strong": 2}
    labels = [order[relevance.label(CONFIG, p / 100)] for p in range(101)]
    assert labels == sorted(labels) and set(labels) == {0, 1, 2}


@pytest.mark.parametrize("signal", ["dense", "fused"])
def test_the_probability_rises_with_each_score(signal: str) -> None:
    base = {"dense": 0.8, "fused": 0.5}
    probabilities = [
        relevance.probability(CONFIG, QUESTION, _doc(ANSWER, **{**base, signal: value}))
        for value in (0.0, 0.3, 0.6, 0.9, 1.0)
    ]
    assert all(a < b for a, b in itertools.pairwise(probabilities))


def test_a_chunk_with_the_question_words_is_more_relevant_than_one_without() -> None:
    assert relevance.coverage(QUESTION, ANSWER) == 1.0
    assert relevance.coverage(QUESTION, UNRELATED) == 0.0
    scores = {"dense": 0.85, "fused": 1.0}
    with_words = relevance.probability(CONFIG, QUESTION, _doc(ANSWER, **scores))
    without = relevance.probability(CONFIG, QUESTION, _doc(UNRELATED, **scores))
    assert without < with_words


def test_ranked_first_is_not_enough_to_be_strong() -> None:
    """The old displayed score: 1.0 for the first source whatever it said."""
    top_but_unrelated = _doc(UNRELATED, dense=0.8, fused=1.0)
    [doc] = relevance.annotate(CONFIG, QUESTION, [top_but_unrelated])
    assert doc.metadata["relevance"] == "weak"


def test_annotate_keeps_the_probability_beside_the_other_scores() -> None:
    [doc] = relevance.annotate(CONFIG, QUESTION, [_doc(ANSWER, dense=0.9, fused=1.0)])
    assert doc.metadata["relevance"] == "strong"
    assert 0.5 <= doc.metadata["scores"]["relevance"] <= 1.0
    assert doc.metadata["scores"]["dense"] == 0.9


def test_a_chunk_without_scores_is_weak() -> None:
    [doc] = relevance.annotate(CONFIG, QUESTION, [Document(page_content=UNRELATED)])
    assert doc.metadata["relevance"] == "weak"
