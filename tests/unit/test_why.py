"""The "why this answer" panel: the trace's facts, read from a result."""

from __future__ import annotations

from typing import Any

import pytest

from app.ui import i18n
from app.ui.why import why_lines


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "current_language", lambda: "en")


def _result(**changes: Any) -> Any:
    result = {
        "question": "它有多少层？",
        "standalone_question": "GPT-1有多少层？",
        "strategy": "grounded",
        "backend": "local: qwen2.5-coder-1.5b",
        "contexts": [
            {"n": 1, "source": "a.md", "scores": {"dense": 0.91, "bm25": 12.5, "fused": 1.0}},
            {"n": 2, "source": "b.md", "scores": {"bm25": 3.0, "fused": 0.4, "entity": 1.0}},
        ],
        "abstention": {"abstained": False, "signal": None, "scores": {"support": {"support": 0.9}}},
        "tokens": {"input_tokens": 420, "output_tokens": 17},
        "timings": {"retrieval_s": 0.05, "first_token_s": 6.2, "total_s": 9.8},
    }
    return {**result, **changes}


def test_the_panel_names_each_step_of_the_answer() -> None:
    lines = why_lines(_result())
    text = "\n".join(lines)
    assert "GPT-1有多少层？" in text  # the question actually searched (a follow-up rewritten)
    assert "[1] a.md: dense 0.910 · bm25 12.500 · fused 1.000" in lines
    assert "[2] b.md: bm25 3.000 · fused 0.400 · entity channel" in lines
    assert "decision: answered" in text and "0.90" in text
    assert "420 tokens" in text and "17 tokens" in text  # the times are in the caption above


def test_a_withheld_answer_says_which_check_decided() -> None:
    withheld = _result(abstention={"abstained": True, "signal": "selection", "scores": {}})
    assert any("no evidence sentence chosen" in line for line in why_lines(withheld))
    same = _result(standalone_question="它有多少层？")
    assert not any("searched as" in line for line in why_lines(same))


def test_an_older_saved_result_still_explains_itself() -> None:
    """Conversations saved before a field existed hold shorter results."""
    lines = why_lines({"question": "q", "answer": "a", "contexts": []})  # type: ignore[typeddict-item]
    assert any("strategy: ?" in line for line in lines)


def test_the_panel_speaks_the_chosen_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "current_language", lambda: "zh")
    text = "\n".join(why_lines(_result()))
    assert "判定：已回答" in text and "实体通道" in text and "answered" not in text
