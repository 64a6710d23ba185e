"""Three browser users at the same instant, right after `zhiku chat` starts on an empty
data folder: both get a working chat (one indexes the samples, the other waits for it),
both ask at once, both get answers — never a traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.settings import load_settings
from tests.helpers import CHROMIUM, CHROMIUM_FLAGS, MODELS_DIR, SAMPLES, start_chat

QUESTIONS = ["GPT-1有多少层？", "RAG是什么？", "BM25 是什么？"]


async def _session(browser, url: str, question: str) -> tuple[str, int]:
    context = await browser.new_context(viewport={"width": 1100, "height": 800})
    page = await context.new_page()
    await page.goto(url)
    ready = "[data-testid=stChatInputTextArea], [data-testid=stException]"
    await page.wait_for_selector(ready, timeout=300_000)
    if await page.get_by_test_id("stException").count():  # a traceback instead of the chat
        body = await page.inner_text("body")
        await context.close()
        return body, 1
    box = page.get_by_test_id("stChatInputTextArea")
    await box.fill(question)
    await box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    await answer.get_by_text("总计").wait_for(timeout=600_000)
    text = await answer.inner_text()
    errors = await page.get_by_test_id("stException").count()
    body = await page.inner_text("body")
    await context.close()
    return text, errors + body.count("Traceback")


async def _two_sessions(url: str) -> list[tuple[str, int]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS
        )
        try:
            return await asyncio.gather(*(_session(browser, url, q) for q in QUESTIONS))
        finally:
            await browser.close()


def test_two_sessions_at_once_after_a_start(tmp_path: Path, embedding_cache_root: Path) -> None:
    assert CHROMIUM.exists(), "chromium missing: run `make browser`"
    settings = load_settings(
        data_dir=tmp_path / "data",  # empty: the first start indexes the samples
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="together",
        sample_corpus=SAMPLES,
        top_k=3,
        language="zh",  # the timings line says 总计
        max_tokens=64,
    )
    log = tmp_path / "chat.log"
    proc, url = start_chat(settings, log)
    try:
        results = asyncio.run(_two_sessions(url))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    err = log.read_text()
    for text, errors in results:
        assert errors == 0, text
        assert "总计" in text
    assert "12" in results[0][0]
    assert "Traceback" not in err, err[-3000:]
