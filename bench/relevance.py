"""Does a source's relevance signal tell the sources that hold the answer from the others?

`python -m bench relevance`: the default retriever's top 10 for every question of both
shared dev sets; a source *holds the answer* when it contains a reference span (CMRC2018,
compared as app/evaluation compares answers) or states a key fact (llm_articles, the
same `fact_recall`). For each signal: ROC AUC of the continuous score, and precision /
recall of the "strong" and "weak" labels, with thresholds chosen on CMRC2018 by one rule
for every signal (strong: the lowest threshold whose precision reaches STRONG_PRECISION;
weak: the highest that leaves at most WEAK_MISS of the holding sources weak). The
logistic model (`refit`) is fitted on CMRC2018 only: llm_articles is held out.

Signals: the old displayed score (reranker's else fused: the baseline), dense cosine,
BM25, keyword coverage, the shipped label's probability (settings defaults), and the
model refitted in this run (its coefficients printed: they should match the defaults).
Also the off-corpus check the issue describes: questions asked of the other corpus's
knowledge base, where no source holds the answer; how often the top source is "strong".
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

from app.evaluation import answer_metrics as am
from app.retrieval import relevance
from app.retrieval.hybrid import build_retriever
from app.settings import REPO_ROOT, Settings, load_settings
from bench.common import CORPORA, QUESTIONS, read_questions
from ingest.indexing import ingest_paths, open_knowledge_base

K = 10
FIT_ON = "cmrc2018_trial"
STRONG_PRECISION = 0.8  # a "strong" source holds the answer at least 4 times in 5
WEAK_MISS = 0.1  # at most 1 in 10 of the sources that hold the answer is called "weak"
OFF_CORPUS_QUESTIONS = 100  # of CMRC2018, asked of llm_articles (plus all 25 the other way)
FEATURES = ("dense", "coverage", "fused")  # the logistic model's inputs, in this order
OUT = REPO_ROOT / "docs" / "eval" / "relevance-2026-12"


def holds_answer(question: dict, text: str) -> bool:
    """The chunk states one of the key facts, or (no facts) contains a reference span."""
    if question.get("facts"):
        return (am.fact_recall(text, question["facts"]) or 0.0) > 0.0
    return bool(question["answers"]) and am.contains_reference(text, question["answers"])


def knowledge_base(settings: Settings, corpus: str):
    """The corpus ingested once under bench/results (incremental: later runs only hash)."""
    collection = "relevance-" + corpus.replace("_", "-")
    report = ingest_paths(open_knowledge_base(settings, collection), [CORPORA[corpus]])
    assert report.ok, report
    return build_retriever(settings, collection, top_k=K)


def collect(retriever, questions: list[dict], judge: bool = True) -> list[dict]:
    """One row per retrieved source: its signals and whether it holds the answer (never,
    unless `judge`: the questions were asked of another corpus)."""
    rows = []
    for question in questions:
        for rank, doc in enumerate(retriever.invoke(question["question"]), start=1):
            scores = doc.metadata["scores"]
            rows.append(
                {
                    "id": question["id"],
                    "rank": rank,
                    "source": doc.metadata.get("source"),
                    "holds": judge and holds_answer(question, doc.page_content),
                    "displayed": scores.get("rerank", scores.get("fused", 0.0)),
                    "dense": scores.get("dense") or 0.0,
                    "bm25": scores.get("bm25") or 0.0,
                    "fused": scores.get("fused") or 0.0,
                    "coverage": round(
                        relevance.coverage(question["question"], doc.page_content), 4
                    ),
                    "shipped": scores["relevance"],
                    "label": doc.metadata["relevance"],
                }
            )
    return rows


def fit(rows: list[dict]) -> list[float]:
    """Intercept and coefficients of a logistic model of `holds` over FEATURES."""
    from sklearn.linear_model import LogisticRegression  # bench only, not the app

    model = LogisticRegression(C=1.0).fit(
        [[r[f] for f in FEATURES] for r in rows], [r["holds"] for r in rows]
    )
    return [round(float(model.intercept_[0]), 2), *(round(float(c), 2) for c in model.coef_[0])]


def refit_score(coefs: list[float]) -> Callable[[dict], float]:
    def score(row: dict) -> float:
        logit = coefs[0] + sum(c * row[f] for c, f in zip(coefs[1:], FEATURES, strict=True))
        return 1.0 / (1.0 + math.exp(-logit))

    return score


def thresholds(values: list[float], holds: list[bool]) -> tuple[float, float]:
    """(strong, weak) by the rule in the module docstring, on the fitting set."""
    pairs = sorted(zip(values, holds, strict=True), reverse=True)
    strong, hits = pairs[0][0], 0
    for i, (value, held) in enumerate(pairs, start=1):
        hits += held
        if hits / i >= STRONG_PRECISION:
            strong = value  # still precise enough down to here
    positives = sorted(v for v, held in pairs if held)
    weak = positives[int(WEAK_MISS * len(positives))] if positives else 0.0
    return strong, weak


def separation(values: list[float], holds: list[bool], strong: float, weak: float) -> dict:
    """AUC, and precision / recall of strong (holds) and weak (does not hold)."""
    from sklearn.metrics import roc_auc_score

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 3) if whole else None

    is_strong = [v >= strong for v in values]
    is_weak = [v < weak for v in values]
    pos, neg = sum(holds), len(holds) - sum(holds)
    s_hit = sum(s and h for s, h in zip(is_strong, holds, strict=True))
    w_hit = sum(w and not h for w, h in zip(is_weak, holds, strict=True))
    return {
        "auc": round(float(roc_auc_score(holds, values)), 3) if pos and neg else None,
        "strong_precision": share(s_hit, sum(is_strong)),
        "strong_recall": share(s_hit, pos),
        "weak_precision": share(w_hit, sum(is_weak)),
        "weak_recall": share(w_hit, neg),
    }


def off_corpus(retrievers: dict) -> list[dict]:
    """The top 10 for questions asked of the other corpus: no source holds the answer."""
    cmrc = read_questions(QUESTIONS["cmrc2018_trial"])[:OFF_CORPUS_QUESTIONS]
    llm = read_questions(QUESTIONS["llm_articles"])
    return collect(retrievers["cmrc2018_trial"], llm, judge=False) + collect(
        retrievers["llm_articles"], cmrc, judge=False
    )


def top_labels(rows: list[dict]) -> dict:
    """How the first source of each question is labelled."""
    labels = [r["label"] for r in rows if r["rank"] == 1]
    return {"questions": len(labels), **{n: labels.count(n) for n in ("strong", "partial", "weak")}}


def run() -> dict:
    settings = load_settings(data_dir=REPO_ROOT / "bench" / "results" / "relevance-data")
    config = settings.retrieval
    started = time.perf_counter()
    retrievers = {corpus: knowledge_base(settings, corpus) for corpus in CORPORA}
    rows = {c: collect(r, read_questions(QUESTIONS[c])) for c, r in retrievers.items()}
    off = off_corpus(retrievers)
    rows["off-corpus"] = off
    rows["llm_articles + off-corpus"] = rows["llm_articles"] + off
    coefs = fit(rows[FIT_ON])
    refit = refit_score(coefs)
    for row in [*rows[FIT_ON], *rows["llm_articles"], *off]:
        row["refit"] = round(refit(row), 4)
    signals = ("displayed", "dense", "bm25", "coverage", "refit")
    chosen = {
        s: thresholds([r[s] for r in rows[FIT_ON]], [r["holds"] for r in rows[FIT_ON]])
        for s in signals
    }
    chosen["shipped"] = (config.relevance_strong, config.relevance_partial)
    table = {
        corpus: {
            s: separation(
                [r[s] for r in corpus_rows], [r["holds"] for r in corpus_rows], *chosen[s]
            )
            for s in chosen
        }
        for corpus, corpus_rows in rows.items()
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for corpus in ("cmrc2018_trial", "llm_articles", "off-corpus"):
        with open(OUT / f"{corpus}.rows.jsonl", "w", encoding="utf-8") as out:
            out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[corpus])
    result = {
        "fitted_on": FIT_ON,
        "coefficients": dict(zip(("intercept", *FEATURES), coefs, strict=True)),
        "shipped_coefficients": {
            "intercept": config.relevance_intercept,
            "dense": config.relevance_dense_coef,
            "coverage": config.relevance_coverage_coef,
            "fused": config.relevance_fused_coef,
        },
        "thresholds": {s: [round(t, 4) for t in pair] for s, pair in chosen.items()},
        "sources": {c: [len(r), sum(x["holds"] for x in r)] for c, r in rows.items()},
        "table": table,
        "off_corpus": top_labels(off),
        "seconds": round(time.perf_counter() - started),
    }
    (OUT / "summary.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return result


def report(result: dict, command: str, machine: str) -> list[str]:
    lines = [
        f"Run on {machine}; command `{command}` ({result['seconds']} s). Top {K} of the "
        f"default retriever; sources (holding the answer): "
        + ", ".join(f"{c} {n} ({h})" for c, (n, h) in result["sources"].items())
        + f". Thresholds and the refit on {result['fitted_on']}; llm_articles held out.",
        "",
        f"Refit coefficients {result['coefficients']}; shipped {result['shipped_coefficients']}.",
        "",
        "| signal | thresholds strong / weak | set | AUC | strong precision / recall | "
        "weak precision / recall |",
        "|---|---|---|---|---|---|",
    ]
    for signal, (strong, weak) in result["thresholds"].items():
        for corpus, table in result["table"].items():
            m = {key: "–" if value is None else value for key, value in table[signal].items()}
            lines.append(
                f"| {signal} | {strong:g} / {weak:g} | {corpus} | {m['auc']} | "
                f"{m['strong_precision']} / {m['strong_recall']} | "
                f"{m['weak_precision']} / {m['weak_recall']} |"
            )
    off = result["off_corpus"]
    lines += [
        "",
        f"Off-corpus: {off['questions']} questions asked of the other corpus's knowledge base "
        f"(no source holds the answer); the first source labelled strong {off['strong']}, "
        f"partial {off['partial']}, weak {off['weak']}.",
    ]
    return lines
