"""`zhiku ask "问题"`: stream an answer to the terminal, sources listed under it."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from rich.markup import escape

from app import tracing
from app.cli.errors import user_errors
from app.settings import STRATEGIES

if TYPE_CHECKING:
    from app.schema import AnswerResult

out = Console(highlight=False)


def ask(
    question: Annotated[str, typer.Argument(help="The question, in Chinese or English.")],
    strategy: Annotated[
        str | None,
        typer.Option("--strategy", "-s", help="zero-shot | few-shot | cot | extractive | grounded"),
    ] = None,
    k: Annotated[int | None, typer.Option("--k", min=1, max=50, help="Chunks to use.")] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="local | hosted")] = None,
    collection: Annotated[
        str | None, typer.Option("--collection", "-c", help="Knowledge base name.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole result as one JSON object.")
    ] = False,
) -> None:
    """Answer a question from a knowledge base, with citations."""
    from app.answering.chain import build_rag_chain
    from app.models.chat import BACKENDS
    from app.settings import get_settings

    if strategy not in (None, *STRATEGIES):
        raise typer.BadParameter(f"use one of {', '.join(STRATEGIES)}", param_hint="--strategy")
    if backend not in (None, *BACKENDS):
        raise typer.BadParameter(f"use {' or '.join(BACKENDS)}", param_hint="--backend")
    with user_errors():
        settings = get_settings()
        chain = build_rag_chain(
            settings, collection=collection, strategy=strategy, k=k, backend=backend
        )
        with tracing.answer("cli", collection=collection or settings.knowledge.collection) as trace:
            if as_json:
                result = chain.invoke(question)
                trace.record(result)
                print(json.dumps(result, ensure_ascii=False))
                return
            result = cast("AnswerResult", {})
            for event in chain.stream(question):
                if event["event"] == "token":
                    style = "dim" if event["part"] == "reasoning" else ""
                    out.print(escape(event["text"]), end="", style=style, soft_wrap=True)
                elif event["event"] == "result":
                    result = event
            trace.record(result)
        out.print()
        _print_curated(result)
        _print_abstention(result)
        _print_quotes(result)
        _print_sources(result)


def _print_curated(result: AnswerResult) -> None:
    """An FAQ entry's answer, verbatim: say whose and from when (no model wrote it)."""
    curated = result.get("curated")
    if curated:
        when = datetime.fromtimestamp(curated["updated_at"]).strftime("%Y-%m-%d")
        out.print(
            f"curated answer · {escape(curated['author'])} · {when} "
            f"(FAQ entry {curated['entry_id']})",
            style="bold green",
        )


def _print_abstention(result: AnswerResult) -> None:
    """A withheld answer: say so, and why (the streamed text, if any, was only a draft)."""
    decision = result.get("abstention") or {}
    scores = decision.get("scores", {})
    if not decision.get("abstained") and result.get("draft"):
        unsupported = ", ".join(scores.get("support", {}).get("unsupported", []))
        out.print(
            f"Verified part kept: {escape(result['answer'])}  "
            f"(the rest is not in the documents: {escape(unsupported)})",
            style="bold yellow",
            soft_wrap=True,
        )
        return
    if not decision.get("abstained") or decision.get("signal") == "model":
        return
    if decision["signal"] == "evidence":
        missing = scores.get("evidence", {}).get("missing_names")
        why = f"not in the documents: {', '.join(missing)}" if missing else "nothing relevant found"
    elif decision["signal"] == "support":
        unsupported = scores.get("support", {}).get("unsupported")
        why = "draft above withheld; " + (
            f"not in the documents: {', '.join(unsupported)}"
            if unsupported
            else "it only restates the question, or too little of it is in the documents"
        )
    elif decision["signal"] == "selection":
        why = "no sentence of the passages answers it"
    else:
        why = "draft above withheld; its reasoning found no support"
    out.print(f"{escape(result['answer'])}  ({escape(why)})", style="bold yellow", soft_wrap=True)


def _print_quotes(result: AnswerResult) -> None:
    """The grounded strategy's evidence, verbatim, under a shown answer."""
    if result.get("refused") or not result.get("quotes"):
        return
    out.print("原文 Quoted:", style="bold")
    for quote in result["quotes"]:
        out.print(f"  > {escape(quote['text'])} [{quote['n']}]", soft_wrap=True)


def _print_sources(result: AnswerResult) -> None:
    cited = {c["n"] for c in result.get("citations", [])}
    out.print()
    for ctx in result.get("contexts", []):
        page = f", p.{ctx['page']}" if ctx.get("page") else ""
        mark = "*" if ctx["n"] in cited else " "
        out.print(
            f"{mark}[{ctx['n']}] {escape(str(ctx['source']))}{page}  (score {ctx['score']})",
            style="bold" if mark == "*" else "dim",
        )
    timings = result.get("timings", {})
    if timings:
        out.print(
            f"retrieval {timings['retrieval_s']:.2f} s · first token "
            f"{timings['first_token_s']:.1f} s · total {timings['total_s']:.1f} s",
            style="dim",
        )
    sys.stdout.flush()
