"""`python -m bench auth` (issue 24): what accounts and scoped keys cost.

- `POST /v1/retrieve` on three real `zhiku serve`s over the same data folder: keyless
  (today's default, no check), `ZHIKU_API_KEYS` (a constant-time compare) and
  `ZHIKU_AUTH=local` with a scoped key (a SHA-256 and one indexed SQLite read per
  request, the grants read with it). Interleaved query by query, one request at a
  time, warmed up first; p50/p95 and the ratio to keyless at p50 (target ≤ 1.05×).
- The key check alone, in-process: `Callers.identify` for a scoped key and an env key.
- Password sign-in (`Access.sign_in`, argon2id verify), p50 of 20.

- Answers (`/v1/chat/completions`, the default local model, a fixed seed so both sides
  write the same tokens): keyless vs a scoped key, one request at a time, who goes first
  alternating, each question once per server (a repeat would reuse llama.cpp's cache).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx

from app.auth import Callers, open_access
from app.settings import REPO_ROOT, Settings, load_settings
from bench.common import CORPORA, env_for
from bench.serve_bench import QUESTIONS
from bench.servers import start_zhiku_serve

KB = "llm_articles"
ENV_KEY = "sk-bench-auth-env"
PASSWORD = "bench password 24"
ROUNDS = 3  # each question this many times per server
ANSWERS = 12  # questions answered by the model on each side


def _stats(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 3),
        "n": len(ordered),
    }


def _timed(call, times: int) -> list[float]:
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def _settings() -> Settings:
    data = Path(tempfile.mkdtemp(prefix="zhiku-bench-auth-"))
    return load_settings(data_dir=data, cache_dir=REPO_ROOT / ".cache", collection=KB,
                         top_k=3, max_tokens=96, llm_seed=7)  # fmt: skip


def _answers(servers: dict[str, tuple[str, dict]]) -> dict[str, list[float]]:
    """Each question answered once by every server in turn, after one warm-up each."""
    clients = {name: httpx.Client(headers=h, timeout=900) for name, (_u, h) in servers.items()}

    def ask(name: str, question: str) -> float:
        body = {"model": f"zhiku/{KB}", "messages": [{"role": "user", "content": question}]}
        started = time.perf_counter()
        clients[name].post(f"{servers[name][0]}/v1/chat/completions", json=body).raise_for_status()
        return time.perf_counter() - started

    for name in servers:
        ask(name, QUESTIONS[-1])  # the model loaded and warm
    seconds: dict[str, list[float]] = {name: [] for name in servers}
    names = list(servers)
    for i, question in enumerate(QUESTIONS[:ANSWERS]):
        for name in names[i % 2 :] + names[: i % 2]:
            seconds[name].append(ask(name, question))
    for client in clients.values():
        client.close()
    return seconds


def _retrieve(servers: dict[str, tuple[str, dict]]) -> dict[str, list[float]]:
    """Each question through every server in turn; three warm-up questions first."""
    clients = {name: httpx.Client(headers=h, timeout=120) for name, (_u, h) in servers.items()}

    def ask(name: str, query: str) -> float:
        url = servers[name][0]
        started = time.perf_counter()
        body = {"knowledge_base": KB, "query": query, "k": 5}
        clients[name].post(f"{url}/v1/retrieve", json=body).raise_for_status()
        return time.perf_counter() - started

    for query in QUESTIONS[:3]:
        for name in servers:
            ask(name, query)
    seconds: dict[str, list[float]] = {name: [] for name in servers}
    names = list(servers)
    for round_ in range(ROUNDS):
        for i, query in enumerate(QUESTIONS):
            shift = (round_ + i) % len(names)  # each server goes first as often
            for name in names[shift:] + names[:shift]:
                seconds[name].append(ask(name, query))
    for client in clients.values():
        client.close()
    return seconds


def run() -> dict:
    from ingest.indexing import ingest_paths, open_knowledge_base

    settings = _settings()
    if not ingest_paths(open_knowledge_base(settings, KB), [CORPORA[KB]]).ok:
        raise RuntimeError(f"{KB} did not index")
    access = open_access(settings)
    access.add_user("reader", PASSWORD, "viewer")
    access.grant("user:reader", KB, "viewer")
    scoped = access.create_key("user:reader", [KB], ["ask", "read"]).secret
    env = env_for(settings)
    procs = []
    try:
        plain, keyless_url = start_zhiku_serve(env)
        procs.append(plain)
        keyed, keyed_url = start_zhiku_serve({**env, "ZHIKU_API_KEYS": f'["{ENV_KEY}"]'})
        procs.append(keyed)
        local, local_url = start_zhiku_serve({**env, "ZHIKU_AUTH": "local"})
        procs.append(local)
        seconds = _retrieve({
            "keyless (ZHIKU_AUTH=none)": (keyless_url, {}),
            "ZHIKU_API_KEYS": (keyed_url, {"Authorization": f"Bearer {ENV_KEY}"}),
            "ZHIKU_AUTH=local, scoped key": (local_url, {"Authorization": f"Bearer {scoped}"}),
        })  # fmt: skip
        keyed.terminate()  # only two models in memory for the answers
        answered = _answers({
            "keyless (ZHIKU_AUTH=none)": (keyless_url, {}),
            "ZHIKU_AUTH=local, scoped key": (local_url, {"Authorization": f"Bearer {scoped}"}),
        })  # fmt: skip
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
    rows = _compared(seconds)
    answers = _compared(answered)
    local_callers = Callers(settings.updated(auth="local", api_keys=[ENV_KEY]))
    checks = {
        "scoped key (Callers.identify)": _stats(
            _timed(lambda: local_callers.identify(f"Bearer {scoped}"), 2000)
        ),
        "env key (Callers.identify)": _stats(
            _timed(lambda: local_callers.identify(f"Bearer {ENV_KEY}"), 2000)
        ),
        "password sign-in (argon2id)": _stats(
            _timed(lambda: access.sign_in("reader", PASSWORD), 20)
        ),
    }
    return {"knowledge_base": KB, "k": 5, "retrieve": rows, "answers": answers, "checks": checks}


def _compared(seconds: dict[str, list[float]]) -> dict[str, dict]:
    """p50/p95 per side, the ratio to keyless at p50 and the median paired difference."""
    rows = {name: _stats(values) for name, values in seconds.items()}
    keyless = seconds["keyless (ZHIKU_AUTH=none)"]
    base = rows["keyless (ZHIKU_AUTH=none)"]["p50_ms"]
    for name, row in rows.items():
        row["ratio_p50"] = round(row["p50_ms"] / base, 3)
        # the same query just before or after on the keyless server: robust to load drift
        paired = [b - a for a, b in zip(keyless, seconds[name], strict=True)]
        row["paired_extra_ms_p50"] = round(statistics.median(paired) * 1000, 3)
    return rows


def report(result: dict, command: str, machine: str) -> list[str]:
    lines = [f"Run on {machine}; command `{command}`.", "",
             "| `/v1/retrieve` (k = 5) | p50 ms | p95 ms | n | ratio to keyless at p50 | "
             "paired extra ms (median) |", "|---|---|---|---|---|---|"]  # fmt: skip
    lines += _rows(result["retrieve"])
    lines += ["", "| answers (`/v1/chat/completions`, local model, k = 3) | p50 ms | p95 ms | n | "
              "ratio to keyless at p50 | paired extra ms (median) |",
              "|---|---|---|---|---|---|", *_rows(result["answers"])]  # fmt: skip
    lines += ["", "| check alone, in-process | p50 ms | p95 ms | n |", "|---|---|---|---|"]
    for name, row in result["checks"].items():
        lines.append(f"| {name} | {row['p50_ms']:.3f} | {row['p95_ms']:.3f} | {row['n']} |")
    return lines


def _rows(rows: dict[str, dict]) -> list[str]:
    return [f"| {name} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['n']} | "
            f"**{row['ratio_p50']:.3f}×** | {row['paired_extra_ms_p50']:+.2f} |"
            for name, row in rows.items()]  # fmt: skip
