"""The source viewer in a real browser (issue 25): Debian's chromium driven by Playwright
against `zhiku chat`, whose first start OCRs a scanned PDF with the real model. A cited
scanned page opens over the chat as its picture with the quoted line boxed; a text source
opens at the quote, as text."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urljoin

import pytest

from ingest.page_images import HIGHLIGHT
from tests.document_files import image_pdf, render_page
from tests.helpers import MODELS_DIR, chat_server, chromium_page

SCAN_LINES = ["设备巡检通知", "三号车间的空压机每周二上午进行巡检。", "巡检由设备科负责。"]
LINE_TOP = 120 + 64  # render_page draws line n at y = 120 + 64 n, 32 px high
GUIDE = (
    "# 访客指南\n\n" + "公司园区开放参观。" * 80 + "\n\n访客停车场位于园区北门，"
    "<b>免费停放</b>两小时。\n\n" + "其余规定见员工手册。" * 40 + "\n"
)


@pytest.fixture(scope="module")
def served_chat(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    from app.settings import load_settings

    corpus = tmp_path_factory.mktemp("viewer-corpus")
    image_pdf(corpus / "巡检通知.pdf", [render_page(None, SCAN_LINES, (1240, 600))])
    (corpus / "guide.md").write_text(GUIDE, encoding="utf-8")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("viewer-browser-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="viewer",
        sample_corpus=corpus,
        top_k=2,
        max_tokens=64,
    )
    with chat_server(settings, tmp_path_factory.mktemp("logs")) as url:
        yield url


@pytest.fixture(scope="module")
def page(served_chat: str):
    with chromium_page(served_chat, locale="en-US") as page:
        yield page


def ask(page, question: str):
    """Type a question; the answer's message once its sources are drawn."""
    before = page.get_by_test_id("stChatMessage").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=300_000)  # the first start OCRs and indexes the corpus first
    box.fill(question)
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(before + 1)
    answer.get_by_text("Why this answer").wait_for(timeout=300_000)  # drawn after the sources
    return answer


def open_viewer(page, answer, source: str):
    """Open the source's expander, press its viewer button; the dialog."""
    expander = answer.get_by_test_id("stExpander").filter(has_text=source).first
    expander.locator("summary").click()
    expander.get_by_role("button", name="Open at the cited place").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=120_000)
    return dialog


def outline_pixels(png: bytes, box: tuple[int, int, int, int] | None = None) -> int:
    import numpy as np
    from PIL import Image

    picture = Image.open(io.BytesIO(png)).convert("RGB")
    if box:
        picture = picture.crop(box)
    return int((np.asarray(picture) == HIGHLIGHT).all(axis=2).sum())


def test_a_cited_scanned_page_opens_as_its_picture_with_the_quote_boxed(
    page, served_chat: str
) -> None:
    answer = ask(page, "三号车间的空压机什么时候巡检？")
    dialog = open_viewer(page, answer, "巡检通知.pdf")
    picture = dialog.get_by_test_id("stImage").locator("img")
    picture.wait_for(timeout=120_000)
    png = page.request.get(urljoin(served_chat, picture.get_attribute("src"))).body()
    assert outline_pixels(png) > 1000, "no highlight drawn on the page"
    # the box is round the quoted line (line 2), not the title above it
    assert outline_pixels(png, (0, LINE_TOP - 30, 1240, LINE_TOP + 75)) > 1000
    assert outline_pixels(png, (0, 0, 1240, LINE_TOP - 40)) == 0
    assert "page 1" in dialog.inner_text()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


def test_a_text_source_opens_at_the_quote_as_text(page) -> None:
    answer = ask(page, "访客停车场在哪里？")
    dialog = open_viewer(page, answer, "guide.md")
    dialog.get_by_text("访客停车场位于园区北门").first.wait_for(timeout=60_000)
    shown = dialog.inner_text()
    assert "<b>免费停放</b>" in shown  # markup in a document is text, never rendered
    assert dialog.locator("b").count() == 0
    assert "characters above" in shown  # the excerpt starts near the quote, not at the top
    assert dialog.locator(".stMarkdownColoredBackground").count() >= 1  # the quote, marked
    page.keyboard.press("Escape")
