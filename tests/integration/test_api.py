"""`zhiku serve` with real clients on 127.0.0.1: the official openai SDK, LangChain's
ChatOpenAI, curl reading the SSE stream; keys, uploads, the queue, disconnects."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import load_settings
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import MODELS_DIR, SAMPLES, free_port, serving, start_serve

KEY = "sk-zhiku-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
NOTE = "知库接口测试说明：知库的接口吉祥物叫小蓝鲸，它住在第七号码头。"


@pytest.fixture(scope="module")
def api_settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    folder = tmp_path_factory.mktemp("api-docs")
    shutil.copytree(SAMPLES, folder / "samples")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("api-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="samples",
        top_k=3,
        max_tokens=96,
        api_keys=[KEY],
    )
    assert ingest_paths(open_knowledge_base(settings, "samples"), [folder]).ok
    return settings


@pytest.fixture(scope="module")
def server(api_settings) -> Iterator[str]:
    with serving(api_settings) as served:
        yield served.url
    assert KEY not in served.log.read_text()  # the key is never logged


def test_models_and_keys(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json()["status"] == "ok"  # no key needed
    missing = httpx.get(f"{server}/v1/models")
    wrong = httpx.get(f"{server}/v1/models", headers={"Authorization": "Bearer sk-wrong"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
        assert KEY not in response.text
    models = httpx.get(f"{server}/v1/models", headers=AUTH).json()
    # every knowledge base, then the embedding model of POST /v1/embeddings
    assert [m["id"] for m in models["data"]] == ["zhiku/samples", "use-multilingual-v3"]
    unknown = httpx.post(
        f"{server}/v1/chat/completions",
        headers=AUTH,
        json={"model": "zhiku/nope", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]["message"]


def test_openai_sdk_streaming_and_not(server: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key=KEY)
    reply = client.chat.completions.create(
        model="zhiku/samples", messages=[{"role": "user", "content": "GPT-1有多少层？"}]
    )
    answer = reply.choices[0].message.content
    assert "12" in answer and reply.usage.total_tokens > 0
    extra = reply.model_extra
    assert extra["citations"] and extra["citations"][0]["source"].endswith(".txt")
    assert "来源" in answer  # the sources are in the content too, for plain clients
    assert {"n", "source", "chunk_id", "text", "relevance"} <= set(extra["contexts"][0])

    stream = client.chat.completions.create(
        model="zhiku/samples",
        messages=[{"role": "user", "content": "GPT-1有多少层？"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "12" in text
    assert any((c.model_extra or {}).get("zhiku", {}).get("queue_position") == 0 for c in chunks)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.model_extra["citations"]
    assert last.usage.total_tokens > 0


def test_langchain_chat_openai_with_a_follow_up(server: str) -> None:
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(base_url=f"{server}/v1", api_key=KEY, model="zhiku/samples")
    history = [
        ("human", "GPT-1有多少层？"),
        ("ai", "GPT-1有12层 [1]。"),
        ("human", "它的参数量呢？"),
    ]
    reply = model.invoke(history)
    assert reply.content and reply.response_metadata["model_name"] == "zhiku/samples"
    assert "1.17" in reply.content or "1亿" in reply.content or "资料中没有" in reply.content


def test_curl_reads_the_event_stream(server: str) -> None:
    body = {"model": "zhiku/samples:extractive", "stream": True,
            "messages": [{"role": "user", "content": "GPT-1有多少层？"}]}  # fmt: skip
    result = subprocess.run(
        ["curl", "-sN", f"{server}/v1/chat/completions", "-H", f"Authorization: Bearer {KEY}",
         "-H", "Content-Type: application/json", "-d", json.dumps(body)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    events = [line[6:] for line in result.stdout.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    # the extractive strategy quotes a sentence of the samples, with its marker
    quoted = text.startswith("资料原文：") and re.search(r"\[\d\]", text)
    assert quoted or text.startswith("资料中没有"), text
    assert chunks[-1]["zhiku"]["strategy"] == "extractive"


def test_upload_over_http_then_ask_about_it(server: str) -> None:
    created = httpx.post(f"{server}/v1/knowledge_bases", headers=AUTH, json={"name": "notes"})
    assert created.status_code == 201
    files = [("files", ("../../接口说明.txt", NOTE.encode())), ("files", ("run.exe", b"MZ"))]
    upload = httpx.post(f"{server}/v1/knowledge_bases/notes/documents", headers=AUTH, files=files)
    assert upload.status_code == 202
    assert upload.json()["saved"] == ["接口说明.txt"]
    assert "not supported" in upload.json()["refused"][0]["reason"]
    job = upload.json()["job"]
    for _ in range(600):
        job = httpx.get(f"{server}/v1/jobs/{job['id']}", headers=AUTH).json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert job["state"] == "done" and job["counts"]["files_indexed"] == 1, job
    docs = httpx.get(f"{server}/v1/knowledge_bases/notes/documents", headers=AUTH).json()
    assert [(d["source"], d["chunks"]) for d in docs["data"]] == [("接口说明.txt", 1)]
    assert docs["data"][0]["size_bytes"] > 0 and docs["data"][0]["modified"] > 0
    reply = httpx.post(
        f"{server}/v1/chat/completions",
        headers=AUTH,
        timeout=300,
        json={"model": "zhiku/notes",
              "messages": [{"role": "user", "content": "知库的接口吉祥物叫什么？"}]},
    ).json()  # fmt: skip
    assert "小蓝鲸" in reply["choices"][0]["message"]["content"]
    assert [c["source"] for c in reply["citations"]] == ["接口说明.txt"]
    gone = httpx.delete(f"{server}/v1/knowledge_bases/notes/documents/接口说明.txt", headers=AUTH)
    assert gone.json()["chunks_deleted"] == 1


def _stream_until_running(url: str, question: str, max_tokens: int = 512) -> httpx.Response:
    """Open a streamed request and read until the server says it is generating."""
    client = httpx.Client(timeout=300)
    body = {"model": "zhiku/samples", "stream": True, "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": question}]}  # fmt: skip
    response = client.send(
        client.build_request("POST", f"{url}/v1/chat/completions", headers=AUTH, json=body),
        stream=True,
    )
    for line in response.iter_lines():
        if '"queue_position": 0' in line:
            return response
    raise AssertionError("the request never started")


def test_full_queue_is_429_and_a_disconnect_frees_the_model(api_settings) -> None:
    with serving(api_settings, ZHIKU_MAX_QUEUE="0", ZHIKU_ABSTAIN="false") as served:
        url = served.url
        long_question = "请详细介绍 Transformer、BERT、GPT 系列和 RAG，越详细越好，逐条展开。"
        first = _stream_until_running(url, long_question)
        refused = httpx.post(
            f"{url}/v1/chat/completions",
            headers=AUTH,
            json={"model": "zhiku/samples", "messages": [{"role": "user", "content": "RAG？"}]},
        )
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert refused.json()["error"]["code"] == "queue_full"
        assert httpx.get(f"{url}/healthz").json()["running"] == 1
        first.close()  # the client goes away mid-generation
        deadline = time.monotonic() + 20
        while httpx.get(f"{url}/healthz").json()["running"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert httpx.get(f"{url}/healthz").json()["running"] == 0, "the slot was not freed"
        after = httpx.post(
            f"{url}/v1/chat/completions",
            headers=AUTH,
            timeout=300,
            json={
                "model": "zhiku/samples",
                "messages": [{"role": "user", "content": "RAG是什么？"}],
            },
        )
        assert after.status_code == 200


def test_concurrent_first_requests_after_start_all_get_answers(api_settings) -> None:
    results: list[int] = []

    def ask() -> None:
        response = httpx.post(
            f"{url}/v1/chat/completions",
            headers=AUTH,
            timeout=600,
            json={"model": "zhiku/samples", "max_tokens": 32,
                  "messages": [{"role": "user", "content": "RAG是什么？"}]},
        )  # fmt: skip
        results.append(response.status_code)

    with serving(api_settings) as served:
        url = served.url
        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
    assert results == [200, 200, 200, 200], served.log.read_text()


def test_readme_curl_and_python_examples_run_as_written(api_settings) -> None:
    from app.settings import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## An OpenAI-compatible API", 1)[1].split("\n## ", 1)[0]
    curl = section.split("```bash\n")[2].split("```", 1)[0]
    python = section.split("```python\n", 1)[1].split("```", 1)[0]
    keyless = api_settings.updated(**{"api_keys": []})  # as the README runs it
    with serving(keyless) as served:
        url = served.url
        shell = subprocess.run(
            ["bash", "-c", curl.replace("http://127.0.0.1:8000", url)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        reply = json.loads(shell.stdout)
        assert "12" in reply["choices"][0]["message"]["content"] and reply["citations"]
        script = subprocess.run(
            [sys.executable, "-c", python.replace("http://127.0.0.1:8000", url)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert script.returncode == 0, script.stderr
        assert "12" in script.stdout and "source" in script.stdout


def test_no_keys_means_loopback_only(api_settings) -> None:
    from tests.helpers import zhiku

    keyless = api_settings.updated(**{"api_keys": []})
    result = zhiku(keyless, "serve", "--host", "0.0.0.0", "--port", str(free_port()), timeout=60)
    assert result.returncode == 1
    assert "refusing to listen on 0.0.0.0 without API keys" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_server_killed_mid_job_finishes_the_job_when_it_starts_again(make_settings) -> None:
    from tests.helpers import CMRC

    settings = make_settings(api_keys=[KEY])
    first = start_serve(settings)
    url = first.url
    httpx.post(f"{url}/v1/knowledge_bases", headers=AUTH, json={"name": "wiki"})
    papers = sorted(CMRC.glob("*.txt"))[:120]
    files = [("files", (p.name, p.read_bytes())) for p in papers]
    upload = httpx.post(
        f"{url}/v1/knowledge_bases/wiki/documents", headers=AUTH, files=files, timeout=120
    )
    assert len(upload.json()["saved"]) == len(papers)
    job_id = upload.json()["job"]["id"]
    for _ in range(200):  # wait until it is indexing, then kill it mid-job
        if httpx.get(f"{url}/v1/jobs/{job_id}", headers=AUTH).json()["files_done"] > 0:
            break
        time.sleep(0.05)
    first.proc.kill()
    first.proc.wait(timeout=30)
    with serving(settings) as served:  # the job runs again on start
        url = served.url
        deadline = time.monotonic() + 600
        documents: list = []
        while time.monotonic() < deadline:
            documents = httpx.get(f"{url}/v1/knowledge_bases/wiki/documents", headers=AUTH).json()[
                "data"
            ]
            records = (settings.storage.data_dir / "jobs").glob("*.json")
            pending = [r for r in records if json.loads(r.read_text())["state"] != "done"]
            if len(documents) == len(papers) and not pending:
                break
            time.sleep(1)
    assert sorted(d["source"] for d in documents) == [p.name for p in papers]
    kb = open_knowledge_base(settings, "wiki")
    ids = kb.store.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == sum(d["chunks"] for d in documents)  # no duplicates
