"""Retrieval only over HTTP, against a real `zhiku serve`: zhiku's `POST /v1/retrieve` and
Dify's external-knowledge `POST /retrieval` in the shapes Dify documents (request
`knowledge_id`, `query`, `retrieval_setting{top_k, score_threshold}`; answer
`records[{content, score, title, metadata}]`; errors `{error_code, error_msg}` with 1001,
1002, 2001), with httpx and curl. No chat model is loaded."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import load_settings
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import MODELS_DIR, SAMPLES, serving

KEY = "sk-zhiku-retrieve-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
QUERY = "GPT-1有多少层？"
TIMEOUT = 120  # the first request loads the embedding model, on a busy machine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("retrieve-docs")
    shutil.copytree(SAMPLES, folder / "samples")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("retrieve-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="samples",
        api_keys=[KEY],
    )
    assert ingest_paths(open_knowledge_base(settings, "samples"), [folder]).ok
    with serving(settings) as served:
        yield served.url
    assert KEY not in served.log.read_text()


def dify(server: str, body: dict, headers: dict | None = None) -> httpx.Response:
    headers = AUTH if headers is None else headers
    return httpx.post(f"{server}/retrieval", json=body, headers=headers, timeout=TIMEOUT)


def test_v1_retrieve_returns_scored_chunks(server: str) -> None:
    reply = httpx.post(
        f"{server}/v1/retrieve", headers=AUTH, timeout=TIMEOUT,
        json={"knowledge_base": "samples", "query": QUERY, "k": 4},
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    chunks = reply.json()["data"]
    assert len(chunks) == 4
    for chunk in chunks:
        assert set(chunk) == {"chunk_id", "source", "page", "text", "score", "scores", "relevance"}
        assert chunk["relevance"] in ("strong", "partial", "weak")
        assert 0.0 <= chunk["score"] <= 1.0 and chunk["text"] and chunk["chunk_id"]
    assert "12" in chunks[0]["text"] or "12" in chunks[1]["text"]
    assert chunks[0]["score"] == chunks[0]["scores"]["dense"]  # the score is dense cosine
    # a threshold between the scores keeps exactly the chunks at or above it
    middle = sorted(c["score"] for c in chunks)[2]
    kept = httpx.post(
        f"{server}/v1/retrieve", headers=AUTH, timeout=TIMEOUT,
        json={"knowledge_base": "samples", "query": QUERY, "k": 4, "score_threshold": middle},
    ).json()["data"]  # fmt: skip
    assert [c["chunk_id"] for c in kept] == [c["chunk_id"] for c in chunks if c["score"] >= middle]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"knowledge_base": "nope", "query": QUERY}, 404, "no knowledge base 'nope'"),
        ({"knowledge_base": "samples", "query": "  "}, 400, "query is empty"),
        ({"knowledge_base": "samples", "query": QUERY, "k": 0}, 400, "k must be between 1 and 50"),
        ({"knowledge_base": "samples", "query": QUERY, "k": 51}, 400, "k must be between"),
        ({"knowledge_base": "samples", "query": "问" * 5000}, 400, "the limit is 4000"),
        ({"knowledge_base": "samples"}, 400, "query"),
    ],
)
def test_v1_retrieve_bad_input_is_one_line_in_openai_shape(
    server: str, body: dict, status: int, fragment: str
) -> None:
    reply = httpx.post(f"{server}/v1/retrieve", headers=AUTH, json=body, timeout=TIMEOUT)
    assert reply.status_code == status, reply.text
    message = reply.json()["error"]["message"]
    assert fragment in message and "\n" not in message


def test_v1_retrieve_needs_the_key(server: str) -> None:
    reply = httpx.post(f"{server}/v1/retrieve", json={"knowledge_base": "samples", "query": QUERY})
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "invalid_api_key"


def test_dify_external_knowledge_shape(server: str) -> None:
    body = {
        "knowledge_id": "samples",
        "query": QUERY,
        "retrieval_setting": {"top_k": 3, "score_threshold": 0.0},
        "metadata_condition": {"logical_operator": "and", "conditions": []},
    }
    reply = dify(server, body)
    assert reply.status_code == 200, reply.text
    records = reply.json()["records"]
    assert len(records) == 3
    for record in records:
        assert {"content", "score", "title", "metadata"} <= set(record)
        assert isinstance(record["metadata"], dict)  # Dify fails on null metadata
        assert 0.0 <= record["score"] <= 1.0 and record["title"] == record["metadata"]["source"]
    # a threshold above every score: HTTP 200 with an empty list, as Dify documents
    body["retrieval_setting"]["score_threshold"] = 1.0
    assert dify(server, body).json() == {"records": []}


def test_dify_error_codes(server: str) -> None:
    body = {"knowledge_id": "samples", "query": QUERY,
            "retrieval_setting": {"top_k": 3, "score_threshold": 0.5}}  # fmt: skip
    for headers in ({}, {"Authorization": KEY}, {"Authorization": "Basic abc"}):
        reply = dify(server, body, headers)
        assert reply.status_code == 403
        assert reply.json()["error_code"] == 1001, reply.text
    wrong = dify(server, body, {"Authorization": "Bearer sk-wrong"})
    assert wrong.status_code == 403 and wrong.json()["error_code"] == 1002
    assert KEY not in wrong.text
    missing = dify(server, {**body, "knowledge_id": "nope"})
    assert missing.status_code == 404 and missing.json()["error_code"] == 2001
    for bad in ({**body, "query": ""}, {**body, "retrieval_setting": {"top_k": 999}},
                {"query": QUERY}):  # fmt: skip
        reply = dify(server, bad)
        assert reply.status_code == 400, reply.text
        assert set(reply.json()) == {"error_code", "error_msg"}
        assert "\n" not in reply.json()["error_msg"]


def test_curl_as_dify_sends_it(server: str) -> None:
    """The request exactly as Dify's documentation shows it, sent with curl; the threshold
    (on the dense cosine similarity) keeps the relevant chunks and drops an unrelated query's."""

    def curl(query: str) -> list[dict]:
        body = {"knowledge_id": "samples", "query": query,
                "retrieval_setting": {"top_k": 2, "score_threshold": 0.1}}  # fmt: skip
        out = subprocess.run(
            ["curl", "-s", "-X", "POST", f"{server}/retrieval",
             "-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {KEY}",
             "-d", json.dumps(body)],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        return json.loads(out)["records"]

    records = curl("What is retrieval-augmented generation?")
    assert len(records) == 2 and all(r["score"] >= 0.1 for r in records)
    assert all("rag" in r["title"].lower() for r in records)
    assert curl("今天天气怎么样") == []
