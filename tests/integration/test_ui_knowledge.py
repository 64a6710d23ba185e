"""Knowledge-base management and the errors a user meets, driven by streamlit.testing.

Real embeddings, real Chroma and the real local model; each test starts a fresh app
on one module-wide data folder, as a user reloading the page would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.settings import Settings
from tests.helpers import MODELS_DIR, free_port, open_chat_app

NOTE = "知库项目的代号是青鸟。青鸟的第一个版本在杭州发布，发布时只支持中文文档。".encode()


@pytest.fixture(scope="module")
def ui_settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path) -> Settings:
    """An empty data folder whose default knowledge base gets the samples on first start."""
    from app.settings import load_settings

    return load_settings(
        data_dir=tmp_path_factory.mktemp("ui-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="samples",
        top_k=3,
        max_tokens=64,
        max_file_mb=0.02,  # 20 kB, so the oversized upload stays small
        language="en",
    )


def ask(app: AppTest, question: str):
    app.switch_page("views/chat.py").run()
    app.chat_input[0].set_value(question).run()
    assert not app.exception, app.exception
    return app.chat_message[-1]


def plain(markdown: str) -> str:
    """What the reader sees of escaped Markdown (the backslashes are not shown)."""
    return markdown.replace("\\", "")


def sources(message) -> list[str]:
    return [expander.label for expander in message.expander]


def has(widgets, key: str) -> bool:
    return any(w.key == key for w in widgets)


def upload(app: AppTest, *files: tuple[str, bytes]) -> None:
    app.switch_page("views/knowledge.py").run()
    app.file_uploader[0].set_value([(name, data, "text/plain") for name, data in files]).run()
    if has(app.button, "ingest_uploads"):  # absent when no file can be added
        app.button(key="ingest_uploads").click().run()
    assert not app.exception, app.exception


def test_first_start_indexes_the_samples(ui_settings, monkeypatch) -> None:
    app = open_chat_app(ui_settings, monkeypatch)
    assert int(app.sidebar.caption.values[0].split()[0]) > 20
    assert any("Samples indexed" in s.label for s in app.status)


def test_create_upload_ask_switch_and_delete(ui_settings, monkeypatch) -> None:
    app = open_chat_app(ui_settings, monkeypatch)
    app.switch_page("views/knowledge.py").run()
    app.text_input(key="new_kb_name").set_value("notes")
    app.text_input(key="new_kb_description").set_value("团队的项目笔记")
    app.button(key="create_kb").click().run()
    assert app.selectbox(key="kb").value == "notes"
    overview = app.dataframe[0].value  # every knowledge base, with its description
    assert list(overview.iloc[:, 0]) == ["notes", "samples"]
    assert overview.iloc[0, 4] == "团队的项目笔记"
    assert app.text_input(key="new_kb_name").value == ""  # the form is ready for another

    upload(app, ("../../evil.txt", NOTE))
    folder = ui_settings.storage.uploads_dir / "notes"
    assert [p.name for p in folder.iterdir()] == ["evil.txt"]  # inside the KB folder
    assert not (ui_settings.storage.data_dir / "evil.txt").exists()
    assert not (ui_settings.storage.data_dir.parent / "evil.txt").exists()
    assert app.selectbox(key="kb").value == "notes"
    assert int(app.sidebar.caption.values[0].split()[0]) >= 1  # the count is fresh
    table = app.dataframe[1].value  # [0] lists the knowledge bases
    assert list(table.iloc[:, 0]) == ["evil.txt"] and table.iloc[0, 1] >= 1
    assert table.iloc[0, 2] != "–" and table.iloc[0, 3] != "–"  # its size and date
    assert not has(app.button, "ingest_uploads")  # the uploader was emptied

    answer = ask(app, "知库项目的代号是什么？")
    assert "青鸟" in " ".join(m.value for m in answer.markdown)
    # labels are escaped Markdown (a file name is text): evil\.txt
    assert any("evil.txt" in label.replace("\\", "") for label in sources(answer))

    app.selectbox(key="kb").set_value("samples").run()
    assert not app.chat_message  # another knowledge base: a new conversation
    answer = ask(app, "知库项目的代号是什么？")
    assert sources(answer) and not any("evil.txt" in label for label in sources(answer))

    app.selectbox(key="kb").set_value("notes").run()
    app.switch_page("views/knowledge.py").run()
    assert app.selectbox(key="document_choice").value is None  # nothing preselected
    assert not has(app.button, "delete_doc")
    app.selectbox(key="document_choice").set_value("evil.txt").run()
    assert "知库项目的代号是青鸟" in " ".join(t.value for t in app.text)  # the preview
    app.button(key="delete_doc").click().run()
    assert not app.exception
    assert "evil.txt" in plain(app.success[0].value)
    assert len(app.dataframe) == 1 and list(folder.iterdir()) == []
    answer = ask(app, "知库项目的代号是什么？")
    assert not sources(answer)
    assert "is empty" in answer.info[0].value  # not an error: what to do next


def test_bad_uploads_are_refused_with_a_reason(ui_settings, monkeypatch) -> None:
    app = open_chat_app(ui_settings, monkeypatch)
    upload(
        app,
        ("tool.exe", b"MZ\x90\x00"),
        ("big.txt", "很长的文件。".encode() * 5000),
        ("ok.md", "# 好文件\n\n这是一份可以导入的说明。".encode()),
    )
    errors = plain(" ".join(e.value for e in app.error))
    assert "cannot be read" in errors and " csv " in errors  # the types it does take
    assert "limit" in errors and "ZHIKU_MAX_FILE_MB" in errors
    assert [p.name for p in (ui_settings.storage.uploads_dir / "samples").iterdir()] == ["ok.md"]


def test_only_an_existing_knowledge_base_gets_a_description(ui_settings) -> None:
    from app.knowledge.service import KnowledgeBases
    from app.retrieval.service import UnknownKnowledgeBase

    with pytest.raises(UnknownKnowledgeBase):
        KnowledgeBases(ui_settings).describe("nowhere", "text")
    assert not (ui_settings.storage.data_dir / "descriptions" / "nowhere.txt").exists()


def test_reindex_picks_up_changed_files(ui_settings, monkeypatch) -> None:
    app = open_chat_app(ui_settings, monkeypatch)
    app.switch_page("views/knowledge.py").run()
    (ui_settings.storage.uploads_dir / "samples" / "ok.md").write_text(
        "# 改过的文件\n\n内容已经更新：知库支持重新索引。", encoding="utf-8"
    )
    app.button(key="reindex").click().run()
    assert not app.exception
    assert "indexed 1" in app.success[0].value and "unchanged 5" in app.success[0].value


def test_missing_model_and_unreachable_server_are_messages(ui_settings, monkeypatch) -> None:
    missing = ui_settings.updated(**{"llm_model": "/nowhere/model.gguf"})
    app = open_chat_app(missing, monkeypatch)
    answer = ask(app, "GPT-1有多少层？")
    assert "ZHIKU_LLM_MODEL" in plain(answer.error[0].value)
    assert not app.exception

    down = f"http://127.0.0.1:{free_port()}/v1"  # the operator's endpoint, not running
    hosted = ui_settings.updated(**{"hosted_base_url": down, "backend": "hosted"})
    app = open_chat_app(hosted, monkeypatch)
    assert not has(app.radio, "backend")  # where answers come from: the operator's
    answer = ask(app, "GPT-1有多少层？")
    assert "cannot reach" in plain(answer.error[0].value)
    assert not app.exception


def test_status_per_document_then_rename_and_delete_the_knowledge_base(
    ui_settings, monkeypatch
) -> None:
    """Each document's status in the table (a file the import could not read says why);
    then the knowledge base renamed (the picker and the overview follow) and deleted
    (only once its name is typed; the picker moves to another one)."""
    app = open_chat_app(ui_settings, monkeypatch)
    app.switch_page("views/knowledge.py").run()
    app.text_input(key="new_kb_name").set_value("草稿")
    app.button(key="create_kb").click().run()
    upload(app, ("好.txt", NOTE), ("坏.txt", b"\x00\xd8\x00\x00" * 400))
    rows = {row[0]: row[-1] for row in app.dataframe[1].value.itertuples(index=False)}
    assert rows["好.txt"] == "indexed"
    assert rows["坏.txt"].startswith("failed: binary data, not text")

    app.text_input(key="rename_kb_name_草稿").set_value("草稿二")
    app.button(key="rename_kb").click().run()
    assert not app.exception, app.exception
    assert app.selectbox(key="kb").value == "草稿二"
    assert "草稿二" in list(app.dataframe[0].value.iloc[:, 0])
    assert "草稿" not in list(app.dataframe[0].value.iloc[:, 0])
    assert (ui_settings.storage.uploads_dir / "草稿二" / "好.txt").is_file()

    app.button(key="delete_kb").click().run()  # the name not typed: nothing happens
    assert "草稿二" in list(app.dataframe[0].value.iloc[:, 0]) and app.warning
    app.text_input(key="delete_kb_confirm_草稿二").set_value("草稿二")
    app.button(key="delete_kb").click().run()
    assert not app.exception, app.exception
    assert app.selectbox(key="kb").value != "草稿二"
    assert "草稿二" not in list(app.dataframe[0].value.iloc[:, 0])
    assert not (ui_settings.storage.uploads_dir / "草稿二").exists()
