"""Paths and helpers shared by the benchmarks."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from app.evaluation.retrieval_metrics import evidence_hit_at, hit_at, reciprocal_rank
from app.settings import REPO_ROOT, Settings, settings_env

SHARED = REPO_ROOT.parent / "shared"
CORPORA = {
    "cmrc2018_trial": SHARED / "corpora" / "cmrc2018_trial",
    "llm_articles": SHARED / "corpora" / "llm_articles",
}
QUESTIONS = {
    "cmrc2018_trial": SHARED / "eval" / "cmrc2018_trial.jsonl",
    "llm_articles": SHARED / "eval" / "llm_articles.dev.jsonl",
}
RESULTS = REPO_ROOT / "bench" / "results"


def read_questions(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def env_for(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIKU_")}
    return {**env, **settings_env(settings)}


def run_zhiku(settings: Settings, *args: str) -> tuple[float, float, str]:
    """Run `zhiku ARGS` in a child; returns (seconds, peak RSS of the child in MB, stdout)."""
    script = Path(sys.executable).with_name("zhiku")
    started = time.perf_counter()
    result = subprocess.run(
        [str(script), *args], env=env_for(settings), capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 2):
        raise RuntimeError(f"zhiku {' '.join(args)} failed: {result.stderr[-2000:]}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak_mb, result.stdout


def summary_value(stdout: str, row: str) -> int:
    for line in stdout.splitlines():
        if f" {row} " in line:
            return int(line.strip("│ ").split("│")[-1].strip())
    raise ValueError(f"no row {row!r} in the ingest summary")


def score_retriever(retriever, questions: list[dict]) -> dict:
    """hit@1/5, MRR@10, evidence hit@5 and p50 latency over the answerable questions."""
    rows = [q for q in questions if q["sources"]]
    hit1, hit5, mrr, evidence5, latencies = [], [], [], [], []
    for question in rows:
        started = time.perf_counter()
        docs = retriever.invoke(question["question"])
        latencies.append(time.perf_counter() - started)
        sources = [d.metadata["source"] for d in docs]
        hit1.append(hit_at(1, sources, question["sources"]))
        hit5.append(hit_at(5, sources, question["sources"]))
        mrr.append(reciprocal_rank(sources, question["sources"], k=10))
        evidence5.append(evidence_hit_at(5, [d.page_content for d in docs], question["evidence"]))
    return {
        "questions": len(rows),
        "hit@1": statistics.mean(hit1),
        "hit@5": statistics.mean(hit5),
        "mrr@10": statistics.mean(mrr),
        "evidence_hit@5": statistics.mean(evidence5),
        "p50_ms": statistics.median(latencies) * 1000,
    }
