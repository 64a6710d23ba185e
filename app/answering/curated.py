"""Curated answers: an FAQ entry (app.faq) whose question the user asked is the answer,
verbatim and without the model; one that is only close is one more context for it.

The chain asks `CuratedAnswers.match` before anything else, so every surface (the chat,
`zhiku ask`, the API, MCP, `zhiku eval`) gives the same curated answer.
"""

from __future__ import annotations

from langchain_core.documents import Document

from app.faq.matching import FaqMatch, FaqMatcher
from app.faq.store import FaqError, open_faq_store
from app.models.embeddings import make_embeddings
from app.schema import Clock, ContextInfo, CuratedInfo, ResultEvent, TokenEvent, context_info
from app.settings import Settings


class CuratedAnswers:
    """The FAQ of one knowledge base, as the chain consults it."""

    def __init__(self, settings: Settings, knowledge_base: str) -> None:
        self.knowledge_base = knowledge_base
        self.matcher = FaqMatcher(
            open_faq_store(settings), knowledge_base, make_embeddings(settings), settings.faq
        )

    def match(self, question: str) -> FaqMatch | None:
        """The closest entry, or None (no FAQ, or its database cannot be read: the
        question is then answered from the documents, as without an FAQ)."""
        try:
            return self.matcher.match(question)
        except FaqError:
            return None


def faq_document(match: FaqMatch) -> Document:
    """A close entry as one more chunk for the model (below the match threshold)."""
    entry = match.entry
    return Document(
        id=f"faq-{entry.id}",
        page_content=f"{entry.question}\n{entry.answer}",
        # "fused" is the score every surface shows for a context (no reranker ran on it)
        metadata={
            "source": f"FAQ #{entry.id}",
            "scores": {"faq": match.score, "fused": match.score},
        },
    )


def curated_info(match: FaqMatch) -> CuratedInfo:
    entry = match.entry
    return CuratedInfo(
        entry_id=entry.id,
        knowledge_base=entry.knowledge_base,
        question=entry.question,
        author=entry.author,
        updated_at=entry.updated_at,
        score=match.score,
    )


def curated_events(
    question: str, match: FaqMatch, clock: Clock, strategy: str, backend: str
) -> tuple[TokenEvent, ResultEvent]:
    """The entry's answer as one token event (streaming clients show it at once) and the
    result, marked curated: no citations, no abstention, no tokens spent."""
    clock.retrieved = clock.first_token = clock.finished = clock.now()
    contexts: list[ContextInfo] = [context_info(1, faq_document(match))]
    answer = match.entry.answer
    token = TokenEvent(event="token", text=answer, part="answer")
    result = ResultEvent(
        event="result",
        question=question,
        standalone_question=question,
        contexts=contexts,
        strategy=strategy,
        backend=backend,
        answer=answer,
        refused=False,
        abstention={"abstained": False, "signal": None, "scores": {"faq": match.score}},
        draft="",
        citations=[],
        quotes=[],
        reasoning="",
        timings=clock.timings(),
        tokens={},
        curated=curated_info(match),
    )
    return token, result
