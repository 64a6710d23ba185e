"""`python -m bench.grounded_report`: the table and chart of issue 21 from recorded runs.

Reads `summary.json` of each run folder named below (written by `zhiku eval`), prints one
markdown table (accuracy and precision on the answer text alone; the quotes apart) and
draws accuracy against the p50 time per answer into docs/benchmarks/grounded.png.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.settings import REPO_ROOT

EVAL = REPO_ROOT / "docs" / "eval"
# (set, label, run folder under docs/eval)
RUNS = [
    ("llm_articles", "zero-shot (default before)", "answers-2026-12/llm-1.5b-zero-shot-k3-default"),
    ("llm_articles", "grounded v3", "answers-2026-12-grounded/llm-grounded-k3"),
    ("llm_articles", "grounded (final)", "answers-2026-12-grounded/llm-grounded-k3-v4"),
    ("llm_articles", "grounded (final, shipped defaults)", "answers-2026-12-grounded/llm-default"),
    ("samples", "zero-shot", "answers-2026-12-grounded/samples-zero-shot-k3"),
    ("samples", "grounded v1 (both tasks in one system prompt)",
     "answers-2026-12-grounded/samples-grounded-k3-v1"),
    ("samples", "grounded v2 (task instruction in the user turn)",
     "answers-2026-12-grounded/samples-grounded-k3-v2"),
    ("samples", "grounded v3", "answers-2026-12-grounded/samples-grounded-k3"),
    ("samples", "grounded (final, shipped defaults)", "answers-2026-12-grounded/samples-default"),
    ("cmrc first 100", "zero-shot (default before)",
     "answers-2026-12-cmrc/cmrc-1.5b-zero-shot-k3-first100"),
    ("cmrc first 100", "extractive", "answers-2026-12-cmrc/cmrc-1.5b-extractive-k3-first100"),
    ("cmrc first 100", "grounded (final)", "answers-2026-12-grounded/cmrc-grounded-k3-first100"),
    ("cmrc first 100", "grounded (final, shipped defaults)",
     "answers-2026-12-grounded/cmrc-default-first100"),
]  # fmt: skip
COLUMNS = ("accuracy", "match", "precision", "coverage", "refusal_acc",
           "false_refusal_correct", "quotes_correct", "from_quotes")  # fmt: skip


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def rows() -> list[tuple[str, str, dict]]:
    found = []
    for corpus, label, folder in RUNS:
        path = EVAL / folder / "summary.json"
        if path.exists():
            found.append((corpus, label, json.loads(path.read_text())))
    return found


def table(found: list[tuple[str, str, dict]]) -> str:
    head = ["set", "run", *COLUMNS, "first text p50 s", "total p50 / p95 s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for corpus, label, summary in found:
        answer, latency = summary["answer"], summary["latency"]
        first = latency.get("first_text_s", latency.get("first_token_s", {}))
        total = latency["total_s"]
        times = [f"{first.get('p50', 0):.1f}", f"{total['p50']:.1f} / {total['p95']:.1f}"]
        cells = [corpus, label, *(_fmt(answer.get(c)) for c in COLUMNS), *times]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def chart(found: list[tuple[str, str, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5))
    for corpus, label, summary in found:
        accuracy = summary["answer"].get("accuracy") or summary["answer"].get("match")
        total = summary["latency"]["total_s"]["p50"]
        axis.scatter(total, accuracy, s=40)
        axis.annotate(f"{corpus}: {label}", (total, accuracy), fontsize=7, xytext=(4, 4),
                      textcoords="offset points")  # fmt: skip
    axis.set_xlabel("time per answer, p50 (s), 2 cores")
    axis.set_ylabel("accuracy (key facts; CMRC: reference span)")
    axis.set_title("Answers a user can check: accuracy vs latency")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    found = rows()
    print(table(found))
    if "--chart" in sys.argv:
        chart(found, REPO_ROOT / "docs" / "benchmarks" / "grounded.png")
