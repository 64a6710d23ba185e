"""FAQ entries in the feedback export: the curated answer is the reference for its
question and each phrasing, and a 👎 whose question the FAQ now answers needs no review."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from app.conversations.store import DOWN, ConversationStore
from app.evaluation.dataset import count_needing_review, load_questions
from app.evaluation.feedback import export_feedback
from app.faq.store import FaqDraft, FaqStore
from tests.unit.test_conversations import result


def test_faq_entries_are_reference_answers_and_close_a_thumbs_down(tmp_path: Path) -> None:
    conversations = ConversationStore(f"sqlite:///{tmp_path / 'c.sqlite'}")
    cid = conversations.create("me", "GPT-1有几层？", "samples")
    bad = conversations.add_exchange(cid, "GPT-1有几层？", result("6层"), "samples", "qwen")
    bert = result("?") | {"standalone_question": "BERT有几层？"}
    other = conversations.add_exchange(cid, "BERT有几层？", bert, "samples", "qwen")
    conversations.rate(bad, DOWN, "应为12层")
    conversations.rate(other, DOWN)

    faq = FaqStore(f"sqlite:///{tmp_path / 'faq.sqlite'}")
    vectors = np.ones((2, 4), dtype=np.float32)
    draft = FaqDraft("GPT-1 有几层？", "GPT-1 共 12 层。", ("GPT-1 的层数",), "简史.txt")
    entry = faq.add("samples", draft, "alice", vectors, "m")

    out = tmp_path / "rated.jsonl"
    counts = export_feedback(conversations.rated_answers(), out, faq.every_entry())
    assert (counts.up, counts.down, counts.faq) == (0, 2, 2)
    lines = {line["id"]: line for line in map(json.loads, out.read_text().splitlines())}

    closed = lines[f"feedback-{bad}"]
    assert closed["answers"] == ["GPT-1 共 12 层。"] and "needs_review" not in closed
    assert closed["answered_by_faq"] == entry.id
    assert lines[f"feedback-{other}"]["needs_review"] is True  # no entry answers it

    question, phrasing = lines[f"faq-samples-{entry.id}"], lines[f"faq-samples-{entry.id}-1"]
    assert (question["question"], phrasing["question"]) == ("GPT-1 有几层？", "GPT-1 的层数")
    assert question["kind"] == "faq" and question["answers"] == ["GPT-1 共 12 层。"]
    assert question["faq"]["author"] == "alice" and question["faq"]["source"] == "简史.txt"

    loaded = {q.id: q for q in load_questions(out)}
    assert set(loaded) == {
        f"feedback-{bad}",
        f"faq-samples-{entry.id}",
        f"faq-samples-{entry.id}-1",
    }
    assert loaded[f"faq-samples-{entry.id}-1"].answers == ["GPT-1 共 12 层。"]
    assert count_needing_review([out]) == 1
