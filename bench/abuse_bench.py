"""`python -m bench abuse`: the honest user of `zhiku serve` while issue 22's attacks arrive.

Bounded and loopback-only: it starts its own `zhiku serve` (the fast 0.5B unless
ZHIKU_LLM_MODEL says otherwise) on 127.0.0.1, sends a fixed number of requests and stops.
On a machine other work shares, ZHIKU_LLM_THREADS=1 keeps llama.cpp's threads from
waiting on each other behind that work (the figures in docs/benchmarks.md say which).

1. Idle: the honest user asks QUESTIONS one after another (same seed, same order in
   every phase, so each phase generates the same answers) — the baseline p50.
2. Refused abuse: the same questions while an abuser sends, at ABUSE_RATE per second,
   only requests the server must refuse: a 500 MB upload (by Content-Length), a JSON
   body over ZHIKU_MAX_JSON_MB, malformed JSON, a 920k-character message, `n=5`, a
   foreign Origin and a rebinding Host (keyless server), no or a wrong key (a second,
   keyed server). Target: honest p50 within 1.2× of idle, no 5xx, RSS flat (±10 %).
   Phases 1 and 2 alternate ROUNDS times, so load from outside the bench (the machine is
   shared) falls on both alike.
3. Option sweep: requests with temperature 0.11…0.14 and one max_tokens=32768 (issue 22
   item 2: each used to load another copy of the model). Each is streamed and dropped
   once its generation starts (a copy of the model is loaded before that; the server
   stops a dropped generation at once), so a 32768-token answer does not run for minutes.
   Target: RSS flat (±10 %).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from app.settings import REPO_ROOT, Settings, load_settings
from bench.common import env_for
from bench.servers import start_zhiku_serve

QUESTIONS = ["GPT-1有多少层？", "RAG是什么？"]
ABUSE_RATE = 20.0  # refused requests per second, from one client thread
ROUNDS = 6  # phases alternate; 2 questions each: 12 answers per side for the p50
KEY = "sk-zhiku-bench-abuse"
SWEEP = [{"temperature": t} for t in (0.11, 0.12, 0.13, 0.14)] + [{"max_tokens": 32768}]


def _settings(model: str | None) -> Settings:
    overrides = {"llm_model": model} if model else {}
    return load_settings(
        data_dir=Path(tempfile.mkdtemp(prefix="zhiku-bench-abuse-")),
        cache_dir=REPO_ROOT / ".cache", collection="samples", embedding_backend="use",
        top_k=3, max_tokens=64, llm_seed=7, **overrides,
    )  # fmt: skip


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


class Tally:
    """Status codes seen, by who sent the request."""

    def __init__(self) -> None:
        self.codes: dict[str, dict[int, int]] = {}
        self.lock = threading.Lock()

    def add(self, who: str, status: int) -> None:
        with self.lock:
            seen = self.codes.setdefault(who, {})
            seen[status] = seen.get(status, 0) + 1

    def server_errors(self) -> int:
        return sum(n for seen in self.codes.values() for s, n in seen.items() if s >= 500)


def _ask(url: str, question: str, tally: Tally, headers: dict | None = None, **options) -> float:
    started = time.perf_counter()
    body = {"model": "zhiku/samples", "messages": [{"role": "user", "content": question}],
            **options}  # fmt: skip
    reply = httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=900)
    tally.add("honest" if not options else "sweep", reply.status_code)
    return time.perf_counter() - started


def _honest(url: str, tally: Tally, headers: dict | None = None) -> list[float]:
    return [_ask(url, q, tally, headers) for q in QUESTIONS]


def _sweep(url: str, options: dict, tally: Tally) -> None:
    """A streamed request with these options, dropped once its generation starts; then
    wait until the server has freed the model."""
    body = {"model": "zhiku/samples", "stream": True, **options,
            "messages": [{"role": "user", "content": QUESTIONS[0]}]}  # fmt: skip
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=900) as reply:
        tally.add("sweep", reply.status_code)
        for line in reply.iter_lines():
            if '"queue_position": 0' in line:
                break
    deadline = time.monotonic() + 60
    while httpx.get(f"{url}/healthz").json()["running"] and time.monotonic() < deadline:
        time.sleep(0.2)


def _say(message: str) -> None:
    print(f"[abuse] {message}", file=sys.stderr, flush=True)


def _oversized_upload(url: str) -> int:
    """A 500 MB upload announced by Content-Length: the status the server answers with."""
    host, port = url.removeprefix("http://").split(":")
    head = (
        f"POST /v1/knowledge_bases/samples/documents HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 500000000\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + b"--b\r\n" + b"a" * 65536)
        reply = sock.recv(256)
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0


def _refused_requests(keyless: str, keyed: str) -> list:
    """One round of requests the servers must refuse, each as a callable → status.

    Bodies are encoded once and one connection pool is reused: the abuser shares the
    2 cores with the server, and re-encoding 9 MB per request would measure the client."""
    chat = f"{keyless}/v1/chat/completions"
    port = keyless.rsplit(":", 1)[1]
    one = [{"role": "user", "content": "hi"}]
    as_json = {"Content-Type": "application/json"}
    oversized = json.dumps({"pad": "x" * 9_000_000}).encode()
    huge_question = json.dumps({"model": "zhiku/samples", "messages": [
        {"role": "user", "content": "问" * 920_000}]}).encode()  # fmt: skip
    client = httpx.Client(timeout=60)
    return [
        lambda: _oversized_upload(keyless),
        lambda: client.post(chat, content=b'{"model": "zhiku/samples", "messages": [',
                            headers=as_json).status_code,
        lambda: client.post(chat, content=oversized, headers=as_json).status_code,
        lambda: client.post(chat, content=huge_question, headers=as_json).status_code,
        lambda: client.post(chat, json={"model": "zhiku/samples", "n": 5,
                                        "messages": one}).status_code,
        lambda: client.post(f"{keyless}/v1/knowledge_bases/samples/reindex",
                            headers={"Origin": "http://evil.example"}).status_code,
        lambda: client.get(f"{keyless}/v1/knowledge_bases",
                           headers={"Host": f"rebind.evil.example:{port}"}).status_code,
        lambda: client.get(f"{keyed}/v1/knowledge_bases").status_code,
        lambda: client.post(f"{keyed}/v1/chat/completions", json={"model": "zhiku/samples",
                            "messages": one}, headers={"Authorization": "Bearer sk-wrong"}
                            ).status_code,
    ]  # fmt: skip


def _abuser(requests: list, tally: Tally, stop: threading.Event, limit: int) -> None:
    sent = 0
    while not stop.is_set() and sent < limit:
        started = time.perf_counter()
        try:
            status = requests[sent % len(requests)]()
        except (httpx.HTTPError, OSError):
            status = 0  # the connection was closed on us: counted, not a 5xx
        tally.add("abuser", status)
        sent += 1
        stop.wait(max(0.0, 1 / ABUSE_RATE - (time.perf_counter() - started)))


def run(model: str | None = None) -> dict:
    from ingest.indexing import ingest_paths, open_knowledge_base

    settings = _settings(model)
    report = ingest_paths(open_knowledge_base(settings, "samples"), [REPO_ROOT / "samples"])
    if not report.ok:
        raise RuntimeError(f"the samples did not index: {report}")
    keyless, url = start_zhiku_serve(env_for(settings))
    keyed_settings = settings.updated(**{"api_keys": []})
    keyed, keyed_url = start_zhiku_serve({**env_for(keyed_settings),
                                          "ZHIKU_API_KEYS": json.dumps([KEY])})  # fmt: skip
    tally = Tally()
    try:
        _ask(url, QUESTIONS[-1], tally)  # load the model; the prompt cache as each phase starts
        rss_start = _rss_mb(keyless.pid)
        _say(f"model loaded, RSS {rss_start:.0f} MB")
        idle: list[float] = []
        busy: list[float] = []
        for _ in range(ROUNDS):
            idle += _honest(url, tally)
            stop = threading.Event()
            abuser = threading.Thread(
                target=_abuser, args=(_refused_requests(url, keyed_url), tally, stop, 5000)
            )
            abuser.start()
            busy += _honest(url, tally)
            stop.set()
            abuser.join()
            _say(f"idle p50 {statistics.median(idle):.2f} s, busy {statistics.median(busy):.2f} s")
        rss_refused = _rss_mb(keyless.pid)
        _say(f"busy p50 {statistics.median(busy):.2f} s, RSS {rss_refused:.0f} MB; sweep")
        sweep_started = time.perf_counter()
        for options in SWEEP:
            _sweep(url, options, tally)
        sweep_s = time.perf_counter() - sweep_started
        rss_sweep = _rss_mb(keyless.pid)
        _say(f"sweep done, RSS {rss_sweep:.0f} MB; honest questions after it")
        after_sweep = _honest(url, tally)
        load = os.getloadavg()
    finally:
        for proc in (keyless, keyed):
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:  # a generation still running: stop it anyway
                proc.kill()
                proc.wait()
    p50_idle, p50_busy = statistics.median(idle), statistics.median(busy)
    abused = tally.codes.get("abuser", {})
    return {
        "model": settings.chat_model.llm_model,
        "questions_per_phase": len(QUESTIONS) * ROUNDS,
        "honest_p50_idle_s": round(p50_idle, 2),
        "honest_p50_refused_abuse_s": round(p50_busy, 2),
        "p50_ratio_busy_idle": round(p50_busy / p50_idle, 3),
        "honest_p50_after_sweep_s": round(statistics.median(after_sweep), 2),
        "abusive_requests": sum(abused.values()),
        "abusive_status_counts": dict(sorted(abused.items())),
        "abuse_rate_per_s": ABUSE_RATE,
        "sweep_requests": len(SWEEP),
        "sweep_s": round(sweep_s, 1),
        "rss_mb_start": round(rss_start),
        "rss_mb_after_refused": round(rss_refused),
        "rss_mb_after_sweep": round(rss_sweep),
        "rss_change_refused": round(rss_refused / rss_start - 1, 3),
        "rss_change_sweep": round(rss_sweep / rss_start - 1, 3),
        "server_5xx": tally.server_errors(),
        "load_avg_1_5_15": [round(x, 2) for x in load],
        "status_counts": {who: dict(sorted(s.items())) for who, s in tally.codes.items()},
    }
