"""Saved conversations in a real browser (Debian's chromium, Playwright) against
`zhiku chat`: ask, restart the server, reload — the conversation is listed and opens with
its sources; rename, 👎 with a comment, delete; two browsers asking at once each get
their answer and see only their own conversations."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest

from app.settings import load_settings
from tests.helpers import CHROMIUM, CHROMIUM_FLAGS, MODELS_DIR, SAMPLES, start_chat


@pytest.fixture(scope="module")
def chat_settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    return load_settings(
        data_dir=tmp_path_factory.mktemp("conversations-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="remember",
        sample_corpus=SAMPLES,
        top_k=3,
        max_tokens=64,
        language="zh",
    )


def rows(settings, query: str) -> list[tuple]:
    with sqlite3.connect(settings.storage.data_dir / "conversations.sqlite") as db:
        return db.execute(query).fetchall()


async def ask(page, question: str):
    """Type a question and wait for its answer (the timings line comes last)."""
    before = await page.get_by_test_id("stChatMessage").count()
    box = page.get_by_test_id("stChatInputTextArea")
    await box.wait_for(timeout=300_000)  # the first start indexes the samples first
    await box.fill(question)
    await box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(before + 1)
    await answer.get_by_text("总计").wait_for(timeout=600_000)
    return answer


def sidebar_button(page, title: str):
    """A saved conversation in the list: its title and time (▸ when it is open)."""
    name = re.compile(rf"^(▸ )?{re.escape(title)} · \d\d-\d\d \d\d:\d\d$")
    return page.get_by_test_id("stSidebar").get_by_role("button", name=name)


async def new_browser(playwright):
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)


async def first_visit(browser, url: str, question: str):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(url)
    answer = await ask(page, question)
    return context, page, answer


async def remember_across_a_restart(settings, log: Path) -> None:
    from playwright.async_api import async_playwright

    proc, url = start_chat(settings, log)
    async with async_playwright() as playwright:
        browser = await new_browser(playwright)
        try:
            context, page, answer = await first_visit(browser, url, "GPT-1有多少层？")
            assert "12" in await answer.inner_text()
            await sidebar_button(page, "GPT-1有多少层？").wait_for()

            # 👎 with a comment, stored with the answer
            await answer.get_by_role("radio", name="Thumbs down").click()
            comment = answer.get_by_label("评论（可选，按回车保存）")
            await comment.fill("参数量没有说")
            await comment.press("Enter")
            await answer.get_by_text("评论已保存。").wait_for()  # said, not only done
            assert rows(
                settings, "select rating, comment from messages where role='assistant'"
            ) == [(0, "参数量没有说")]

            proc.terminate()
            proc.wait(timeout=30)
            proc, restarted = start_chat(settings, log.with_suffix(".2.log"))
            await page.goto(restarted)  # a reload, on the server started again
            listed = sidebar_button(page, "GPT-1有多少层？")
            await listed.wait_for(timeout=120_000)
            assert await page.get_by_test_id("stChatMessage").count() == 0
            await listed.click()
            reply = page.get_by_test_id("stChatMessage").nth(1)
            await reply.get_by_text("总计").wait_for()
            assert "12" in await reply.inner_text()
            sources = reply.get_by_test_id("stExpander").filter(has_not_text="为什么是这个回答")
            sources = sources.filter(has_not_text="写下正确答案")  # under a 👎
            assert await sources.count() == 3  # its sources
            down = reply.get_by_role("radio", name="Thumbs down")  # the stored rating
            assert await down.get_attribute("aria-checked") == "true"

            # rename, then delete
            await page.get_by_test_id("stSidebar").get_by_text("当前对话").click()
            title = page.get_by_test_id("stSidebar").get_by_label("标题")
            await title.fill("GPT-1 的结构")
            await title.press("Enter")
            await page.get_by_test_id("stSidebar").get_by_role("button", name="重命名").click()
            await sidebar_button(page, "GPT-1 的结构").wait_for()
            assert rows(settings, "select title from conversations") == [("GPT-1 的结构",)]
            await page.wait_for_timeout(3000)  # the run after the rename redraws the export

            # export as Markdown, with the numbered sources and the rating
            export = page.get_by_test_id("stSidebar").get_by_role("button", name="导出为 Markdown")
            async with page.expect_download() as download:
                await export.click()
            markdown = Path(await (await download.value).path()).read_text(encoding="utf-8")
            assert markdown.startswith("# GPT-1 的结构\n")
            assert (await download.value).suggested_filename == "GPT-1-的结构.md"
            assert "## 问 Q: GPT-1有多少层？" in markdown
            assert "\n1. " in markdown and "\n3. " in markdown and "👎 参数量没有说" in markdown
            await page.get_by_test_id("stSidebar").get_by_text("🗑 删除").click()
            await page.get_by_role("button", name="确认删除此对话").click()
            await sidebar_button(page, "GPT-1 的结构").wait_for(state="detached")
            assert rows(settings, "select count(*) from conversations") == [(0,)]
            assert rows(settings, "select count(*) from messages") == [(0,)]
            await context.close()
        finally:
            await browser.close()
            proc.terminate()
            proc.wait(timeout=30)


def test_a_conversation_survives_a_restart_and_can_be_rated_renamed_deleted(
    chat_settings, tmp_path: Path
) -> None:
    assert CHROMIUM.exists(), "chromium missing: run `make browser`"
    asyncio.run(remember_across_a_restart(chat_settings, tmp_path / "chat.log"))
    for log in tmp_path.glob("chat*.log"):
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


async def two_browsers_at_once(url: str) -> list[tuple[str, list[str]]]:
    from playwright.async_api import async_playwright

    questions = ["RAG是什么？", "BM25 是什么？"]
    async with async_playwright() as playwright:
        browser = await new_browser(playwright)
        try:
            visits = await asyncio.gather(*(first_visit(browser, url, q) for q in questions))
            seen = []
            for (context, page, answer), question in zip(visits, questions, strict=True):
                await sidebar_button(page, question).wait_for()
                text = await answer.inner_text()
                await page.reload()  # a new session of the same browser: only its cookie
                await sidebar_button(page, question).wait_for(timeout=60_000)
                sidebar = await page.get_by_test_id("stSidebar").inner_text()
                seen.append((text, [q for q in questions if q in sidebar]))
                await context.close()
            return seen
        finally:
            await browser.close()


def test_two_browsers_ask_at_once_and_each_sees_only_its_own(chat_settings, tmp_path: Path) -> None:
    settings = chat_settings.updated(**{"collection": "together"})
    proc, url = start_chat(settings, tmp_path / "chat.log")
    try:
        (first, first_list), (second, second_list) = asyncio.run(two_browsers_at_once(url))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "总计" in first and "总计" in second
    assert first_list == ["RAG是什么？"]
    assert second_list == ["BM25 是什么？"]
    assert "Traceback" not in (tmp_path / "chat.log").read_text()
