"""Issue 22, high 1 and item 7, replayed in a real browser (Debian's chromium driven by
Playwright) against `zhiku chat` on 127.0.0.1.

Before the fix a visitor picked *hosted*, typed a Base URL of a listener they control and
asked anything: the listener received `Authorization: Bearer <ZHIKU_HOSTED_API_KEY>`. And a
file ingested as `![y](http:/127.0.0.1:PORT/leak.txt) b.txt` became an <img> under the
answer, which the browser fetched. Two listeners stand for the attacker and for the
operator's hosted endpoint; each records every request it gets."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import MODELS_DIR, SAMPLES, chat_server, chromium

SECRET = "sk-secret-123"
FACT = "泄露测试说明：知库的测试海豚叫小灰，它住在第九号码头。"


class Listener:
    """An HTTP server on 127.0.0.1 that records every request and answers 404."""

    def __init__(self) -> None:
        seen = self.requests = []

        class Record(BaseHTTPRequestHandler):
            def _any(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                seen.append((self.command, self.path, headers))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_HEAD = do_OPTIONS = _any

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@pytest.fixture(scope="module")
def listeners() -> Iterator[tuple[Listener, Listener]]:
    attacker, operator = Listener(), Listener()
    yield attacker, operator
    attacker.server.shutdown()
    operator.server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def _chat_page(browser, listeners, tmp_path_factory, embedding_cache_root: Path, backend: str):
    """`zhiku chat` with a hosted key and the operator's endpoint configured, its corpus
    holding a file whose path is Markdown for an image on the attacker's listener; the
    operator chose `backend` (a visitor has no say in it)."""
    from app.settings import load_settings

    attacker, operator = listeners
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(SAMPLES, corpus, dirs_exist_ok=True)
    leak = corpus / f"![y](http:/127.0.0.1:{attacker.port}/leak.txt) b.txt"
    leak.parent.mkdir(parents=True)
    leak.write_text(FACT, encoding="utf-8")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("visitor-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="visitor",
        sample_corpus=corpus,
        top_k=3,
        max_tokens=32,
        hosted_base_url=operator.url,
        hosted_api_key=SECRET,
        backend=backend,
    )
    with chat_server(settings, tmp_path_factory.mktemp("logs")) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.goto(url)
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=180_000)
        yield page
        page.close()


@pytest.fixture(scope="module")
def page(browser, listeners, tmp_path_factory, embedding_cache_root: Path):
    yield from _chat_page(browser, listeners, tmp_path_factory, embedding_cache_root, "local")


@pytest.fixture(scope="module")
def hosted_page(browser, listeners, tmp_path_factory, embedding_cache_root: Path):
    yield from _chat_page(browser, listeners, tmp_path_factory, embedding_cache_root, "hosted")


def _ask(page, question: str, done: str) -> object:
    before = page.get_by_test_id("stChatMessage").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(before + 1)
    answer.get_by_test_id(done).first.wait_for(timeout=300_000)
    page.wait_for_timeout(1000)  # let images, if any, be requested
    return answer


def test_a_file_name_under_the_answer_is_text_not_an_image(page, listeners) -> None:
    attacker, _ = listeners
    answer = _ask(page, "知库的测试海豚叫什么名字？", "stExpander")
    answer.get_by_text("总计").wait_for(timeout=300_000)  # sources and timings drawn
    assert not [r for r in attacker.requests if "leak" in r[1]], attacker.requests
    assert page.locator("img[src*='leak.txt']").count() == 0
    labels = answer.get_by_test_id("stExpander").locator("summary").all_inner_texts()
    assert any(f"![y](http:/127.0.0.1:{attacker.port}/leak.txt) b.txt" in t for t in labels)


def test_a_visitor_cannot_send_the_hosted_key_to_their_listener(hosted_page, listeners) -> None:
    """No backend, endpoint, model or URL field is shown to a visitor (the operator sets
    them in the environment), and the key goes to the operator's endpoint only."""
    attacker, operator = listeners
    sidebar = hosted_page.get_by_test_id("stSidebar")
    for label in ("Base URL", "Model", "Backend", "模型", "服务"):
        assert sidebar.get_by_label(label, exact=True).count() == 0, label
    assert sidebar.get_by_text("hosted", exact=True).count() == 0
    answer = _ask(hosted_page, "GPT-1有多少层？", "stAlert")
    assert not attacker.requests, f"the attacker's listener got {attacker.requests}"
    assert SECRET not in answer.inner_text()
    posts = [r for r in operator.requests if r[0] == "POST"]
    assert posts and posts[0][1] == "/v1/chat/completions"
    assert posts[0][2].get("authorization") == f"Bearer {SECRET}"  # its own endpoint only
