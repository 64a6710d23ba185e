"""Summaries of evaluation rows: summary.json, rows.jsonl, report.md, comparison chart."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from app.evaluation import answer_metrics as am
from app.schema import EvalRow

RETRIEVAL_KEYS = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "evidence_hit@5")
ANSWER_KEYS = (
    "accuracy", "fact_recall", "match", "precision", "coverage", "false_refusal_correct",
    "em", "f1", "rouge_l", "bleu", "refusal_acc", "false_refusal", "quotes_correct", "from_quotes",
    "faithfulness", "citation_acc", "ppl_context", "ppl_no_context",
)  # fmt: skip
LATENCY_STAGES = ("retrieval_s", "first_token_s", "first_text_s", "generation_s", "total_s")


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None and not math.isnan(v)]
    return round(statistics.fmean(present), 4) if present else None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return round(ordered[index], 3)


def _column(rows: Sequence[EvalRow], key: str) -> list[Any]:
    """One metric of every row, by name (None where a row lacks it)."""
    return [cast(Mapping[str, Any], r).get(key) for r in rows]


def read_rows(path: Path) -> list[EvalRow]:
    """A rows.jsonl, as written now or recorded by an earlier version (docs/eval/)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [cast(EvalRow, json.loads(line)) for line in lines if line.strip()]


def _perplexity(rows: Sequence[EvalRow], key: str) -> float | None:
    """Corpus-style: the geometric mean of per-answer perplexities."""
    values = [v for v in _column(rows, key) if v is not None and not math.isnan(v)]
    return round(math.exp(statistics.fmean(math.log(v) for v in values)), 3) if values else None


def summarise(rows: Sequence[EvalRow]) -> dict:
    """The summary with exactly the keys `n`, `retrieval`, `answer`, `latency`.

    Retrieval metrics average over questions with gold sources; EM/F1/ROUGE/BLEU over
    answerable questions; refusal accuracy over unanswerable ones (None when the set has
    none). BLEU is corpus BLEU (sacrebleu, zh tokenizer) scaled to 0–1.

    Correctness (shared/eval/README.md): `accuracy` — answerable questions whose draft (what
    the model wrote, before any withholding) states every key fact, or contains a reference
    span when the question has no facts; `fact_recall` — key facts stated, on average;
    `match` — drafts containing a reference span; `coverage` — answerable questions whose
    *shown* answer is correct; `precision` — correct answers among all answers shown
    (an answer shown to an unanswerable question is wrong); `false_refusal_correct` —
    correct drafts that were withheld. All of them read the answer text alone: the
    grounded strategy's quotes are scored apart (`quotes_correct`), unless they stand in
    for an answer none of which held up (`from_quotes`, the share of shown answers).
    """
    with_sources = [r for r in rows if "hit@1" in r]
    answered = [r for r in rows if "answer" in r]
    answerable = [r for r in answered if r["answerable"]]
    unanswerable = [r for r in answered if not r["answerable"]]
    answer: dict[str, float | None] = dict.fromkeys(ANSWER_KEYS)
    if answered:
        shown = [r for r in answered if not r["refused"]]
        right_drafts = [r for r in answerable if r.get("draft_correct")]
        answer.update(
            accuracy=_mean([float(r["draft_correct"]) for r in answerable if "draft_correct" in r]),
            fact_recall=_mean([r.get("fact_recall") for r in answerable]),
            match=_mean([float(r["match"]) for r in answerable if "match" in r]),
            precision=_mean([float(bool(r.get("correct"))) for r in shown])
            if any("correct" in r for r in answerable)
            else None,
            coverage=_mean([float(r["correct"]) for r in answerable if "correct" in r]),
            false_refusal_correct=_mean([float(r["refused"]) for r in right_drafts])
            if answerable and "draft_correct" in answerable[0]
            else None,
            em=_mean([r["em"] for r in answerable]),
            f1=_mean([r["f1"] for r in answerable]),
            rouge_l=_mean([r["rouge_l"] for r in answerable]),
            bleu=round(
                am.corpus_bleu(
                    [r["answer"] for r in answerable], [r["references"] for r in answerable]
                ),
                4,
            )
            if answerable
            else None,
            # grounded strategy: the quotes under the answer hold every key fact; answers
            # shown as the quotes because nothing of the written one held up
            quotes_correct=_mean(
                [float(r["quotes_correct"]) for r in answerable if "quotes_correct" in r]
            ),
            from_quotes=_mean([float(r["from_quotes"]) for r in shown if "from_quotes" in r]),
            refusal_acc=_mean([float(r["refused"]) for r in unanswerable]),
            false_refusal=_mean([float(r["refused"]) for r in answerable]),
            faithfulness=_mean([r["faithfulness"] for r in answered]),
            citation_acc=_mean([r["citation_acc"] for r in answerable]),
            ppl_context=_perplexity(answerable, "ppl_context"),
            ppl_no_context=_perplexity(answerable, "ppl_no_context"),
        )
    latency = {}
    for stage in LATENCY_STAGES:
        values = [v for v in _column(rows, stage) if v is not None]
        if values:
            latency[stage] = {"p50": _percentile(values, 0.5), "p95": _percentile(values, 0.95)}
    return {
        "n": len(rows),
        "retrieval": {key: _mean(_column(with_sources, key)) for key in RETRIEVAL_KEYS},
        "answer": answer,
        "latency": latency,
    }


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def markdown_report(summary: dict, config: dict) -> str:
    lines = [
        f"# zhiku eval: {config['qa']}",
        "",
        ", ".join(f"{k} = {v}" for k, v in config.items() if k != "qa"),
        "",
        f"{summary['n']} questions.",
        "",
        "| retrieval | " + " | ".join(RETRIEVAL_KEYS) + " |",
        "|---" * (len(RETRIEVAL_KEYS) + 1) + "|",
        "| | " + " | ".join(_fmt(summary["retrieval"][k]) for k in RETRIEVAL_KEYS) + " |",
        "",
        "| answer | " + " | ".join(ANSWER_KEYS) + " |",
        "|---" * (len(ANSWER_KEYS) + 1) + "|",
        "| | " + " | ".join(_fmt(summary["answer"][k]) for k in ANSWER_KEYS) + " |",
        "",
        "| stage | p50 s | p95 s |",
        "|---|---|---|",
    ]
    lines += [f"| {s} | {v['p50']:.3f} | {v['p95']:.3f} |" for s, v in summary["latency"].items()]
    return "\n".join(lines) + "\n"


def write_outputs(out: Path, rows: Sequence[EvalRow], summary: dict, config: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    with open(out / "rows.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False))
    (out / "report.md").write_text(markdown_report(summary, config), encoding="utf-8")


CHART_METRICS = (
    ("retrieval", "hit@5"), ("retrieval", "mrr@10"), ("retrieval", "evidence_hit@5"),
    ("answer", "accuracy"), ("answer", "match"), ("answer", "precision"), ("answer", "coverage"),
    ("answer", "em"), ("answer", "f1"), ("answer", "rouge_l"), ("answer", "bleu"),
    ("answer", "refusal_acc"), ("answer", "false_refusal"), ("answer", "faithfulness"),
    ("answer", "citation_acc"),
)  # fmt: skip


def comparison_table(summaries: dict[str, dict]) -> str:
    names = [key for _, key in CHART_METRICS] + [
        "ppl_context", "ppl_no_context", "first_token_s p50", "total_s p50", "total_s p95",
    ]  # fmt: skip
    lines = ["| run | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for run, summary in summaries.items():
        values = [_fmt(summary[group].get(key)) for group, key in CHART_METRICS]
        values += [
            _fmt(summary["answer"]["ppl_context"]),
            _fmt(summary["answer"]["ppl_no_context"]),
        ]
        first, total = summary["latency"].get("first_token_s"), summary["latency"].get("total_s")
        values.append(f"{first['p50']:.1f}" if first else "–")
        values += [f"{total['p50']:.1f}", f"{total['p95']:.1f}"] if total else ["–", "–"]
        lines.append(f"| {run} | " + " | ".join(values) + " |")
    return "\n".join(lines) + "\n"


def comparison_chart(summaries: dict[str, dict], path: Path, title: str) -> None:
    """Left: every run's metrics side by side (0–1). Right: accuracy against the p50 time
    per answer, one point per run — what a configuration buys and what it costs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = list(summaries)
    width = 0.8 / max(1, len(runs))
    fig, (ax, tradeoff) = plt.subplots(
        1,
        2,
        figsize=(max(10, len(CHART_METRICS) * 1.1) + 5, 4.8),
        dpi=120,
        gridspec_kw={"width_ratios": [3, 1.2]},
    )
    for i, run in enumerate(runs):
        values = [summaries[run][group].get(key) for group, key in CHART_METRICS]
        xs = [m + (i - (len(runs) - 1) / 2) * width for m in range(len(CHART_METRICS))]
        ax.bar(xs, [v if v is not None else 0 for v in values], width, label=run)
    ax.set_xticks(range(len(CHART_METRICS)), [key for _, key in CHART_METRICS], rotation=30)
    ax.set_ylim(0, 1)
    ax.set_ylabel("score (0–1)")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=min(3, len(runs)))
    ax.grid(axis="y", alpha=0.3)
    for run in runs:
        accuracy = summaries[run]["answer"].get("accuracy")
        total = summaries[run]["latency"].get("total_s")
        if accuracy is None or not total:
            continue
        tradeoff.scatter(total["p50"], accuracy, s=40)
        tradeoff.annotate(run, (total["p50"], accuracy), fontsize=7, xytext=(4, 4),
                          textcoords="offset points")  # fmt: skip
    tradeoff.set_xlabel("time per answer, p50 (s)")
    tradeoff.set_ylabel("accuracy (key facts / reference span)")
    tradeoff.set_ylim(0, 1)
    tradeoff.set_xlim(left=0)
    tradeoff.grid(alpha=0.3)
    tradeoff.set_title("accuracy vs latency")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
