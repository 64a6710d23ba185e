"""`python -m bench.rescore FOLDER...`: score recorded answers again with today's metrics.

The answers under docs/eval/ were generated before `facts` and the correctness metrics
existed; the drafts are what they are, so scoring them again (accuracy, fact recall,
match, precision, coverage) needs no model. Each run folder's rows.jsonl and
summary.json are rewritten; a compare folder's comparison.md and .png are redrawn.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.evaluation.dataset import load_question_files
from app.evaluation.report import comparison_chart, comparison_table, summarise
from app.evaluation.runner import correctness
from app.settings import REPO_ROOT

EXTRA = REPO_ROOT / "bench" / "questions" / "llm_articles.unanswerable.jsonl"


def _questions(config: dict) -> dict:
    named = config["qa"] if isinstance(config["qa"], list) else config["qa"].split(" + ")
    paths = [Path(p) for p in named]
    paths = [p if p.is_absolute() else REPO_ROOT / p for p in paths]
    return {q.id: q for q in load_question_files([*paths, EXTRA])}


def rescore_run(folder: Path) -> dict | None:
    rows_file = folder / "rows.jsonl"
    if not rows_file.exists():
        return None
    config = (
        json.loads((folder / "config.json").read_text())
        if (folder / "config.json").exists()
        else {"qa": "../shared/eval/llm_articles.dev.jsonl"}
    )
    questions = _questions(config)
    rows = [json.loads(line) for line in rows_file.read_text(encoding="utf-8").splitlines() if line]
    for row in rows:
        question = questions.get(row["id"])
        if question is not None and question.answerable and "answer" in row:
            row.update(correctness(question, row["answer"], row.get("draft", ""), row["refused"]))
    summary = summarise(rows)
    rows_file.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    return summary


def rescore(folder: Path) -> None:
    runs = (
        sorted(p for p in folder.iterdir() if p.is_dir())
        if not (folder / "rows.jsonl").exists()
        else [folder]
    )
    summaries = {run.name: s for run in runs if (s := rescore_run(run)) is not None}
    if len(runs) > 1 or (folder / "comparison.md").exists():
        (folder / "comparison.md").write_text(comparison_table(summaries), encoding="utf-8")
        comparison_chart(summaries, folder / "comparison.png", f"zhiku eval — {folder.name}")
    for name, summary in summaries.items():
        keys = ("accuracy", "fact_recall", "match", "precision", "coverage")
        print(f"{folder.name}/{name}:", {k: summary["answer"][k] for k in keys})


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        rescore(Path(argument))
