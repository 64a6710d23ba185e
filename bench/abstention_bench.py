"""Calibrate and measure abstention on the llm_articles dev set plus extra unanswerable
questions (bench/questions/llm_articles.unanswerable.jsonl).

1. One run with abstention off (the model's own refusals still count): every question's
   evidence and support scores are recorded.
2. Trade-off curves from those scores: refusal accuracy on unanswerable questions against
   the false-refusal rate on answerable ones, as each signal's threshold moves, and for
   the combination. Thresholds are chosen where refusal accuracy is highest with false
   refusals ≤ 0.1.
3. Runs with abstention on at those thresholds, for each strategy: the real figures.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import tempfile
from pathlib import Path

from app.answering import abstention
from app.answering.verification import sentences
from app.evaluation import answer_metrics as am
from app.evaluation.report import summarise
from app.evaluation.runner import EvalOptions, prepare_collection, run_questions
from app.settings import REPO_ROOT, AbstentionSettings, load_settings
from bench.common import CORPORA, QUESTIONS

EXTRA = REPO_ROOT / "bench" / "questions" / "llm_articles.unanswerable.jsonl"
CHART = REPO_ROOT / "docs" / "abstention_tradeoff.png"
MAX_FALSE_REFUSAL = 0.1


def _settings(data: Path, **overrides):
    return load_settings(data_dir=data, cache_dir=REPO_ROOT / ".cache", **overrides)


def _rows(settings, strategy: str) -> list[dict]:
    options = EvalOptions(
        qa=[QUESTIONS["llm_articles"], EXTRA],
        corpus=CORPORA["llm_articles"],
        strategy=strategy,
        perplexity=False,
    )
    return run_questions(settings, options)


# --- signals over recorded scores -------------------------------------------------
def _evidence(row: dict) -> dict:
    return row["abstention_scores"].get("evidence", {})


def _support(row: dict) -> dict:
    return row["abstention_scores"].get("support") or {}


# Support scores of a row whose draft was never checked: nothing to withhold on.
_UNCHECKED = {"support": None, "sentences": 0, "verified": 0, "novelty": 1.0}


def decide(row: dict, dense: float | None, coverage: float | None, support: float | None,
           facts: bool, novelty: float | None = None) -> bool:  # fmt: skip
    """Would the chain abstain on this row with these thresholds (None = signal off)?
    The chain's own rule, `abstention.decide`, applied to the recorded scores."""
    evidence_on = dense is not None or coverage is not None
    config = AbstentionSettings.model_construct(  # unvalidated: math.inf means "never enough"
        abstain=True,
        abstain_check_names=evidence_on,
        # with one evidence threshold given, the other never saves a chunk ("always low")
        abstain_min_dense=(math.inf if dense is None else dense) if evidence_on else 0.0,
        abstain_min_coverage=(math.inf if coverage is None else coverage) if evidence_on else 0.0,
        abstain_min_support=support or 0.0,
        abstain_min_novelty=novelty or 0.0,
        abstain_check_facts=facts,
    )
    decision = abstention.decide(
        config,
        _evidence(row) or {"dense_top": 1.0, "coverage": 1.0, "missing_names": []},
        has_context=row.get("contexts_n", 1) > 0,
        support=_support(row) or _UNCHECKED,
        # the model refused by itself (a run with abstention off records it as refused)
        refused=row["abstention_signal"] == "model" or (row["refused"] and not row["draft"]),
        reasoning=row.get("reasoning", ""),
    )
    return decision.abstained


def kept_answer(row: dict, facts: bool) -> str:
    """The answer the chain shows: with the facts check, only its verified sentences."""
    scores = _support(row)
    if not facts or scores.get("verified", 0) >= scores.get("sentences", 0):
        return row["answer"]
    return "".join(sentences(row["answer"])[: scores["verified"]])


def point(rows: list[dict], **thresholds) -> tuple[float, float]:
    """(false-refusal rate, refusal accuracy) for these thresholds."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    false = sum(decide(r, **thresholds) for r in answerable) / len(answerable)
    right = sum(decide(r, **thresholds) for r in unanswerable) / len(unanswerable)
    return round(false, 4), round(right, 4)


def _grid(values: list[float]) -> list[float]:
    return sorted({round(v + 1e-4, 4) for v in values} | {0.0})


def curves(rows: list[dict]) -> dict[str, list[tuple[float, float, dict]]]:
    dense = _grid([_evidence(r).get("dense_top", 0) for r in rows])
    cover = _grid([_evidence(r).get("coverage", 0) for r in rows])
    share = _grid([s for r in rows if (s := _support(r).get("support")) is not None])
    novel = _grid([_support(r).get("novelty", 1) for r in rows])
    off = {"dense": None, "coverage": None, "support": None, "facts": False, "novelty": None}
    result = {
        "model's own refusals": [(*point(rows, **off), off)],
        "evidence: dense similarity": [],
        "evidence: keyword coverage": [],
        "support: word share": [],
        "support: facts": [(*point(rows, **{**off, "facts": True}), {**off, "facts": True})],
        "support: says more than the question": [],
        "combined": [],
    }
    for t in dense:
        config = {**off, "dense": t}  # coverage off: dense alone decides
        result["evidence: dense similarity"].append((*point(rows, **config), config))
    for t in cover:
        config = {**off, "coverage": t}
        result["evidence: keyword coverage"].append((*point(rows, **config), config))
    for t in share:
        config = {**off, "support": t}
        result["support: word share"].append((*point(rows, **config), config))
    for t in novel:
        config = {**off, "novelty": t}
        result["support: says more than the question"].append((*point(rows, **config), config))
    for d, c, t, n, facts in itertools.product(
        _every(dense, 12), _every(cover, 12), _every(share, 8), _every(novel, 6), (True, False)
    ):
        config = {"dense": d, "coverage": c, "support": t, "facts": facts, "novelty": n}
        result["combined"].append((*point(rows, **config), config))
    return result


def _every(values: list[float], count: int) -> list[float]:
    """About `count` thresholds spread over the observed values (always including 0)."""
    return values[:: max(1, len(values) // count)]


def best(points: list[tuple[float, float, dict]]) -> tuple[float, float, dict]:
    """Highest refusal accuracy with false refusals within the limit (else the fewest)."""
    allowed = [p for p in points if p[0] <= MAX_FALSE_REFUSAL]
    if not allowed:
        return min(points, key=lambda p: (p[0], -p[1]))
    return max(allowed, key=lambda p: (p[1], -p[0]))


def shipped_thresholds(settings) -> dict:
    """The settings' thresholds in `decide`'s terms."""
    return {
        "dense": settings.abstention.abstain_min_dense,
        "coverage": settings.abstention.abstain_min_coverage,
        "support": settings.abstention.abstain_min_support,
        "facts": settings.abstention.abstain_check_facts,
        "novelty": settings.abstention.abstain_min_novelty,
    }


def chart(result: dict, chosen: tuple[float, float, dict], shipped: tuple[float, float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5), dpi=120)
    for name, points in result.items():
        if name == "combined":
            frontier = _frontier(points)
            ax.plot(*zip(*[(p[0], p[1]) for p in frontier], strict=True), "-o", label=name, ms=3)
        elif len(points) == 1:
            ax.plot(points[0][0], points[0][1], "s", label=name, ms=7)
        else:
            ordered = sorted(points, key=lambda p: (p[0], p[1]))
            ax.plot([p[0] for p in ordered], [p[1] for p in ordered], "-", label=name, lw=1.2)
    ax.plot(chosen[0], chosen[1], "*", color="black", ms=14, label="best point found")
    ax.plot(*shipped, "x", color="red", ms=12, mew=2.5, label="shipped defaults")
    ax.axvline(MAX_FALSE_REFUSAL, color="grey", ls=":", lw=1)
    ax.set_xlabel("false refusals (answerable questions)")
    ax.set_ylabel("refusal accuracy (unanswerable questions)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Abstention trade-off — llm_articles dev + extra unanswerable")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    CHART.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(CHART)
    plt.close(fig)


def _frontier(points):
    """The upper-left envelope: the best refusal accuracy at each false-refusal rate."""
    by_false: dict[float, tuple] = {}
    for p in points:
        if p[0] not in by_false or p[1] > by_false[p[0]][1]:
            by_false[p[0]] = p
    frontier, top = [], -1.0
    for false in sorted(by_false):
        if by_false[false][1] > top:
            frontier.append(by_false[false])
            top = by_false[false][1]
    return frontier


def _answer_figures(rows: list[dict]) -> dict:
    summary = summarise(rows)["answer"]
    return {k: summary[k] for k in ("f1", "em", "refusal_acc", "false_refusal")}


def run(out: Path) -> dict:
    data = Path(tempfile.mkdtemp(prefix="zhiku-bench-abstain-"))
    off_rows = _rows(_settings(data, abstain=False), "zero-shot")
    (out / "abstention-off.rows.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in off_rows) + "\n"
    )
    result = curves(off_rows)
    chosen = best(result["combined"])
    thresholds = chosen[2]
    # The runs with abstention on use the shipped defaults (settings), so the figures are
    # what a user gets; the best point found here is reported beside them.
    on_settings = _settings(data, abstain=True)
    defaults = shipped_thresholds(on_settings)
    chart(result, chosen, point(off_rows, **defaults))
    figures = {"off zero-shot": _answer_figures(off_rows)}
    for strategy in ("zero-shot", "few-shot", "cot"):
        rows = _rows(on_settings, strategy)
        (out / f"abstention-{strategy}.rows.jsonl").write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
        )
        figures[f"on {strategy}"] = _answer_figures(rows)
        figures[f"on {strategy}"]["signals"] = _signal_counts(rows)
    single = {name: best(points)[:2] for name, points in result.items()}
    return {"thresholds": thresholds, "chosen_point": chosen[:2], "best_single": single,
            "in_sample": simulated_figures(off_rows, thresholds),
            "defaults": defaults, "defaults_simulated": simulated_figures(off_rows, defaults),
            "cross_validated": cross_validated(off_rows),
            "figures": figures, "questions": len(off_rows)}  # fmt: skip


def _signal_counts(rows: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        signal = row.get("abstention_signal") or "answered"
        counts[signal] = counts.get(signal, 0) + 1
    return counts


def simulated_figures(rows: list[dict], thresholds: dict) -> dict:
    """What abstention at `thresholds` does to the recorded answers (same drafts):
    refusal accuracy, false refusals, and F1 on answerable questions where a withheld
    answer scores 0 (it is the refusal sentence) and a trimmed one is scored as kept."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    withheld = [decide(r, **thresholds) for r in answerable]
    kept = [re.sub(r"\[\d+\]", "", kept_answer(r, thresholds["facts"])).strip() for r in answerable]
    scores = [am.f1(answer, r["references"]) for answer, r in zip(kept, answerable, strict=True)]
    return {
        "refusal_acc": round(
            sum(decide(r, **thresholds) for r in unanswerable) / len(unanswerable), 4
        ),
        "false_refusal": round(sum(withheld) / len(answerable), 4),
        "f1": round(sum(0 if w else f for f, w in zip(scores, withheld, strict=True))
                    / len(answerable), 4),
        "f1_without": round(sum(r["f1"] for r in answerable) / len(answerable), 4),
    }  # fmt: skip


def cross_validated(rows: list[dict], folds: int = 2) -> dict:
    """Thresholds chosen on all folds but one, scored on the held-out one (honest figures)."""
    held_out: list[dict] = []
    for fold in range(folds):
        train = [r for i, r in enumerate(rows) if i % folds != fold]
        test = [r for i, r in enumerate(rows) if i % folds == fold]
        thresholds = best(curves(train)["combined"])[2]
        held_out.append(simulated_figures(test, thresholds))
    return {
        key: round(sum(f[key] for f in held_out) / folds, 4)
        for key in ("refusal_acc", "false_refusal", "f1", "f1_without")
    }


# --- out of sample: false refusals on CMRC2018 answers ---------------------------------
EVAL_DOCS = REPO_ROOT / "docs" / "eval"


def cmrc_false_refusals() -> dict[str, dict]:
    """The shipped defaults re-applied to the drafts `make eval` recorded on CMRC2018
    (abstention off, every question answerable, none of it seen while building the
    checks): how many answers would be withheld or trimmed, and F1 with and without."""
    from app.answering import abstention
    from app.answering.verification import verify
    from app.retrieval.hybrid import build_retriever

    settings = _settings(Path(tempfile.mkdtemp(prefix="zhiku-bench-cmrc-")), abstain=True)
    collection = "eval-cmrc2018_trial-" + settings.embedding.embedding_backend
    prepare_collection(settings, CORPORA["cmrc2018_trial"], collection)
    retriever = build_retriever(settings, collection, top_k=10)
    defaults = shipped_thresholds(settings)
    result = {}
    for rows_file in sorted(EVAL_DOCS.glob("cmrc2018_trial-answers*/*-hybrid/rows.jsonl")):
        rows = [json.loads(line) for line in rows_file.read_text(encoding="utf-8").splitlines()]
        config = json.loads((rows_file.parent / "config.json").read_text(encoding="utf-8"))
        for row in rows:
            # the chunks the draft was written from: the run's own k, not today's default
            docs = retriever.invoke(row["question"])[: config["k"]]
            texts = [d.page_content for d in docs]
            sources = [str(d.metadata.get("source", "")) for d in docs]
            row["abstention_signal"], row["draft"] = None, ""
            row["abstention_scores"] = {
                "evidence": abstention.evidence_scores(row["question"], docs),
                "support": verify(row["question"], row["answer"], texts, "zh", sources).scores,
            }
        withheld = [r["id"] for r in rows if decide(r, **defaults)]
        trimmed = [r["id"] for r in rows if not decide(r, **defaults) and _trimmed(r)]
        f1 = [0.0 if r["id"] in withheld else _kept_f1(r) for r in rows]
        result[f"{rows_file.parent.parent.name}/{rows_file.parent.name}"] = {
            "k": config["k"],
            "questions": len(rows),
            "false_refusal": round(len(withheld) / len(rows), 4),
            "withheld": withheld,
            "trimmed": trimmed,
            "f1": round(sum(f1) / len(rows), 4),
            "f1_without": round(sum(r["f1"] for r in rows) / len(rows), 4),
        }
    return result


def _trimmed(row: dict) -> bool:
    scores = _support(row)
    return 0 < scores.get("verified", 0) < scores.get("sentences", 0)


def _kept_f1(row: dict) -> float:
    kept = re.sub(r"\[\d+\]", "", kept_answer(row, facts=True)).strip()
    return am.f1(kept, row["references"])
