"""The Curate page in a real browser (Debian's chromium driven by Playwright, against
`zhiku chat`): edit a chunk and find it with the retrieval test; a second editor who saved
first is named, and the typed text is not lost; markup in a chunk shows as text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.knowledge.service import KnowledgeBases
from app.settings import Settings, load_settings
from tests.helpers import MODELS_DIR, chat_server, chromium_page

KB = "curate-browser"
SOURCE = "机房.txt"
MARKUP = "<img src=x onerror=\"window.__zhiku_xss = 'img'\">"
TEXT = "银杏机房位于北京亦庄，机房的值班电话是八八六六，夜间值班由运维组轮流负责。" + MARKUP
EDITED = TEXT.replace("八八六六", "九九七七")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path) -> Settings:
    folder = tmp_path_factory.mktemp("curate-docs")
    (folder / SOURCE).write_text(TEXT, encoding="utf-8")
    (folder / "食堂.txt").write_text("玉兰食堂每天中午十一点半开饭，周末不开放。", encoding="utf-8")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("curate-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection=KB,
        first_start_samples=False,
        top_k=1,
    )
    knowledge = KnowledgeBases(settings)
    knowledge.create(KB)
    assert knowledge.ingest_paths(KB, [folder]).ok
    return settings


@pytest.fixture(scope="module")
def page(settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    with (
        chat_server(settings, tmp_path_factory.mktemp("logs")) as url,
        chromium_page(url + "curate", height=1400, locale="en-US") as page,
    ):
        yield page


def chunk_box(page):
    page.get_by_role("tab", name="Chunks").click()
    box = page.get_by_test_id("stTextArea").locator("textarea")
    box.wait_for(timeout=120_000)
    return box


def test_edit_a_chunk_then_find_it_in_the_retrieval_test(page) -> None:
    box = chunk_box(page)
    assert box.input_value() == TEXT  # the markup as text, in a text box
    box.fill(EDITED)
    page.get_by_role("button", name="Save the edit").click()
    page.get_by_text("Saved: the new text is searchable now.").wait_for(timeout=60_000)

    page.get_by_role("tab", name="Retrieval test").click()
    page.get_by_label("Question").fill("九九七七")
    page.get_by_role("button", name="Test retrieval").click()
    page.get_by_text("chunks reach the model (k = 1").wait_for(timeout=60_000)
    first = page.get_by_test_id("stExpander").filter(has_text=SOURCE).first
    first.locator("summary").click()
    shown = first.get_by_test_id("stText").inner_text()
    assert "九九七七" in shown and MARKUP in shown
    assert page.evaluate("window.__zhiku_xss") is None
    assert page.locator("img[src='x']").count() == 0


def test_a_second_editor_is_told_who_saved_first(page, settings: Settings) -> None:
    page.reload()
    box = chunk_box(page)
    opened = box.input_value()
    knowledge = KnowledgeBases(settings)  # another editor, in another process
    [chunk] = [c for c in knowledge.chunks(KB, SOURCE)]
    knowledge.edit_chunk(KB, chunk.chunk_id, opened + "（bob 补充）", chunk.revision, "bob")
    box.fill(opened + "（我的补充）")
    page.get_by_role("button", name="Save the edit").click()
    page.get_by_text("changed by bob").wait_for(timeout=60_000)
    assert box.input_value().endswith("（我的补充）")  # nothing typed is lost
    assert knowledge.chunks(KB, SOURCE)[0].text.endswith("（bob 补充）")
    page.get_by_role("button", name="Reload the chunk (your text is dropped)").click()
    reloaded = "document.querySelector('[data-testid=stTextArea] textarea').value"
    page.wait_for_function(f"{reloaded}.endsWith('（bob 补充）')", timeout=60_000)


def test_disable_enable_delete_and_restore_on_the_page(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's other buttons, under streamlit.testing (the same app, no browser)."""
    from tests.helpers import open_chat_app

    other = "食堂.txt"
    app = open_chat_app(settings.updated(collection=KB), monkeypatch)
    app.switch_page("views/curate.py").run()
    app.selectbox(key="curate_doc").set_value(other).run()
    for action in ("disable", "enable", "delete"):  # 食堂.txt has one chunk
        app.button(key=f"chunk_{action}").click().run()
        assert not app.exception, app.exception
        assert KnowledgeBases(settings).chunk_changes(KB, other)[0].kind == action
    knowledge = KnowledgeBases(settings)
    assert knowledge.chunks(KB, other) == []
    assert [c.state for c in knowledge.chunks(KB, other, deleted=True)] == ["deleted"]
    app.button(key="chunk_restore").click().run()  # a deleted chunk is offered back
    assert not app.exception, app.exception
    assert [c.state for c in knowledge.chunks(KB, other)] == ["original"]
    assert knowledge.chunk_changes(KB, other)[0].kind == "restore"
