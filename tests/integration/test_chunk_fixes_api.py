"""Chunk fixes and the retrieval test over HTTP (issue 28), against a real `zhiku serve`
with API keys, real embeddings and real embedded Chroma: list a document's chunks, edit
one (then a search finds the new words), a second editor with a stale revision gets 409
naming who changed it, disable, the change log, and the bad requests' one-line errors.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import load_settings
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import (
    MODELS_DIR,
    serving,
    write_heads_corpus,
)

KEY, OTHER_KEY = "sk-zhiku-chunks-test", "sk-zhiku-chunks-other"
KB = "curated"
SOURCE = "机房.txt"
FOLDER: list[Path] = []  # the module's documents folder, once made
TEXT = "银杏机房位于北京亦庄，机房的值班电话是八八六六，夜间值班由运维组轮流负责，每周一换班。"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("curated-docs")
    FOLDER.append(folder)
    (folder / SOURCE).write_text(TEXT, encoding="utf-8")
    write_heads_corpus(folder)
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("curated-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        first_start_samples=False,
        api_keys=[KEY, OTHER_KEY],
        top_k=3,
    )
    assert ingest_paths(open_knowledge_base(settings, KB), [folder]).ok
    with serving(settings) as served:
        yield served.url


def call(method: str, url: str, key: str = KEY, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.request(method, url, headers=headers, timeout=120, **kwargs)


def test_edit_a_chunk_then_find_it_and_a_stale_editor_is_told(api: str) -> None:
    listed = call("GET", f"{api}/v1/knowledge_bases/{KB}/chunks", params={"source": SOURCE})
    assert listed.status_code == 200, listed.text
    [chunk] = listed.json()["data"]
    assert (chunk["text"], chunk["revision"], chunk["state"]) == (TEXT, 0, "original")
    edit_url = f"{api}/v1/knowledge_bases/{KB}/chunks/{chunk['chunk_id']}"
    new_text = TEXT.replace("八八六六", "九九七七")
    saved = call("PUT", edit_url, json={"text": new_text, "expected_revision": 0})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["revision"], saved.json()["state"]) == (1, "edited")

    probe = call(
        "POST", f"{api}/v1/retrieval_test", json={"knowledge_base": KB, "query": "九九七七"}
    )
    assert probe.status_code == 200, probe.text
    first = probe.json()["chunks"][0]
    assert (first["text"], first["reaches_model"]) == (new_text, True)
    assert first["bm25"] and first["fused"]

    stale = call(
        "PUT", edit_url, key=OTHER_KEY, json={"text": "别人的版本", "expected_revision": 0}
    )
    assert stale.status_code == 409, stale.text
    error = stale.json()["error"]
    assert error["code"] == "chunk_changed" and "changed by api:" in error["message"]

    disabled = call("POST", f"{edit_url}/disable", json={"expected_revision": 1})
    assert disabled.status_code == 200 and disabled.json()["state"] == "disabled"
    probe = call(
        "POST", f"{api}/v1/retrieval_test", json={"knowledge_base": KB, "query": "九九七七"}
    )
    assert SOURCE not in [c["source"] for c in probe.json()["chunks"]]

    log = call("GET", f"{api}/v1/knowledge_bases/{KB}/chunk_changes", params={"source": SOURCE})
    assert [(c["kind"], c["before"], c["after"]) for c in log.json()["data"]] == [
        ("disable", new_text, None), ("edit", TEXT, new_text),
    ]  # fmt: skip


def test_the_retrieval_test_shows_scores_the_entity_channel_and_the_cut(api: str) -> None:
    body = {"knowledge_base": KB, "query": "GPT-1模型有多少层、多少个注意力头?", "candidates": 8}
    probe = call("POST", f"{api}/v1/retrieval_test", json=body)
    assert probe.status_code == 200, probe.text
    result = probe.json()
    assert result["k"] == 3 and result["retriever"] == "hybrid"
    chunks = result["chunks"]
    assert [c["reaches_model"] for c in chunks] == [True] * 3 + [False] * (len(chunks) - 3)
    assert [c["rank"] for c in chunks] == list(range(1, len(chunks) + 1))
    added = [c for c in chunks if c["entity"]]
    assert added and added[0]["reaches_model"] and "GPT-1" in added[0]["text"]
    assert all(c["dense"] is not None or c["bm25"] is not None for c in chunks)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("GET", f"/v1/knowledge_bases/nope/chunks?source={SOURCE}", None, 404, "no knowledge base"),
        ("GET", f"/v1/knowledge_bases/{KB}/chunks?source=missing.txt", None, 400, "no document"),
        ("PUT", f"/v1/knowledge_bases/{KB}/chunks/not-a-chunk",
         {"text": "x", "expected_revision": 0}, 404, "no chunk"),
        ("PUT", f"/v1/knowledge_bases/{KB}/chunks/not-a-chunk",
         {"text": "x", "expected_revision": -1}, 400, "expected_revision"),
        ("POST", f"/v1/knowledge_bases/{KB}/chunks/not-a-chunk/explode",
         {"expected_revision": 0}, 400, "action"),
        ("POST", "/v1/retrieval_test", {"knowledge_base": "nope", "query": "q"}, 404, "nope"),
        ("POST", "/v1/retrieval_test", {"knowledge_base": KB, "query": "  "}, 400, "empty"),
        ("POST", "/v1/retrieval_test",
         {"knowledge_base": KB, "query": "q", "candidates": 500}, 400, "candidates"),
    ],
)  # fmt: skip
def test_bad_requests_get_one_line_errors(api, method, path, body, status, says) -> None:
    answer = call(method, f"{api}{path}", json=body)
    assert answer.status_code == status, answer.text
    message = answer.json()["error"]["message"]
    assert says in message and "\n" not in message


def test_an_empty_edit_is_refused_and_a_request_without_a_key_too(api: str) -> None:
    listed = call("GET", f"{api}/v1/knowledge_bases/{KB}/chunks", params={"source": "heads-0.txt"})
    chunk = listed.json()["data"][0]
    url = f"{api}/v1/knowledge_bases/{KB}/chunks/{chunk['chunk_id']}"
    empty = call("PUT", url, json={"text": " ", "expected_revision": 0})
    assert empty.status_code == 400 and "empty" in empty.json()["error"]["message"]
    keyless = httpx.put(url, json={"text": "新的", "expected_revision": 0}, timeout=60)
    assert keyless.status_code == 401
    assert call("GET", listed.url).json()["data"][0]["revision"] == 0


def test_a_reindex_job_names_the_fixes_it_dropped(api: str) -> None:
    source = "heads-2.txt"
    listed = call("GET", f"{api}/v1/knowledge_bases/{KB}/chunks", params={"source": source})
    chunk = listed.json()["data"][0]
    url = f"{api}/v1/knowledge_bases/{KB}/chunks/{chunk['chunk_id']}"
    edited = call("PUT", url, json={"text": chunk["text"] + "（修订）", "expected_revision": 0})
    assert edited.status_code == 200, edited.text
    (FOLDER[0] / source).write_text(chunk["text"] + "文件也改了。", encoding="utf-8")
    job = call("POST", f"{api}/v1/knowledge_bases/{KB}/reindex").json()["job"]
    for _ in range(240):
        status = call("GET", f"{api}/v1/jobs/{job['id']}").json()
        if status["state"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert status["state"] == "done", status
    [dropped] = [p for p in status["problems"] if p["kind"] == "fixes-dropped"]
    assert dropped["source"] == source and "dropped" in dropped["reason"]
    log = call("GET", f"{api}/v1/knowledge_bases/{KB}/chunk_changes", params={"source": source})
    assert log.json()["data"][0]["kind"] == "dropped"
