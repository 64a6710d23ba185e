"""The retrieval test (issue 28, item 3): what retrieval returns for a question, scored,
before any model is asked. The knowledge base's curator types a question and sees the
ranked chunks with every score the answer's sources show (dense, BM25, fused, rerank),
which ones the entity channel put in, and which ones reach the model at the current k.

It runs the chat's own retriever twice: at k (exactly the chunks an answer is built
from, entity channel included) and at `candidates` (the ranking below them, to see what
just missed). The knowledge base's closest FAQ entry comes with it, with its score and
what the chain would do with it (answer verbatim, add as context, or ignore), so the
curator sees the curated answer a question would get.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from langchain_core.documents import Document

MAX_CANDIDATES = 50


@dataclass(frozen=True)
class ProbedChunk:
    rank: int
    chunk_id: str
    source: str
    page: int | None
    text: str
    dense: float | None  # cosine similarity (None: BM25 alone found it)
    bm25: float | None
    fused: float | None  # 1.0 = first in every ranking
    rerank: float | None  # None when no reranker is configured
    entity: bool  # put in by the entity channel (a name of the question it mentions)
    reaches_model: bool  # among the k chunks an answer would be built from


@dataclass(frozen=True)
class ProbedFaq:
    entry_id: int
    question: str
    answer: str
    score: float  # cosine to the closest of its questions (1.0: the same question)
    verdict: str  # answer (verbatim, no model), context (one more chunk), none


@dataclass(frozen=True)
class RetrievalProbe:
    knowledge_base: str
    query: str
    k: int
    retriever: str  # hybrid, dense or bm25
    reranker: bool
    chunks: list[ProbedChunk] = field(default_factory=list)
    faq: ProbedFaq | None = None  # None: the knowledge base has no FAQ entries


def probe_result(
    knowledge_base: str,
    query: str,
    k: int,
    settings_view: tuple[str, bool],
    top: list[Document],
    wider: list[Document],
) -> RetrievalProbe:
    """The chunks at k first (in the order the model sees them), then the wider ranking's
    others in their order."""
    shown = {str(doc.id) for doc in top}
    ordered = [(doc, True) for doc in top] + [
        (doc, False) for doc in wider if str(doc.id) not in shown
    ]
    retriever, reranker = settings_view
    return RetrievalProbe(
        knowledge_base=knowledge_base,
        query=query,
        k=k,
        retriever=retriever,
        reranker=reranker,
        chunks=[_probed(n, doc, reaches) for n, (doc, reaches) in enumerate(ordered, start=1)],
    )


def _probed(rank: int, doc: Document, reaches_model: bool) -> ProbedChunk:
    scores = doc.metadata.get("scores", {})
    return ProbedChunk(
        rank=rank,
        chunk_id=str(doc.id),
        source=str(doc.metadata.get("source", "")),
        page=doc.metadata.get("page"),
        text=doc.page_content,
        dense=scores.get("dense"),
        bm25=scores.get("bm25"),
        fused=scores.get("fused"),
        rerank=scores.get("rerank"),
        entity=bool(scores.get("entity")),
        reaches_model=reaches_model,
    )
