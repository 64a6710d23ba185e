"""The chat with a conversation database that cannot be used, and a conversation whose
knowledge base was deleted (streamlit.testing; the real chain, model and Chroma)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.conversations.store import ConversationStore, conversations_url
from app.settings import get_settings
from tests.helpers import open_chat_app


@pytest.fixture
def unusable_db_settings(kb_settings, tmp_path: Path):
    broken = tmp_path / "conversations.sqlite"
    broken.write_bytes(b"\x00garbage, not SQLite\x00" * 200)
    return kb_settings.updated(**{"conversations_url": f"sqlite:///{broken}", "language": "zh"})


def test_a_corrupt_conversation_database_still_answers_with_one_line(
    unusable_db_settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_chat_app(unusable_db_settings, monkeypatch)
    try:
        assert not app.exception
        sidebar_warnings = [w.value for w in app.sidebar.warning]
        assert "对话记录无法保存：数据库文件已损坏。" in sidebar_warnings, sidebar_warnings
        app.chat_input[0].set_value("GPT-1有多少层?").run()
        assert not app.exception
        assistant = app.chat_message[1]
        assert "12" in " ".join(m.value for m in assistant.markdown)  # answered anyway
        note = " ".join(w.value for w in assistant.warning)
        assert "对话记录无法保存" in note and "\n" not in note  # one line: not saved
    finally:
        get_settings.cache_clear()


def test_a_conversation_of_a_deleted_knowledge_base_stays_readable(
    kb_settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = kb_settings.model_copy(
        update={
            "conversations_url": f"sqlite:///{tmp_path / 'c.sqlite'}",
            "shared_history": True,
            "language": "en",
        }
    )
    store = ConversationStore(conversations_url(settings))
    cid = store.create("someone", "旧知识库里的问题", "deleted-kb")
    result = {
        "answer": "旧的回答 [1]",
        "contexts": [],
        "citations": [],
        "strategy": "zero-shot",
        "abstention": {"abstained": False, "signal": None, "scores": {}},
        "draft": "",
    }
    store.add_exchange(cid, "旧知识库里的问题", result, "deleted-kb", "qwen")

    app = open_chat_app(settings, monkeypatch)
    try:
        app.button(key=f"open-{cid}").click().run()
        assert not app.exception
        assert [m.name for m in app.chat_message] == ["user", "assistant"]
        assert "旧的回答" in app.chat_message[1].markdown[0].value
        note = " ".join(w.value for w in app.warning)
        assert "deleted\\-kb" in note and "stays readable" in note
        assert app.selectbox(key="kb").value == "chain"  # questions go to an existing one
    finally:
        get_settings.cache_clear()
