"""`python -m bench serve`: `zhiku serve` under load, on 127.0.0.1 only, bounded and self-stopping.

- Local backend: 8 concurrent clients × 3 different questions through the API, against the
  same 24 questions answered one after another in-process (the baseline; both with one
  llama.cpp seed, so both sides generate the same answers): the throughput ratio
  says what the queue and the HTTP layer cost. p50/p95 latency and queue wait reported;
  server overhead per request = API round-trip − queue wait − the chain's own time.
- Hosted backend: a small OpenAI-compatible test server that streams a fixed reply after
  a fixed delay and answers in parallel; 8 concurrent requests against one alone.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from app.settings import REPO_ROOT, Settings, load_settings
from bench.common import env_for
from bench.servers import free_port, start_zhiku_serve

# 24 different questions (8 clients × 3): the same question twice in a row would let
# llama.cpp reuse the whole cached prompt and flatter whichever side got the repeats.
QUESTIONS = [
    "GPT-1有多少层？", "RAG是什么？", "BM25 按什么给片段打分？", "Transformer 是哪一年提出的？",
    "GPT-2 的参数量是多少？", "什么是向量检索？", "嵌入模型把文本变成什么？", "GPT-3 有多少参数？",
    "什么是注意力机制？", "多头注意力有什么用？", "RAG 的检索步骤做什么？", "什么是余弦相似度？",
    "ChatGPT 是什么时候发布的？", "什么是位置编码？", "什么是知识库问答？", "BERT 是什么模型？",
    "什么是分词？", "大语言模型是什么？", "向量数据库保存什么？", "什么是微调？",
    "什么是提示词？", "RAG 为什么能减少幻觉？", "编码器和解码器有什么区别？", "什么是预训练？",
]  # fmt: skip
CLIENTS = 8
HOSTED_DELAY_S = 2.0
HOSTED_REPLY = "GPT-1有12层 [1]。"


def _settings(**overrides) -> Settings:
    data = Path(tempfile.mkdtemp(prefix="zhiku-bench-serve-"))
    return load_settings(
        data_dir=data, cache_dir=REPO_ROOT / ".cache", collection="samples",
        embedding_backend="use", top_k=3, max_tokens=96, llm_seed=7, **overrides,
    )  # fmt: skip


def _ingest(settings: Settings) -> None:
    from ingest.indexing import ingest_paths, open_knowledge_base

    report = ingest_paths(open_knowledge_base(settings, "samples"), [REPO_ROOT / "samples"])
    if not report.ok:
        raise RuntimeError(f"the samples did not index: {report}")


def _ask(url: str, question: str) -> dict:
    """One streamed request: round-trip, queue wait, and the chain's own total time."""
    started = time.perf_counter()
    waited, chain_s, text = 0.0, 0.0, ""
    body = {"model": "zhiku/samples", "stream": True,
            "messages": [{"role": "user", "content": question}]}  # fmt: skip
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=900) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: {"):
                continue
            data = json.loads(line[6:])
            if data.get("zhiku", {}).get("queue_position") == 0 and not waited:
                waited = time.perf_counter() - started
            if "timings" in data.get("zhiku", {}):
                chain_s = data["zhiku"]["timings"]["total_s"]
            text += data["choices"][0]["delta"].get("content") or ""
    total = time.perf_counter() - started
    return {"total_s": total, "queue_s": waited, "chain_s": chain_s, "ok": bool(text)}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def local_load() -> dict:
    from app.answering.chain import build_rag_chain

    settings = _settings()
    _ingest(settings)
    chain = build_rag_chain(settings)
    chain.invoke(QUESTIONS[0])  # model loaded and warm, like the server after its first
    started = time.perf_counter()
    for question in QUESTIONS:
        chain.invoke(question)
    sequential_s = time.perf_counter() - started

    proc, url = start_zhiku_serve(env_for(settings))
    try:
        _ask(url, QUESTIONS[0])  # warm the server's model too
        results: list[dict] = []
        lock = threading.Lock()

        def client(mine: list[str]) -> None:
            for question in mine:
                outcome = _ask(url, question)
                with lock:
                    results.append(outcome)

        started = time.perf_counter()
        threads = [
            threading.Thread(target=client, args=(QUESTIONS[c::CLIENTS],)) for c in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=3600)
        concurrent_s = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    totals = [r["total_s"] for r in results]
    overhead = [r["total_s"] - r["queue_s"] - r["chain_s"] for r in results]
    return {
        "requests": len(results),
        "answered": sum(r["ok"] for r in results),
        "sequential_in_process_s": round(sequential_s, 1),
        "concurrent_api_s": round(concurrent_s, 1),
        "throughput_ratio": round(sequential_s / concurrent_s, 3),
        "latency_p50_s": round(_percentile(totals, 0.5), 1),
        "latency_p95_s": round(_percentile(totals, 0.95), 1),
        "queue_wait_p50_s": round(_percentile([r["queue_s"] for r in results], 0.5), 1),
        "queue_wait_p95_s": round(_percentile([r["queue_s"] for r in results], 0.95), 1),
        "server_overhead_p50_ms": round(statistics.median(overhead) * 1000, 1),
    }


def _fake_hosted_server(port: int) -> None:
    """An OpenAI-compatible server that streams a fixed reply after a fixed delay, in
    parallel (asyncio): the measurement of the hosted path only, never a test double."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(body: dict):
        async def events():
            await asyncio.sleep(HOSTED_DELAY_S)
            for piece in (HOSTED_REPLY[:5], HOSTED_REPLY[5:]):
                chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0,
                         "model": "fixed", "choices": [{"index": 0, "delta": {"content": piece},
                         "finish_reason": None}]}  # fmt: skip
                yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def hosted_load() -> dict:
    port = free_port()
    threading.Thread(target=_fake_hosted_server, args=(port,), daemon=True).start()
    settings = _settings(
        backend="hosted", hosted_base_url=f"http://127.0.0.1:{port}/v1", hosted_model="fixed",
        hosted_concurrency=CLIENTS,
    )  # fmt: skip
    _ingest(settings)
    proc, url = start_zhiku_serve(env_for(settings))
    try:
        _ask(url, QUESTIONS[0])  # warm: embeddings loaded
        one = _ask(url, QUESTIONS[0])["total_s"]
        results: list[float] = []
        threads = [
            threading.Thread(target=lambda: results.append(_ask(url, QUESTIONS[0])["total_s"]))
            for _ in range(CLIENTS)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        together = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "delay_s": HOSTED_DELAY_S,
        "one_request_s": round(one, 2),
        "eight_concurrent_s": round(together, 2),
        "ratio": round(together / one, 3),
        "answered": len(results),
    }


def run() -> dict:
    return {"hosted": hosted_load(), "local": local_load()}


if __name__ == "__main__":
    which = sys.argv[1:] or ["hosted", "local"]
    print(json.dumps({w: {"hosted": hosted_load, "local": local_load}[w]() for w in which},
                     indent=2))  # fmt: skip
