"""`zhiku eval`: score retrieval and answers on a question set; `zhiku eval compare`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

eval_app = typer.Typer(help="Score retrieval and answers on a question set.")
console = Console(stderr=True)
out = Console()

QA = Annotated[
    list[Path],
    typer.Option("--qa", help="Questions (JSON Lines, shared/eval format); repeatable."),
]
CORPUS = Annotated[
    Path, typer.Option("--corpus", help="Folder of the documents the questions are about.")
]
COLLECTION = Annotated[
    str | None, typer.Option("--collection", help="Knowledge base (default: eval-<corpus>-…).")
]
K = Annotated[int | None, typer.Option("--k", help="Chunks given to the model.")]
LIMIT = Annotated[int | None, typer.Option("--limit", help="Only the first N questions.")]
RETRIEVAL_ONLY = Annotated[
    bool, typer.Option("--retrieval-only", help="Score retrieval, skip the chain.")
]
NO_PPL = Annotated[
    bool, typer.Option("--no-perplexity", help="Skip the reference-answer perplexities.")
]


def _evaluate(settings, options, out_dir: Path, label: str) -> dict:
    """Run one configuration with a progress bar; write its files; return the summary."""
    from app.evaluation.report import summarise, write_outputs
    from app.evaluation.runner import run_questions
    from app.schema import EvalRow

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bars:
        task = bars.add_task(f"{label}: indexing {options.corpus.name}", total=None)

        def advance(row: EvalRow) -> None:
            bars.update(task, description=f"{label}: {row['id']}")
            bars.advance(task)

        from app.evaluation.dataset import load_question_files

        bars.update(task, total=len(load_question_files(options.qa, options.limit)))
        rows = run_questions(settings, options, on_question=advance)
    summary = summarise(rows)
    write_outputs(out_dir, rows, summary, run_config(settings, options))
    return summary


def run_config(settings, options) -> dict:
    """What a run's figures depend on (config.json); `compare --resume` matches on it."""
    from app.evaluation.runner import default_collection
    from app.models.chat import chat_backend

    return {
        "qa": " + ".join(str(p) for p in options.qa),
        "corpus": str(options.corpus),
        "collection": options.collection or default_collection(options.corpus, settings),
        "strategy": options.strategy or settings.answering.strategy,
        "retriever": options.retriever or settings.retrieval.retriever,
        "k": options.k or settings.retrieval.top_k,
        "gold_context": options.gold_context,
        "retrieval_only": options.retrieval_only,
        "embedding_backend": settings.embedding.embedding_backend,
        "backend": settings.chat_model.backend,
        "llm_model": chat_backend(settings).display_name,
        "limit": options.limit,
        "perplexity": options.perplexity and not options.retrieval_only,
        "abstain": settings.abstention.abstain,
    }


def _finished(settings, options, folder: Path) -> dict | None:
    """The summary of a run already in `folder` with the same configuration, if any."""
    import json

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if config == run_config(settings, options) else None


@eval_app.callback(invoke_without_command=True)
def evaluate(
    ctx: typer.Context,
    qa: QA = None,  # type: ignore[assignment]  # required, checked below (group callback)
    corpus: CORPUS = None,  # type: ignore[assignment]
    collection: COLLECTION = None,
    strategy: Annotated[
        str | None,
        typer.Option("--strategy", help="zero-shot, few-shot, cot, extractive or grounded."),
    ] = None,
    k: K = None,
    retriever: Annotated[
        str | None, typer.Option("--retriever", help="bm25, dense or hybrid.")
    ] = None,
    retrieval_only: RETRIEVAL_ONLY = False,
    gold_context: Annotated[
        bool, typer.Option("--gold-context", help="Answer from the gold passage (upper bound).")
    ] = False,
    limit: LIMIT = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    no_perplexity: NO_PPL = False,
) -> None:
    """Score one configuration: summary.json, rows.jsonl and report.md in --out."""
    if ctx.invoked_subcommand:
        return
    from app.cli.errors import user_errors
    from app.evaluation.runner import EvalOptions
    from app.settings import get_settings

    if not qa or corpus is None:
        console.print("give --qa FILE and --corpus DIR (see `zhiku eval --help`)")
        raise typer.Exit(1)
    with user_errors():
        settings = get_settings()
        options = EvalOptions(
            qa=qa,
            corpus=corpus,
            collection=collection,
            strategy=strategy,
            k=k,
            retriever=retriever,
            retrieval_only=retrieval_only,
            gold_context=gold_context,
            limit=limit,
            perplexity=not no_perplexity,
        )
        _check(options, settings)
        label = _label(options.strategy or settings.answering.strategy, options, settings)
        target = out_dir or Path("eval-results") / f"{qa[0].stem}-{label}"
        _evaluate(settings, options, target, label)
    out.print((target / "report.md").read_text(encoding="utf-8"), highlight=False, soft_wrap=True)
    out.print(f"written to {target}/ (summary.json, rows.jsonl, report.md)", highlight=False)


def _label(strategy: str, options, settings) -> str:
    if options.retrieval_only:
        return f"retrieval-{options.retriever or settings.retrieval.retriever}"
    source = "gold" if options.gold_context else options.retriever or settings.retrieval.retriever
    return f"{strategy}-{source}"


def _check(options, settings) -> None:
    from app.evaluation.dataset import (
        QuestionFileError,
        count_needing_review,
        load_question_files,
    )
    from app.settings import STRATEGIES, SettingsError

    if not options.corpus.is_dir():
        raise SettingsError(f"--corpus {options.corpus} is not a folder")
    if options.strategy and options.strategy not in STRATEGIES:
        raise SettingsError(f"--strategy {options.strategy!r}: use one of {', '.join(STRATEGIES)}")
    if options.retriever and options.retriever not in ("bm25", "dense", "hybrid"):
        raise SettingsError(f"--retriever {options.retriever!r}: use bm25, dense or hybrid")
    try:
        if waiting := count_needing_review(options.qa):
            console.print(
                f"{waiting} question(s) from 👎 feedback still need a reference answer "
                "(needs_review): skipped"
            )
        if not load_question_files(options.qa, 1):
            raise SettingsError("the --qa files hold no questions")
    except QuestionFileError as exc:
        raise SettingsError(str(exc)) from None


DEFAULT_RUNS = [
    "zero-shot:hybrid",
    "few-shot:hybrid",
    "cot:hybrid",
    "zero-shot:dense",
    "zero-shot:bm25",
    "zero-shot:gold",
]


@eval_app.command("compare")
def compare(
    qa: QA,
    corpus: CORPUS,
    runs: Annotated[
        list[str] | None,
        typer.Option(
            "--run",
            help="STRATEGY:RETRIEVER, repeatable; RETRIEVER may be 'gold' (upper bound). "
            "Default: " + " ".join(DEFAULT_RUNS),
        ),
    ] = None,
    collection: COLLECTION = None,
    k: K = None,
    limit: LIMIT = None,
    retrieval_only: RETRIEVAL_ONLY = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    no_perplexity: NO_PPL = False,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Keep runs already in --out with the same configuration."),
    ] = False,
) -> None:
    """Run several strategies and retrievers on one set: a chart and a table side by side."""
    from app.cli.errors import user_errors
    from app.evaluation.report import comparison_chart, comparison_table
    from app.evaluation.runner import EvalOptions
    from app.settings import SettingsError, get_settings

    target = out_dir or Path("eval-results") / f"{qa[0].stem}-compare"
    summaries: dict[str, dict] = {}
    shared = EvalOptions(
        qa=qa,
        corpus=corpus,
        collection=collection,
        k=k,
        retrieval_only=retrieval_only,
        limit=limit,
        perplexity=not no_perplexity,
    )
    with user_errors():
        settings = get_settings()
        for run in runs or DEFAULT_RUNS:
            strategy, _, source = run.partition(":")
            if not source:
                raise SettingsError(f"--run {run!r}: write STRATEGY:RETRIEVER, e.g. cot:hybrid")
            gold = source == "gold"
            options = replace(
                shared, strategy=strategy, retriever=None if gold else source, gold_context=gold
            )
            _check(options, settings)
            label = _label(strategy, options, settings)
            done = _finished(settings, options, target / label) if resume else None
            if done is not None:
                console.print(f"{label}: kept from {target / label}")
            summaries[label] = done or _evaluate(settings, options, target / label, label)
    table = comparison_table(summaries)
    (target / "comparison.md").write_text(table, encoding="utf-8")
    comparison_chart(summaries, target / "comparison.png", f"zhiku eval — {qa[0].name}")
    out.print(table, highlight=False, soft_wrap=True)
    out.print(f"written to {target}/ (comparison.png, comparison.md, one folder per run)")


@eval_app.command("export-feedback")
def export_feedback(
    out_file: Annotated[Path, typer.Option("--out", help="Question file to write (JSON Lines).")],
) -> None:
    """Rated chat answers as questions: 👍 become references, 👎 questions to review;
    FAQ entries' answers are references for their questions."""
    from app.cli.errors import user_errors
    from app.conversations.store import open_conversation_store
    from app.evaluation.feedback import export_feedback as write
    from app.knowledge.faq import FaqService
    from app.settings import get_settings

    with user_errors():
        settings = get_settings()
        rated = open_conversation_store(settings).rated_answers()
        counts = write(rated, out_file, FaqService(settings).every_entry())
    out.print(
        f"{counts.up + counts.down} rated answers written to {out_file}: {counts.up} 👍 "
        f"(reference answers), {counts.down} 👎 (needs_review: fill in `answers`, then "
        f"remove the flag); {counts.faq} FAQ questions (the curated answer is the reference)",
        highlight=False,
    )
