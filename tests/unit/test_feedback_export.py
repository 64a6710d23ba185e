"""Rated answers become question lines that `zhiku eval` reads."""

from __future__ import annotations

import json
from pathlib import Path

from app.conversations.store import DOWN, UP, ConversationStore
from app.evaluation.dataset import count_needing_review, load_questions
from app.evaluation.feedback import export_feedback
from tests.unit.test_conversations import result


def test_thumbs_up_becomes_a_reference_and_thumbs_down_a_question_to_review(
    tmp_path: Path,
) -> None:
    store = ConversationStore(f"sqlite:///{tmp_path / 'c.sqlite'}")
    cid = store.create("me", "GPT-1有几层？", "samples")
    good = store.add_exchange(cid, "GPT-1有几层？", result("12层 [1]"), "samples", "qwen")
    bad = store.add_exchange(
        cid, "它的参数量呢？", result("1.5亿", source="x.txt", cited=False), "samples", "qwen"
    )
    store.add_exchange(cid, "unrated", result("..."), "samples", "qwen")
    store.rate(good, UP)
    store.rate(bad, DOWN, "应为1.17亿")

    out = tmp_path / "feedback" / "rated.jsonl"
    counts = export_feedback(store.rated_answers(), out)
    assert (counts.up, counts.down) == (1, 1)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    up, down = sorted(lines, key=lambda line: line["kind"], reverse=True)

    assert up["kind"] == "feedback-up" and up["answers"] == ["12层 [1]"]
    assert up["question"] == "GPT-1有几层？"  # the standalone question, not the follow-up
    assert up["sources"] == ["a.txt"] and up["evidence"] == ["GPT-1 有 12 层"]

    assert down["needs_review"] is True and down["answers"] == []
    assert down["answer_given"] == "1.5亿" and down["asked"] == "它的参数量呢？"
    assert down["sources_retrieved"] == ["x.txt", "b.md"]
    assert down["feedback"]["comment"] == "应为1.17亿"
    assert down["feedback"]["rating"] == "down"

    # The file is a question set: eval reads the reviewed line and skips the other.
    questions = load_questions(out)
    assert [q.id for q in questions] == [up["id"]]
    assert questions[0].answers == ["12层 [1]"] and questions[0].sources == ["a.txt"]
    assert count_needing_review([out]) == 1
