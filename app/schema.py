"""The typed results of zhiku, in the lowest layer so every layer can name them: the RAG
chain's answer (answering builds it; conversations store it, the UI, CLI and API show it,
eval scores it) and its stream events.

TypedDicts rather than dataclasses: the result is JSON as it stands (`zhiku ask --json`
prints it, eval stores it, an HTTP API returns it) and every reader indexes it the same
way, while a type checker still knows every key. Each shape is built in one place below.
"""

from __future__ import annotations

import time
from typing import Any, Literal, NotRequired

from langchain_core.documents import Document
from typing_extensions import TypedDict  # pydantic reads these on Python 3.11 (API models)


class ContextInfo(TypedDict):
    """A retrieved chunk as the model saw it, numbered as the answer cites it."""

    n: int
    source: str | None
    page: int | None
    chunk_id: str | None
    text: str
    score: float | None  # the reranker's score if one ran, else the fused one
    # calibrated from the cosine, keyword coverage and fused score (app/retrieval/relevance.py):
    # the number above says which source ranked first, this says whether it is any good
    relevance: Literal["strong", "partial", "weak"]
    scores: dict[str, float]  # dense, bm25, fused, rerank
    start: int | None
    end: int | None


class CitationInfo(TypedDict):
    n: int
    source: str
    page: int | None
    chunk_id: str
    quote: str
    inferred: bool  # the model gave no marker; matched by text overlap instead


class QuoteInfo(TypedDict):
    """A sentence the grounded strategy chose as evidence, shown under the answer."""

    n: int  # the number of its chunk, as the answer cites it
    source: str | None
    page: int | None
    chunk_id: str | None
    text: str


class AbstentionInfo(TypedDict):
    abstained: bool
    # "evidence" (nothing relevant retrieved), "model" (it refused itself), "reasoning"
    # (CoT found no passage), "support" (the draft is not in the documents), "selection"
    # (the grounded strategy's model chose no sentence), or None
    signal: str | None
    scores: dict[str, Any]


class Timings(TypedDict):
    condense_s: float
    retrieval_s: float
    first_token_s: float
    first_text_s: float  # the first useful text on screen: the quotes, else the first token
    generation_s: float
    total_s: float


class CuratedInfo(TypedDict):
    """The FAQ entry whose answer was shown verbatim instead of asking the model."""

    entry_id: int
    knowledge_base: str
    question: str  # the entry's question (the user asked it in their own words)
    author: str
    updated_at: float  # seconds since the epoch
    score: float  # how close the user's question was (1.0: the same question)


class AnswerResult(TypedDict):
    question: str
    standalone_question: str
    contexts: list[ContextInfo]
    strategy: str
    backend: str
    answer: str
    refused: bool
    abstention: AbstentionInfo
    draft: str  # the whole draft when only its verified part (or nothing) is shown
    citations: list[CitationInfo]
    quotes: list[QuoteInfo]  # grounded strategy: the chosen sentences, shown under the answer
    reasoning: str
    timings: Timings
    tokens: dict[str, int | bool]
    curated: NotRequired[CuratedInfo | None]  # set when an FAQ entry answered (app.faq)


class ContextsEvent(TypedDict):
    event: Literal["contexts"]
    question: str
    contexts: list[ContextInfo]


class QuotesEvent(TypedDict):
    """Grounded strategy: the chosen sentences, as soon as they are chosen."""

    event: Literal["quotes"]
    quotes: list[QuoteInfo]


class TokenEvent(TypedDict):
    event: Literal["token"]
    text: str
    part: Literal["answer", "reasoning"]


class ResultEvent(AnswerResult):
    event: Literal["result"]


StreamEvent = ContextsEvent | QuotesEvent | TokenEvent | ResultEvent


# One question of an evaluation (`zhiku eval`'s rows.jsonl): what was retrieved and how it
# scored. Every row has the first block; the gold-source metrics only when the question
# names its sources; the answer's keys only when the chain ran (the last block only for
# answerable questions, quotes only from the grounded strategy). `total=False`, and a plain
# dict on disk, so rows recorded before a key existed (docs/eval/) load as they are.
EvalRow = TypedDict(
    "EvalRow",
    {
        "id": str,
        "question": str,
        "kind": str,
        "lang": str,
        "answerable": bool,
        "gold_sources": list[str],
        "retrieved": list[str],
        "retrieval_s": float,
        # questions with gold sources
        "hit@1": float,
        "hit@3": float,
        "hit@5": float,
        "hit@10": float,
        "mrr@10": float,
        "evidence_hit@5": float,
        # answered questions
        "answer": str,
        "references": list[str],
        "refused": bool,
        "faithfulness": float | None,
        "citation_acc": float | None,
        "abstention_signal": str | None,
        "abstention_scores": dict[str, Any],
        "draft": str,
        "reasoning": str,
        "contexts_n": int,
        "context_sources": list[str | None],
        "first_token_s": float | None,
        "first_text_s": float | None,
        "generation_s": float | None,
        "total_s": float | None,
        "quotes": list[str],
        "from_quotes": bool,
        "quotes_correct": bool,
        # answerable questions
        "correct": bool,
        "draft_correct": bool,
        "match": bool,
        "fact_recall": float | None,
        "em": float,
        "f1": float,
        "rouge_l": float,
        "bleu": float,
        "ppl_context": float | None,
        "ppl_no_context": float | None,
    },
    total=False,
)


def context_info(n: int, doc: Document) -> ContextInfo:
    scores = doc.metadata.get("scores", {})
    return ContextInfo(
        n=n,
        source=doc.metadata.get("source"),
        page=doc.metadata.get("page"),
        chunk_id=doc.id,
        text=doc.page_content,
        score=scores.get("rerank", scores.get("fused")),
        relevance=doc.metadata.get("relevance", "weak"),  # unlabelled: nothing vouches for it
        scores=scores,
        start=doc.metadata.get("start"),
        end=doc.metadata.get("end"),
    )


class Clock:
    """The moments of one answer, turned into the `timings` every result carries."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.condensed = self.retrieved = self.first_token = self.finished = self.started
        self.quoted: float | None = None  # when the grounded strategy's quotes were shown

    @staticmethod
    def now() -> float:
        return time.perf_counter()

    def timings(self) -> Timings:
        first_text = min(self.quoted, self.first_token) if self.quoted else self.first_token
        return Timings(
            condense_s=round(self.condensed - self.started, 3),
            retrieval_s=round(self.retrieved - self.condensed, 3),
            first_token_s=round(self.first_token - self.started, 3),
            first_text_s=round(first_text - self.started, 3),
            generation_s=round(self.finished - self.retrieved, 3),
            total_s=round(self.finished - self.started, 3),
        )
