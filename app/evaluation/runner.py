"""Run a question set through retrieval and the chain; score every question.

One pass per question: retrieve the top 10 once (hit@k, MRR@10, evidence hit@5), hand
the chain the top k of that list (so retrieval is timed once and the answer sees exactly
the scored chunks), score the answer, then the perplexity of the reference answer with
and without those chunks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from app import tracing
from app.answering import prompts
from app.evaluation import answer_metrics as am
from app.evaluation.dataset import (
    LookupRetriever,
    Question,
    gold_passages,
    load_question_files,
)
from app.evaluation.retrieval_metrics import evidence_hit_at, hit_at, reciprocal_rank
from app.schema import AnswerResult, EvalRow
from app.settings import Settings
from app.text import is_refusal, strip_citations


@dataclass
class EvalOptions:
    qa: Path | list[Path]
    corpus: Path
    collection: str | None = None
    strategy: str | None = None
    k: int | None = None
    retriever: str | None = None
    retrieval_only: bool = False
    gold_context: bool = False
    limit: int | None = None
    perplexity: bool = True


def default_collection(corpus: Path, settings: Settings) -> str:
    """eval-<corpus>-<embedding backend>: its own collection, never the user's."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", corpus.resolve().name).strip("-._") or "corpus"
    return f"eval-{slug}-{settings.embedding.embedding_backend}"[:60]


def prepare_collection(settings: Settings, corpus: Path, collection: str):
    """Ingest the corpus (incremental: a second run only hashes the files)."""
    from ingest.indexing import ingest_paths, open_knowledge_base

    kb = open_knowledge_base(settings, collection)
    report = ingest_paths(kb, [corpus])
    return kb, report


def run_questions(
    settings: Settings,
    options: EvalOptions,
    on_question: Callable[[EvalRow], None] | None = None,
) -> list[EvalRow]:
    """Score every question; returns one row per question (see `rows.jsonl`)."""
    from app.answering.chain import build_rag_chain
    from app.retrieval.hybrid import build_retriever

    strategy = options.strategy or settings.answering.strategy
    k = options.k or settings.retrieval.top_k
    mode = options.retriever or settings.retrieval.retriever
    collection = options.collection or default_collection(options.corpus, settings)
    questions = load_question_files(options.qa, options.limit)
    kb, _ = prepare_collection(settings, options.corpus, collection)
    retriever = build_retriever(settings, collection, retriever=mode, top_k=max(10, k))
    # The model gets what the chain's own retriever gives at k, not the first k of the
    # ranking scored above: the entity channel puts its chunk last among the k it returns,
    # so the first k of a top-10 list would leave it out.
    answer_retriever = build_retriever(settings, collection, retriever=mode, top_k=k)
    lookup = LookupRetriever()
    chain = None
    if not options.retrieval_only:
        chain = build_rag_chain(
            settings, collection=collection, strategy=strategy, retriever=lookup
        )
    llama = _local_llama(settings) if chain and options.perplexity else None

    rows: list[EvalRow] = []
    for question in questions:
        started = time.perf_counter()
        docs = retriever.invoke(question.question)
        retrieval_s = time.perf_counter() - started
        row = _retrieval_row(question, docs, retrieval_s)
        if chain is not None:
            given = (
                gold_passages(kb.store, question, k)
                if options.gold_context
                else answer_retriever.invoke(question.question)
            )
            lookup.documents = {question.question: given}
            with tracing.answer("eval", question_id=question.id) as trace:
                result = chain.invoke(question.question)
                trace.record(result)
            row.update(_answer_row(question, result))
            if llama is not None and question.answerable:
                row.update(_perplexities(llama, question, given))
        rows.append(row)
        if on_question:
            on_question(row)
    return rows


def _local_llama(settings: Settings):
    from app.models.local import LocalChat

    return LocalChat(settings).client


def _retrieval_row(question: Question, docs, retrieval_s: float) -> EvalRow:
    sources = [str(d.metadata.get("source", "")) for d in docs]
    texts = [d.page_content for d in docs]
    row: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "kind": question.kind,
        "lang": question.lang,
        "answerable": question.answerable,
        "gold_sources": question.sources,
        "retrieved": sources[:10],
        "retrieval_s": round(retrieval_s, 4),
    }
    if question.sources:
        for n in (1, 3, 5, 10):
            row[f"hit@{n}"] = hit_at(n, sources, question.sources)
        row["mrr@10"] = reciprocal_rank(sources, question.sources, k=10)
        row["evidence_hit@5"] = evidence_hit_at(5, texts, question.evidence)
    return cast(EvalRow, row)


def _answer_row(question: Question, result: AnswerResult) -> EvalRow:
    answer = result["answer"]
    abstention = result.get("abstention") or {}
    refused = bool(result.get("refused")) or is_refusal(answer)
    contexts = [c["text"] for c in result["contexts"]]
    cited = [c["source"] for c in result.get("citations", [])]
    timings = result.get("timings", {})
    row: dict[str, Any] = {
        "answer": answer,
        "references": question.answers,
        "refused": refused,
        "faithfulness": None if refused else am.faithfulness(answer, contexts),
        "citation_acc": am.citation_accuracy(cited, question.sources)
        if question.answerable and not refused
        else None,
        "abstention_signal": abstention.get("signal"),
        "abstention_scores": abstention.get("scores", {}),
        "draft": result.get("draft", ""),
        "reasoning": result.get("reasoning", ""),
        "contexts_n": len(result["contexts"]),
        "context_sources": [c["source"] for c in result["contexts"]],
        "first_token_s": timings.get("first_token_s"),
        "first_text_s": timings.get("first_text_s", timings.get("first_token_s")),
        "generation_s": timings.get("generation_s"),
        "total_s": timings.get("total_s"),
    }
    quotes = result.get("quotes") or []
    if quotes:  # grounded strategy: the evidence shown under the answer, scored apart
        row["quotes"] = [q["text"] for q in quotes]
        support = (abstention.get("scores") or {}).get("support") or {}
        row["from_quotes"] = bool(support.get("from_quotes")) and not refused
        if question.answerable:
            row["quotes_correct"] = am.is_correct(
                "\n".join(row["quotes"]), question.answers, question.facts
            )
    if question.answerable:
        plain = strip_citations(answer).strip()
        row.update(correctness(question, answer, result.get("draft", ""), refused))
        row.update(
            em=am.exact_match(plain, question.answers),
            f1=am.f1(plain, question.answers),
            rouge_l=am.rouge_l(plain, question.answers),
            bleu=am.sentence_bleu(plain, question.answers),
        )
    return cast(EvalRow, row)


def correctness(question: Question, answer: str, draft: str, refused: bool) -> EvalRow:
    """Whether the shown answer and the model's draft state the key facts (or contain a
    reference span); `draft` is empty when the whole answer was shown."""
    draft = draft or answer  # what the model wrote, before any withholding
    return {  # the keys in this order, as recorded rows have them
        "correct": not refused and am.is_correct(answer, question.answers, question.facts),
        "draft_correct": am.is_correct(draft, question.answers, question.facts),
        "match": am.contains_reference(draft, question.answers),
        "fact_recall": am.fact_recall(draft, question.facts),
    }


def _perplexities(llama, question: Question, docs) -> EvalRow:
    """Reference answer under the zero-shot prompt, with the given chunks and with none."""
    from app.answering.chain import context_chunks

    lang = prompts.detect_language(question.question)
    reference = question.answers[0]
    with_context = prompts.answer_messages(
        "zero-shot", question.question, context_chunks(docs), lang
    )
    without = prompts.answer_messages("zero-shot", question.question, [], lang)
    from app.evaluation.perplexity import answer_perplexity

    return {
        "ppl_context": answer_perplexity(llama, with_context, reference),
        "ppl_no_context": answer_perplexity(llama, without, reference),
    }
