"""Web pages by URL from the API and the Knowledge bases page (issue 25), against real
HTTP servers on loopback: one on 127.0.0.1, which ZHIKU_URL_ALLOWLIST names, is indexed;
one on 127.0.0.2, which it does not, is refused in one line. `zhiku serve` is driven with
httpx (no openai client), the page by streamlit.testing; real embeddings and Chroma."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.helpers import MODELS_DIR, open_chat_app, serving
from tests.integration.test_web_ingest import Pages

KEYS = ("sk-zhiku-url-owner", "sk-zhiku-url-other")
OWNER, OTHER = ({"Authorization": f"Bearer {key}"} for key in KEYS)


def serve(host: str) -> Iterator[str]:
    httpd = ThreadingHTTPServer((host, 0), Pages)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


@pytest.fixture(scope="module")
def allowed_site() -> Iterator[str]:
    yield from serve("127.0.0.1")


@pytest.fixture(scope="module")
def private_site() -> Iterator[str]:
    yield from serve("127.0.0.2")  # all of 127/8 is loopback on Linux


@pytest.fixture(scope="module")
def url_settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    from app.settings import load_settings

    return load_settings(
        data_dir=tmp_path_factory.mktemp("url-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        language="en",  # the page's texts below are the English ones
        embedding_backend="use",
        collection="web",
        url_allowlist=["127.0.0.1"],
        api_keys=list(KEYS),
    )


def finished(server: str, job: dict, headers: dict) -> dict:
    for _ in range(600):
        job = httpx.get(f"{server}/v1/jobs/{job['id']}", headers=headers).json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job still {job['state']}")


def test_urls_over_the_api_allowlisted_indexed_private_refused(
    url_settings, allowed_site: str, private_site: str
) -> None:
    with serving(url_settings) as served:
        server = served.url
        created = httpx.post(f"{server}/v1/knowledge_bases", headers=OWNER, json={"name": "wiki"})
        assert created.status_code == 201
        page, private = f"{allowed_site}/page.html", f"{private_site}/page.html"
        sent = httpx.post(
            f"{server}/v1/knowledge_bases/wiki/urls", headers=OWNER, json={"urls": [page, private]}
        )
        assert sent.status_code == 202, sent.text
        job = sent.json()["job"]
        assert job["kind"] == "index-urls" and job["urls"] == [page, private]
        # another key does not see the job
        assert httpx.get(f"{server}/v1/jobs/{job['id']}", headers=OTHER).status_code == 404
        job = finished(server, job, OWNER)
        assert job["state"] == "done" and job["counts"]["files_indexed"] == 1, job
        [problem] = job["problems"]
        assert problem["source"] == private
        assert "loopback address 127.0.0.2" in problem["reason"]
        assert "ZHIKU_URL_ALLOWLIST" in problem["reason"] and "\n" not in problem["reason"]
        docs = httpx.get(f"{server}/v1/knowledge_bases/wiki/documents", headers=OWNER).json()
        assert [d["source"] for d in docs["data"]] == [page]
        # bad requests: one line each, nothing queued
        bad = httpx.post(
            f"{server}/v1/knowledge_bases/wiki/urls", headers=OWNER, json={"urls": ["file:///etc"]}
        )
        assert bad.status_code == 400
        assert "not an http or https URL" in bad.json()["error"]["message"]
        missing = httpx.post(
            f"{server}/v1/knowledge_bases/nowhere/urls", headers=OWNER, json={"urls": [page]}
        )
        assert missing.status_code == 404
        empty = httpx.post(f"{server}/v1/knowledge_bases/wiki/urls", headers=OWNER, json={})
        assert empty.status_code == 400 and "urls" in empty.json()["error"]["message"]
        anonymous = httpx.post(f"{server}/v1/knowledge_bases/wiki/urls", json={"urls": [page]})
        assert anonymous.status_code == 401


def test_the_add_url_box_indexes_an_allowlisted_page_and_refuses_a_private_one(
    url_settings, allowed_site: str, private_site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_chat_app(url_settings, monkeypatch)
    app.switch_page("views/knowledge.py").run()
    page, private = f"{allowed_site}/page.html", f"{private_site}/page.html"
    app.text_area(key="add_urls_text").set_value(f"{page}\n{private}\n").run()
    app.button(key="add_urls").click().run()
    assert not app.exception, app.exception
    assert any("indexed 1" in w.value for w in app.warning), [w.value for w in app.warning]
    lines = [t.value for t in app.text]
    refused = [line for line in lines if line.startswith(private)]
    assert len(refused) == 1 and "loopback address 127.0.0.2" in refused[0], lines
    app.run()
    documents = next(d.value for d in app.dataframe if d.value.columns[0] == "Document")
    assert page in list(documents.iloc[:, 0])
