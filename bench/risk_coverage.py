"""`python -m bench.risk_coverage RUN_FOLDER`: abstention as a risk–coverage trade-off.

An eval run with abstention on records, for every question, the draft and the scores
the checks measured. Applying `abstention.decide` again with other thresholds needs no
model, so each operating point is scored on the same drafts:

- refusal accuracy: unanswerable questions withheld (or refused by the model);
- false refusals of correct drafts: drafts that state every key fact, withheld anyway;
- precision: correct answers among the answers shown; coverage: correct shown answers
  among the answerable questions.

Withholding a wrong draft counts as right. A question the evidence gate stopped before
generation has no draft; it stays withheld at every point (the gate's name check is on).
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

from app.answering import abstention
from app.answering.verification import sentences
from app.evaluation import answer_metrics as am
from app.evaluation.dataset import load_question_files
from app.settings import REPO_ROOT, AbstentionSettings

EXTRA = REPO_ROOT / "bench" / "questions" / "llm_articles.unanswerable.jsonl"
TARGET_REFUSAL, LIMIT_FALSE = 0.85, 0.05


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "rows.jsonl").read_text().splitlines() if line]


def _withheld(row: dict, config: AbstentionSettings) -> bool:
    if row.get("abstention_signal") == "evidence":
        return True
    support = (row.get("abstention_scores") or {}).get("support")
    if support is None:
        return bool(row["refused"])
    refused_itself = row.get("abstention_signal") == "model"
    decision = abstention.decide(
        config, row["abstention_scores"].get("evidence") or {"missing_names": [],
        "dense_top": 1.0, "coverage": 1.0}, has_context=True, support=support,
        refused=refused_itself, reasoning=row.get("reasoning", ""),
    )  # fmt: skip
    return decision.abstained


def _shown_text(row: dict, config: AbstentionSettings) -> str:
    """What the chain would show: the draft, cut to its verified sentences with the facts
    check on (the chain's trimming). The grounded strategy's rows (they have quotes)
    show the answer its check kept; a withheld one would show its draft."""
    if "quotes" in row:
        return row["draft"] if row["refused"] else row["answer"]
    draft = row.get("draft") or row["answer"]
    support = (row.get("abstention_scores") or {}).get("support") or {}
    verified, total = support.get("verified", 0), support.get("sentences", 0)
    if config.abstain_check_facts and 0 < verified < total:
        return "".join(sentences(draft)[:verified])
    return draft


def point(rows: list[dict], facts: dict, config: AbstentionSettings) -> dict:
    """The four figures for one configuration of the checks."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    right_drafts = [r for r in answerable if r.get("draft_correct")]
    shown = [r for r in rows if not _withheld(r, config)]

    def correct(row: dict) -> bool:
        question = facts.get(row["id"])
        if question is None or not row["answerable"]:
            return False
        return am.is_correct(_shown_text(row, config), question.answers, question.facts)

    right_shown = [r for r in shown if correct(r)]
    return {
        "refusal_acc": round(
            sum(_withheld(r, config) for r in unanswerable) / len(unanswerable), 3
        ),
        "false_refusal_correct": round(
            sum(_withheld(r, config) for r in right_drafts) / max(1, len(right_drafts)), 3
        ),
        "precision": round(len(right_shown) / max(1, len(shown)), 3),
        "coverage": round(len(right_shown) / max(1, len(answerable)), 3),
    }


def sweep(folder: Path) -> list[dict]:
    rows = _rows(folder)
    config = json.loads((folder / "config.json").read_text())
    named = config["qa"] if isinstance(config["qa"], list) else config["qa"].split(" + ")
    qa = [Path(p) if Path(p).is_absolute() else REPO_ROOT / p for p in named]
    facts = {q.id: q for q in load_question_files([*qa, EXTRA])}
    points = []
    for check_facts, min_support, min_novelty in itertools.product(
        (True, False), (0.0, 0.3, 0.5, 0.6, 0.7, 0.8), (0.0, 0.1, 0.2, 0.3)
    ):
        checks = AbstentionSettings(
            abstain_check_facts=check_facts,
            abstain_min_support=min_support,
            abstain_min_novelty=min_novelty,
        )
        points.append({"check_facts": check_facts, "min_support": min_support,
                       "min_novelty": min_novelty, **point(rows, facts, checks)})  # fmt: skip
    return points


def best(points: list[dict]) -> dict:
    """Within the false-refusal limit: the highest refusal accuracy, then precision."""
    allowed = [p for p in points if p["false_refusal_correct"] <= LIMIT_FALSE] or points
    return max(allowed, key=lambda p: (p["refusal_acc"], p["precision"], p["coverage"]))


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        points = sweep(Path(argument))
        print(json.dumps({"run": argument, "best": best(points), "points": len(points)}, indent=1))
