"""The chat in a real browser: Debian's chromium driven by Playwright, against `zhiku chat`.

The app starts on an empty knowledge base, so the first-start ingest runs for real; the
corpus holds a document full of markup, which must show as text and never execute.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import MODELS_DIR, SAMPLES, chat_server, chromium_page

# `make screenshot` sets this to refresh the README picture; otherwise it goes to a temp folder.
SCREENSHOT_ENV = "CHAT_SCREENSHOT"
XSS = (
    "安全测试说明：知库的安全吉祥物叫阿盾，是一只穿山甲。"
    "<script>window.__zhiku_xss = 'script'</script>"
    "<img src=x onerror=\"window.__zhiku_xss = 'img'\">"
    "阿盾负责守护知识库的大门。"
)


@pytest.fixture(scope="module")
def served_chat(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    """`zhiku chat` on 127.0.0.1 over a fresh data folder (first start ingests the corpus)."""
    from app.settings import load_settings

    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(SAMPLES, corpus, dirs_exist_ok=True)
    (corpus / "安全说明.txt").write_text(XSS, encoding="utf-8")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("browser-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="browser",
        sample_corpus=corpus,
        top_k=3,
        max_tokens=96,
        language="zh",
    )
    with chat_server(settings, tmp_path_factory.mktemp("logs")) as url:
        yield url


@pytest.fixture(scope="module")
def page(served_chat: str):
    with chromium_page(served_chat) as page:
        yield page


def ask(page, question: str) -> object:
    """Type a question, wait until its answer has finished streaming; the answer element."""
    before = page.get_by_test_id("stChatMessage").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=180_000)  # the first start indexes the corpus first
    box.fill(question)
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(before + 1)
    # The timings line is drawn after the last token and the sources (either language).
    answer.get_by_text(re.compile(r"(总计|total) [\d.]+ (秒|s)$")).wait_for(timeout=300_000)
    return answer


def test_ask_in_a_real_browser_and_see_sources(page, tmp_path: Path) -> None:
    answer = ask(page, "GPT-1有多少层？")
    assert "12" in answer.get_by_test_id("stMarkdown").first.inner_text()
    sources = answer.get_by_test_id("stExpander").filter(has_not_text="为什么是这个回答")
    assert sources.count() == 3
    why = answer.get_by_test_id("stExpander").filter(has_text="为什么是这个回答")
    why.locator("summary").click()  # the trace's facts: each chunk's rankings, the decision
    why.get_by_text("fused").first.wait_for()
    assert "判定：已回答" in why.inner_text()
    why.locator("summary").click()
    cited = sources.filter(has_text="✅").first
    cited.locator("summary").click()
    cited.locator(".stMarkdownColoredBackground").first.wait_for()  # the quote
    page.wait_for_timeout(1000)  # let the expander finish opening before the picture
    screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "chat.png")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000


def test_markup_in_a_document_shows_as_text_and_never_runs(page) -> None:
    answer = ask(page, "知库的安全吉祥物叫什么名字？")
    source = answer.get_by_test_id("stExpander").filter(has_text="安全说明.txt").first
    source.locator("summary").click()
    shown = source.get_by_test_id("stMarkdown").first.inner_text()
    assert "<script>window.__zhiku_xss = 'script'</script>" in shown
    assert "<img src=x onerror=" in shown
    assert page.evaluate("window.__zhiku_xss") is None
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("script:has-text('__zhiku_xss')").count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]
