"""The prompt files render as the settings ask: pure logic, no model."""

from __future__ import annotations

from app.answering import prompts


def test_answer_first_is_a_setting_and_chain_of_thought_keeps_its_reasoning_first() -> None:
    chunk = [prompts.ContextChunk(1, "a.txt", None, "GPT-1有12层。")]
    for lang, concise, first in [
        ("zh", "用简洁的中文回答", "第一句直接回答问题"),
        ("en", "Answer concisely", "Answer the question in the first sentence"),
    ]:
        plain = prompts.answer_messages("zero-shot", "q", chunk, lang)[0][1]
        asked = prompts.answer_messages("zero-shot", "q", chunk, lang, answer_first=True)[0][1]
        cot = prompts.answer_messages("cot", "q", chunk, lang, answer_first=True)[0][1]
        assert concise in plain and first not in plain
        assert first in asked and concise not in asked
        assert concise in cot and first not in cot
