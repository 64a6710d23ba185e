"""`zhiku eval` end to end: real embeddings, real Chroma, the real local model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import GPT1_EVIDENCE, LLM_ARTICLES, SHARED, write_heads_corpus, zhiku

QUESTION_IDS = {"qa-059", "qa-056", "qa-075"}  # two from the notes file, one unanswerable


def tiny_set(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(LLM_ARTICLES / "llm-background-qa-notes.txt", corpus)
    lines = (SHARED / "eval" / "llm_articles.dev.jsonl").read_text(encoding="utf-8").splitlines()
    chosen = [line for line in lines if json.loads(line)["id"] in QUESTION_IDS]
    qa = tmp_path / "tiny.jsonl"
    qa.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    return qa, corpus


def in_range(value, low: float = 0.0, high: float = 1.0) -> bool:
    return value is None or low <= value <= high


def test_eval_writes_a_summary_with_every_metric_in_range(make_settings, tmp_path: Path) -> None:
    qa, corpus = tiny_set(tmp_path)
    settings = make_settings(top_k=3, max_tokens=64)
    out = tmp_path / "out"
    result = zhiku(settings, "eval", "--qa", str(qa), "--corpus", str(corpus), "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == ["n", "retrieval", "answer", "latency"] and summary["n"] == 3
    assert set(summary["retrieval"]) == {
        "hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "evidence_hit@5",
    }  # fmt: skip
    assert summary["retrieval"]["hit@10"] == 1.0  # one file: every chunk is from the source
    answer = summary["answer"]
    assert set(answer) == {
        "accuracy", "fact_recall", "match", "precision", "coverage", "false_refusal_correct",
        "em", "f1", "rouge_l", "bleu", "refusal_acc", "false_refusal", "faithfulness",
        "citation_acc", "ppl_context", "ppl_no_context", "quotes_correct", "from_quotes",
    }  # fmt: skip
    for key in ("em", "f1", "rouge_l", "bleu", "refusal_acc", "false_refusal", "faithfulness",
                "accuracy", "fact_recall", "match", "coverage"):  # fmt: skip
        assert in_range(answer[key]), (key, answer[key])
    assert answer["refusal_acc"] is not None  # one unanswerable question
    assert answer["ppl_context"] > 1 and answer["ppl_no_context"] > 1
    assert answer["ppl_context"] < answer["ppl_no_context"]  # the context helps
    assert {"retrieval_s", "first_token_s", "total_s"} <= set(summary["latency"])
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    assert {r["id"] for r in rows} == QUESTION_IDS
    assert all(r["answer"] for r in rows)
    assert "| answer |" in (out / "report.md").read_text()

    # a second run finds the corpus indexed, and retrieval-only skips the model
    compare = tmp_path / "cmp"
    result = zhiku(
        settings, "eval", "compare", "--qa", str(qa), "--corpus", str(corpus), "--run",
        "zero-shot:bm25", "--run", "zero-shot:dense", "--retrieval-only", "--out", str(compare),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (compare / "comparison.png").stat().st_size > 10_000
    table = (compare / "comparison.md").read_text()
    assert "retrieval-bm25" in table and "retrieval-dense" in table
    bm25 = json.loads((compare / "retrieval-bm25" / "summary.json").read_text())
    assert bm25["answer"]["f1"] is None and bm25["retrieval"]["hit@1"] == 1.0

    # --resume keeps a finished run with the same configuration and redoes a changed one
    rows_file = compare / "retrieval-bm25" / "rows.jsonl"
    rows_file.write_text("kept\n")
    again = [
        "eval", "compare", "--qa", str(qa), "--corpus", str(corpus), "--run", "zero-shot:bm25",
        "--retrieval-only", "--out", str(compare), "--resume",
    ]  # fmt: skip
    result = zhiku(settings, *again)
    assert result.returncode == 0 and "kept from" in result.stderr, result.stderr
    assert rows_file.read_text() == "kept\n"
    result = zhiku(settings, *again, "--limit", "2")
    assert result.returncode == 0 and "kept from" not in result.stderr, result.stderr
    assert len(rows_file.read_text().splitlines()) == 2


def test_eval_reports_bad_arguments_in_one_line(make_settings, tmp_path: Path) -> None:
    qa, _ = tiny_set(tmp_path)
    result = zhiku(make_settings(), "eval", "--qa", str(qa), "--corpus", str(tmp_path / "none"))
    assert result.returncode == 1 and "is not a folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_model_answers_from_the_chains_own_top_k(make_settings, tmp_path: Path) -> None:
    """Retrieval is scored on a top-10 list, but the model must get what the chain's own
    retriever returns at k: the entity channel's chunk is the last of those k, and the first
    k of the top 10 would leave it out."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_heads_corpus(corpus)
    question = {
        "id": "heads-1", "question": "GPT-1模型有多少层、多少个注意力头?",
        "answers": ["12层、12个head"], "sources": ["notes.txt"], "evidence": [GPT1_EVIDENCE],
        "lang": "zh", "kind": "numeric",
    }  # fmt: skip
    qa = tmp_path / "heads.jsonl"
    qa.write_text(json.dumps(question, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ("--qa", str(qa), "--corpus", str(corpus), "--k", "3", "--no-perplexity")
    result = zhiku(make_settings(max_tokens=32), "eval", *args, "--out", str(out))
    assert result.returncode == 0, result.stderr
    row = json.loads((out / "rows.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert "notes.txt" not in row["retrieved"][:3]  # the ranking alone misses it …
    assert row["context_sources"][-1] == "notes.txt"  # … the chain's retriever brings it
