"""The conversation store on a real SQLite file: list, open, rename, delete, feedback,
owners, and the one-line errors of a database that is corrupt, read-only or locked."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from app.conversations.export import to_markdown
from app.conversations.store import (
    DOWN,
    UP,
    ConversationStore,
    ConversationStoreError,
    title_for,
)


def result(answer: str, source: str = "a.txt", cited: bool = True) -> dict:
    contexts = [
        {"n": 1, "source": source, "page": None, "chunk_id": "c1", "text": "GPT-1 有 12 层。",
         "score": 0.9, "scores": {}, "start": 0, "end": 10},
        {"n": 2, "source": "b.md", "page": 3, "chunk_id": "c2", "text": "# 标题\n其他内容",
         "score": 0.5, "scores": {}, "start": 0, "end": 8},
    ]  # fmt: skip
    citations = (
        [{"n": 1, "source": source, "page": None, "chunk_id": "c1", "quote": "GPT-1 有 12 层",
          "inferred": False}] if cited else []
    )  # fmt: skip
    return {
        "event": "result",
        "question": "它有几层？",
        "standalone_question": "GPT-1有几层？",
        "answer": answer,
        "contexts": contexts,
        "citations": citations,
        "strategy": "zero-shot",
        "timings": {"total_s": 3.25},
    }


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(f"sqlite:///{tmp_path / 'conversations.sqlite'}", timeout_s=0.5)


def test_conversations_are_listed_newest_first_per_owner(store: ConversationStore) -> None:
    first = store.create("browser-a", "GPT-1有多少层？", "samples")
    time.sleep(0.01)
    second = store.create("browser-a", "什么是RAG？", "samples")
    other = store.create("browser-b", "别人的问题", "samples")
    assert [c.id for c in store.list("browser-a")] == [second, first]
    assert [c.id for c in store.list("browser-b")] == [other]
    assert {c.id for c in store.list(None)} == {first, second, other}  # shared history
    time.sleep(0.01)
    store.add_exchange(first, "GPT-1有多少层？", result("12层 [1]"), "samples", "qwen")
    assert store.list("browser-a")[0].id == first  # an answered conversation moves up
    assert store.get(first, owner="browser-b") is None  # another browser's stays hidden


def test_a_conversation_keeps_questions_answers_sources_and_history(store) -> None:
    cid = store.create("me", "GPT-1有多少层？", "samples")
    store.add_exchange(cid, "GPT-1有多少层？", result("12层 [1]"), "samples", "qwen-0.5b")
    mid = store.add_exchange(cid, "它的参数量呢？", result("1.17亿 [1]"), "notes", "qwen-0.5b")
    conversation = store.get(cid, owner="me")
    assert conversation is not None
    assert [m.role for m in conversation.messages] == ["user", "assistant"] * 2
    answer = conversation.messages[-1]
    assert answer.id == mid
    assert answer.result["contexts"][0]["source"] == "a.txt"
    assert "event" not in answer.result
    assert answer.knowledge_base == "notes" and answer.model == "qwen-0.5b"
    assert conversation.knowledge_base == "notes"  # follows the latest question
    assert conversation.history()[:2] == [
        {"role": "user", "content": "GPT-1有多少层？"},
        {"role": "assistant", "content": "12层 [1]"},
    ]


def test_rename_delete_and_titles(store: ConversationStore) -> None:
    cid = store.create("me", "  一个\n很长的问题" * 10, "samples")
    title = store.get(cid).title
    assert "\n" not in title and len(title) == 40 and title.endswith("…")
    store.rename(cid, "  新的\t名字 ")
    assert store.get(cid).title == "新的 名字"
    store.rename(cid, "   ")  # an empty name keeps the old one
    assert store.get(cid).title == "新的 名字"
    store.add_exchange(cid, "q", result("a"), "samples", "m")
    store.delete(cid)
    assert store.get(cid) is None
    assert store.list("me") == []
    with sqlite3.connect(store.url.removeprefix("sqlite:///")) as db:
        assert db.execute("select count(*) from messages").fetchone() == (0,)  # cascade
    assert title_for("短问题") == "短问题"


def test_feedback_is_stored_with_the_answer(store: ConversationStore) -> None:
    cid = store.create("me", "q1", "samples")
    good = store.add_exchange(cid, "q1", result("好答案"), "samples", "m")
    bad = store.add_exchange(cid, "q2", result("坏答案"), "samples", "m")
    store.rate(bad, DOWN, "  数字不对  ")
    store.rate(good, UP)
    rated = store.rated_answers()
    assert [(r.question, r.rating, r.comment) for r in rated] == [
        ("q2", DOWN, "数字不对"),
        ("q1", UP, ""),
    ]
    assert store.get(cid).messages[3].rating == DOWN
    store.rate(bad, None)
    assert [r.message_id for r in store.rated_answers()] == [good]
    questions = [m.id for m in store.get(cid).messages if m.role == "user"]
    with pytest.raises(ConversationStoreError):
        store.rate(questions[0], UP)  # only answers are rated


def test_markdown_export_has_numbered_sources(store: ConversationStore) -> None:
    cid = store.create("me", "GPT-1有多少层？", "samples")
    mid = store.add_exchange(cid, "GPT-1有多少层？", result("12层 [1]"), "samples", "qwen")
    store.rate(mid, DOWN, "太短")
    text = to_markdown(store.get(cid))
    assert text.startswith("# GPT-1有多少层？\n")
    assert "## 问 Q: GPT-1有多少层？" in text
    assert "12层 [1]" in text
    assert "1. a.txt ✅" in text
    assert "2. b.md, 第3页\n   > # 标题 其他内容" in text  # a heading in a source stays quoted
    assert "👎 太短" in text and "3.2 s" in text


def test_a_corrupt_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = ConversationStore(f"sqlite:///{path}")
    with pytest.raises(ConversationStoreError) as caught:
        store.list("me")
    assert "not a database" in str(caught.value) and "\n" not in str(caught.value)


def test_a_read_only_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite"
    ConversationStore(f"sqlite:///{path}").create("me", "q", "samples")
    # As SQLite sees a file it may not write (tests run as root, so chmod would not do)
    store = ConversationStore(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert [c.title for c in store.list("me")] == ["q"]  # reading still works
    with pytest.raises(ConversationStoreError, match="readonly"):
        store.create("me", "another", "samples")


def test_a_locked_database_is_one_line_after_the_timeout(store: ConversationStore) -> None:
    store.create("me", "q", "samples")
    holder = sqlite3.connect(store.url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(ConversationStoreError, match="locked"):
            store.create("me", "while locked", "samples")
        assert time.monotonic() - started < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.create("me", "after", "samples")  # usable again once the lock is gone
