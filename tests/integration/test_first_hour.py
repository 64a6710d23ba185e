"""The first hour of a new team member, in a real browser (Debian's chromium, Playwright)
against `zhiku chat` with default settings, once per language: the browser asks for
Chinese or English and ZHIKU_LANGUAGE is `auto`.

First start (the samples indexed), a README question (progress shown before the first
word, then the answer), a knowledge base with a Chinese name, an upload, a question on
it, 👍, a wrong file type (a translated error with a next step), a switch of knowledge
base (the conversation cleared, the new chunk count in the sidebar), the saved
conversation reopened, renamed and exported, a file the import cannot read (its reason
in the page's language), the knowledge base renamed and deleted. At each step no label of the other
language is on screen. With SCREENSHOTS_DIR set each step is saved there
(`make screenshot` refreshes docs/screenshots/ so).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from app.settings import load_settings
from app.ui import i18n
from tests.helpers import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    MODELS_DIR,
    SAMPLES,
    fill_kept,
    settled,
    start_chat,
)

NOTE = "知库项目的代号是青鸟。青鸟的第一个版本在杭州发布，发布时只支持中文文档。"
KB = "团队笔记"
KB2 = "团队资料"  # its name after the rename
LOCALES = {"zh": "zh-CN", "en": "en-US"}
# What each step must show, in each language.
SEE = {
    "zh": {"welcome": "欢迎使用知库", "progress": r"检索中|生成中|排队中", "total": "总计",
           "kb_page": "知识库", "new_kb": "新建知识库", "create": "创建", "indexed": "已导入 1",
           "chunks": r"(\d+) 个片段", "bad_type": "无法读取 .exe", "next_step": "请另存为",
           "rated": "你给这个回答评了 👍", "this": "当前对话", "title": "标题",
           "rename": "重命名", "export": "导出为 Markdown", "chat": "对话",
           "binary": "这是二进制数据，不是文本", "kb_actions": "重命名或删除此知识库",
           "new_name": "新名称", "renamed": f"已将 {KB} 重命名为 {KB2}",
           "confirm": f"输入 {KB2} 以确认", "delete_kb": "删除知识库",
           "deleted": f"已删除知识库 {KB2}"},
    "en": {"welcome": "Welcome to zhiku", "progress": r"Searching|Writing|Waiting",
           "total": "total", "kb_page": "Knowledge bases", "new_kb": "New knowledge base",
           "create": "Create", "indexed": "indexed 1", "chunks": r"(\d+) chunks",
           "bad_type": "files of type .exe cannot be read", "next_step": "Save it as",
           "rated": "You rated this answer 👍", "this": "This conversation", "title": "Title",
           "rename": "Rename", "export": "Export as Markdown", "chat": "Chat",
           "binary": "binary data, not text", "kb_actions": "Rename or delete this knowledge base",
           "new_name": "New name", "renamed": f"Renamed {KB} to {KB2}",
           "confirm": f"Type {KB2} to confirm", "delete_kb": "Delete knowledge base",
           "deleted": f"Deleted knowledge base {KB2}"},
}  # fmt: skip


def other_language_labels(language: str) -> list[str]:
    """Labels that must not be on screen in `language`: in Chinese mode the English
    msgids (whole labels, no placeholders), in English mode their Chinese texts."""
    pairs = [(m, t) for m, t in i18n.translations("zh").items() if "{" not in m]
    if language == "zh":
        return [m for m, _t in pairs if (len(m) >= 6 and " " in m) or m.endswith("…")]
    return [t for _m, t in pairs if len(t) >= 3]


class Walk:
    """The page, the step counter and the checks every step makes."""

    def __init__(self, page, language: str, shots: Path | None) -> None:
        self.page, self.language, self.shots, self.step = page, language, shots, 0
        self.see = SEE[language]
        self.forbidden = other_language_labels(language)

    def text(self, key: str) -> str:
        return self.see[key]

    def check(self, name: str) -> None:
        """No label of the other language is visible; the step's picture."""
        self.page.wait_for_timeout(500)
        shown = self.page.locator("body").inner_text()
        wrong = [label for label in self.forbidden if label in shown]
        assert not wrong, f"{self.language} page shows {wrong} at step {name}"
        self.step += 1
        if self.shots:
            path = self.shots / f"first-hour-{self.language}-{self.step}-{name}.png"
            self.page.screenshot(path=str(path))

    def sidebar(self):
        return self.page.get_by_test_id("stSidebar")

    def chunks_in_sidebar(self) -> int:
        caption = self.sidebar().get_by_text(re.compile(self.text("chunks"))).first
        found = re.search(self.text("chunks"), caption.inner_text())
        assert found
        return int(found.group(1))

    def open_page(self, key: str) -> None:
        nav = self.page.get_by_test_id("stSidebarNav")
        nav.get_by_role("link", name=self.text(key)).click()
        self.page.wait_for_timeout(1500)
        settled(self.page)  # a form filled while the page still draws can lose its text

    def knowledge_bases_offered(self) -> list[str]:
        """The picker's options (opened, read, closed again)."""
        self.sidebar().get_by_test_id("stSelectbox").first.click()
        options = self.page.get_by_role("option")
        options.first.wait_for()
        names = [name.strip() for name in options.all_inner_texts()]
        self.page.keyboard.press("Escape")
        return names

    def choose_knowledge_base(self, name: str) -> None:
        self.sidebar().get_by_test_id("stSelectbox").first.click()
        self.page.get_by_role("option", name=name, exact=True).click()
        self.page.wait_for_timeout(1500)
        settled(self.page)


@pytest.fixture(scope="module", params=["zh", "en"])
def walk(request, tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    """`zhiku chat` on a fresh data folder, default settings; a browser in that language."""
    from playwright.sync_api import sync_playwright

    language = request.param
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp(f"first-hour-{language}"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        sample_corpus=SAMPLES,
        max_tokens=96,
        language="auto",
    )
    proc, url = start_chat(settings, tmp_path_factory.mktemp("logs") / "chat.log")
    shots = Path(os.environ["SCREENSHOTS_DIR"]) if os.environ.get("SCREENSHOTS_DIR") else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    assert CHROMIUM.exists(), "chromium missing: run `make browser` (apt-get install chromium)"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            context = browser.new_context(
                viewport={"width": 1280, "height": 900},
                locale=LOCALES[language],
                accept_downloads=True,
            )
            page = context.new_page()
            page.set_default_timeout(120_000)  # two cores: a rerun that loads a model is slow
            page.goto(url)
            yield Walk(page, language, shots)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def idle(page) -> None:
    """Give the app's run time to finish drawing (its elements replace the last run's)."""
    page.wait_for_timeout(3000)
    settled(page)


# Records whether a progress status was on the page before the answer's timings were.
WATCH_PROGRESS = """(pattern) => {
  const progress = new RegExp(pattern);
  window.__progressSeen = false;
  if (window.__progressWatch) window.__progressWatch.disconnect();
  window.__progressWatch = new MutationObserver(() => {
    const messages = document.querySelectorAll('[data-testid="stChatMessage"]');
    const last = messages[messages.length - 1];
    if (last && progress.test(last.innerText)) window.__progressSeen = true;
  });
  window.__progressWatch.observe(document.body,
    {childList: true, subtree: true, characterData: true});
}"""


def ask(walk: Walk, question: str | None = None):
    """Ask (or click a suggested question); progress must show before the first word."""
    page = walk.page
    before = page.get_by_test_id("stChatMessage").count()
    # Watch the page from before the question: a warm model can replace the status with
    # the first word between two of Playwright's polls, so seeing it live is a race.
    page.evaluate(WATCH_PROGRESS, walk.text("progress"))
    if question is None:
        page.get_by_role("button", name=re.compile("GPT-1有多少层")).click()
    else:
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill(question)
        box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(before + 1)
    answer.get_by_text(walk.text("total")).wait_for(timeout=600_000)
    assert page.evaluate("() => window.__progressSeen"), "no progress before the answer"
    return answer


def test_the_first_hour(walk: Walk, tmp_path: Path) -> None:
    page = walk.page
    # 1. First start: the samples are indexed, a welcome with questions to try
    page.get_by_text(walk.text("welcome")).wait_for(timeout=300_000)
    assert walk.chunks_in_sidebar() > 20
    walk.check("welcome")

    # 2. A README question: progress first, then the answer with its sources
    answer = ask(walk)
    assert "12" in answer.get_by_test_id("stMarkdown").first.inner_text()
    walk.check("answer")

    # 3. A knowledge base with a Chinese name
    walk.open_page("kb_page")
    page.get_by_text(walk.text("new_kb"), exact=True).click()
    form = page.get_by_test_id("stForm")
    fill_kept(page, form.get_by_role("textbox").first, KB)
    form.get_by_role("button", name=walk.text("create")).click()
    page.get_by_test_id("stHeading").filter(has_text=KB).first.wait_for()  # it is chosen
    settled(page)
    page.get_by_text(walk.text("new_kb"), exact=True).click()
    assert form.get_by_role("textbox").first.input_value() == ""  # ready for another
    page.get_by_text(walk.text("new_kb"), exact=True).click()
    walk.check("created")

    # 4. Upload a file: indexed, the sidebar counts its chunks, the uploader empties
    note = tmp_path / "青鸟说明.txt"
    note.write_text(NOTE, encoding="utf-8")
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(str(note))
    page.locator(".st-key-ingest_uploads button").click()
    page.get_by_text(walk.text("indexed")).first.wait_for(timeout=300_000)
    page.locator(".st-key-ingest_uploads").wait_for(state="detached")  # the uploader emptied
    settled(page)
    assert 1 <= walk.chunks_in_sidebar() < 5
    walk.check("uploaded")

    # 5. A wrong file type: said at once, translated, with the next step
    tool = tmp_path / "tool.exe"
    tool.write_bytes(b"MZ\x90\x00")
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(str(tool))
    error = page.get_by_test_id("stAlertContentError").filter(has_text=walk.text("bad_type"))
    error.wait_for()
    assert walk.text("next_step") in error.inner_text()
    settled(page)
    walk.check("wrong-type")

    # 5b. A file the import cannot read: its reason in the report, in the page's language
    garbled = tmp_path / "乱码.txt"
    garbled.write_bytes(b"\x00\xd8\x00\x00" * 400)  # NUL bytes, and not UTF-16 either
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(str(garbled))
    page.locator(".st-key-ingest_uploads button").click()
    page.get_by_text(walk.text("binary")).first.wait_for(timeout=300_000)
    assert "binary content" not in page.locator("body").inner_text()  # ingest's English
    walk.check("import-report")

    # 6. Ask the new knowledge base, rate the answer
    walk.open_page("chat")
    answer = ask(walk, "知库项目的代号是什么？")
    assert "青鸟" in answer.inner_text()
    answer.get_by_role("radio", name="Thumbs up").click()
    answer.get_by_text(walk.text("rated")).wait_for()
    walk.check("rated")

    # 7. Switch knowledge base: a new, empty conversation; the samples' chunk count
    notes_chunks = walk.chunks_in_sidebar()
    walk.choose_knowledge_base("default")
    page.get_by_text(walk.text("welcome")).wait_for()
    assert page.get_by_test_id("stChatMessage").count() == 0
    assert walk.chunks_in_sidebar() > notes_chunks
    walk.check("switched")

    # 8. The saved conversation: reopen, rename, export under its title
    walk.sidebar().get_by_role("button", name=re.compile("知库项目的代号是什么")).click()
    page.get_by_test_id("stChatMessage").nth(1).wait_for()
    settled(page)  # the reopening run redraws the title box: fill it after
    walk.sidebar().get_by_text(walk.text("this")).click()
    title = walk.sidebar().get_by_label(walk.text("title"))
    title.fill("青鸟计划")
    title.press("Enter")
    settled(page)
    walk.sidebar().get_by_role("button", name=walk.text("rename")).click()
    walk.sidebar().get_by_role("button", name=re.compile("^▸ 青鸟计划")).wait_for()
    idle(page)  # the export button of the run before the rename points at a freed file
    with page.expect_download() as download:
        walk.sidebar().get_by_role("button", name=walk.text("export")).click()
    assert download.value.suggested_filename == "青鸟计划.md"
    assert "青鸟" in Path(download.value.path()).read_text(encoding="utf-8")
    walk.check("exported")

    # 9. Rename the knowledge base, then delete it: the page, the sidebar and the open
    # conversation follow (it stays open after the rename, and is closed by the delete)
    walk.open_page("kb_page")
    main = page.get_by_test_id("stMain")
    main.get_by_text(walk.text("kb_actions")).click()
    main.get_by_role("textbox", name=walk.text("new_name")).fill(KB2)
    main.get_by_role("button", name=walk.text("rename"), exact=True).click()
    page.get_by_text(walk.text("renamed")).first.wait_for()
    page.get_by_test_id("stHeading").filter(has_text=KB2).first.wait_for()
    offered = walk.knowledge_bases_offered()
    assert KB2 in offered and KB not in offered, offered
    walk.check("renamed")
    idle(page)  # the box keeps its open state across the rerun, or not: look
    confirm = main.get_by_role("textbox", name=walk.text("confirm"))
    if not confirm.is_visible():
        main.get_by_text(walk.text("kb_actions")).click()
    confirm.fill(KB2)
    main.get_by_role("button", name=walk.text("delete_kb")).click()
    page.get_by_text(walk.text("deleted")).first.wait_for()
    assert KB2 not in walk.knowledge_bases_offered()
    walk.open_page("chat")
    page.get_by_text(walk.text("welcome")).wait_for()
    assert page.get_by_test_id("stChatMessage").count() == 0  # its conversation was closed
    walk.check("deleted")


def test_make_screenshot_copies_the_chinese_walkthrough() -> None:
    """`make screenshot` points SCREENSHOTS_DIR at docs/screenshots: the files the README
    shows exist (a stale README picture is one nobody regenerated)."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"docs/screenshots/(first-hour-[\w-]+\.png)", readme)
    folder = Path(__file__).parents[2] / "docs" / "screenshots"
    assert shown and all((folder / name).is_file() for name in shown)
