"""Retrieval without an answer: the one function behind `POST /v1/retrieve`, Dify's
`POST /retrieval` and the MCP `search` tool, so the three cannot drift apart.

Each chunk carries `score`, the dense cosine similarity of the chunk to the query
(0..1; the same number for the same chunk and query whatever else was retrieved, so a
threshold on it means something), `scores` with every component the retriever kept
(dense, bm25, fused rank score, entity, relevance), and `relevance`, the strong / partial
/ weak label a reader can use (app/retrieval/relevance.py). A chunk only BM25 found has
no dense similarity and scores 0; with `ZHIKU_RETRIEVER=bm25` the score is the
normalised fused rank score.
The order is the retriever's (fused), the one the chat's answers are built from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from app.errors import UserError
from app.once import once_per_arguments
from app.retrieval.probe import MAX_CANDIDATES, ProbedFaq, RetrievalProbe, probe_result
from app.settings import Settings
from app.store.knowledge_bases import collection_ids, list_collections

MAX_K = 50


class UnknownKnowledgeBase(UserError):
    """The request names a knowledge base (or a document in one) this server does not have."""


class BadQuery(UserError):
    """An empty or oversized query, or k out of range."""


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    source: str
    page: int | None
    text: str
    score: float
    scores: dict = field(default_factory=dict)
    relevance: str = "weak"  # strong / partial / weak: app/retrieval/relevance.py

    def as_dict(self) -> dict:
        return asdict(self)


def check_query(query: str, k: int, max_chars: int) -> str:
    """The query stripped, or a one-line BadQuery naming the limit broken (the length
    limit is the chat's, `ZHIKU_MAX_QUESTION_CHARS`)."""
    query = (query or "").strip()
    if not query:
        raise BadQuery("query is empty")
    if len(query) > max_chars:
        raise BadQuery(f"query is {len(query)} characters; the limit is {max_chars}")
    if not 1 <= k <= MAX_K:
        raise BadQuery(f"k must be between 1 and {MAX_K}, not {k}")
    return query


class RetrievalService:
    """Retrievers made once per knowledge base and k; the models inside are shared."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._retriever = once_per_arguments(maxsize=64)(self._build)
        # one matcher per knowledge base: it re-reads its FAQ only when the FAQ changed
        self._faq_matcher = once_per_arguments(maxsize=64)(self._build_faq_matcher)

    def _build(self, collection: str, k: int, collection_id: str):
        """`collection_id` keys the cache: a renamed collection, or a new one under a
        deleted one's name, gets a retriever of its own."""
        from app.retrieval.hybrid import build_retriever

        return build_retriever(self.settings, collection, top_k=k)

    def _build_faq_matcher(self, collection: str):
        from app.faq.matching import FaqMatcher
        from app.faq.store import open_faq_store
        from app.models.embeddings import make_embeddings

        embeddings = make_embeddings(self.settings)
        return FaqMatcher(open_faq_store(self.settings), collection, embeddings, self.settings.faq)

    def knowledge_bases(self) -> list[str]:
        return list_collections(self.settings)

    def identity(self, collection: str) -> str:
        """The collection's Chroma id ("" if none): what a cache of chains keys on beside
        the name, so a renamed or re-created knowledge base never gets a stale one."""
        return collection_ids(self.settings).get(collection, "")

    def search(
        self, collection: str, query: str, k: int | None = None, score_threshold: float = 0.0
    ) -> list[Chunk]:
        """The top-k chunks of `collection` for `query` whose score reaches the threshold."""
        k = self.settings.retrieval.top_k if k is None else k
        query = check_query(query, k, self.settings.serving.max_question_chars)
        docs = self._existing(collection, k).invoke(query)
        chunks = [self._chunk(doc) for doc in docs]
        return [c for c in chunks if c.score >= score_threshold]

    def probe(
        self, collection: str, query: str, k: int | None = None, candidates: int = 20
    ) -> RetrievalProbe:
        """The retrieval test: the chunks an answer at k would be built from, with every
        score, then the ranking below them down to `candidates`; no model is asked."""
        k = self.settings.retrieval.top_k if k is None else k
        query = check_query(query, k, self.settings.serving.max_question_chars)
        if not k <= candidates <= MAX_CANDIDATES:
            raise BadQuery(f"candidates must be between k ({k}) and {MAX_CANDIDATES}")
        top = self._existing(collection, k).invoke(query)
        wider = self._existing(collection, candidates).invoke(query) if candidates > k else []
        cfg = self.settings.retrieval
        view = (cfg.retriever, bool(cfg.reranker_model))
        probe = probe_result(collection, query, k, view, top, wider)
        return replace(probe, faq=self._faq(collection, query))

    def _faq(self, collection: str, query: str) -> ProbedFaq | None:
        """The closest FAQ entry as the chain would judge it (app.answering.curated)."""
        from app.faq.store import FaqError

        try:
            match = self._faq_matcher(collection).match(query)
        except FaqError:
            return None
        if match is None:
            return None
        entry = match.entry
        return ProbedFaq(entry.id, entry.question, entry.answer, match.score, match.verdict)

    def documents(self, collection: str) -> dict[str, int]:
        """Every document of `collection` with its chunk count."""
        from app.store.knowledge_bases import chunk_counts

        return dict(sorted(chunk_counts(self._store(collection)).items()))

    def document_text(self, collection: str, source: str) -> str:
        """A document as indexed: its chunks in order (overlaps between chunks kept)."""
        found = self._store(collection).get(
            where={"source": source}, include=["documents", "metadatas"]
        )
        if not found["ids"]:
            raise UnknownKnowledgeBase(f"no document {source!r} in knowledge base {collection!r}")
        parts = sorted(
            zip(found["metadatas"], found["documents"], strict=True),
            key=lambda pair: ((pair[0] or {}).get("page") or 0, (pair[0] or {}).get("start") or 0),
        )
        return "\n\n".join(text for _, text in parts)

    def _store(self, collection: str):
        return self._existing(collection, self.settings.retrieval.top_k).store

    def _existing(self, collection: str, k: int):
        """The retriever of an existing knowledge base (UnknownKnowledgeBase if none)."""
        found = collection_ids(self.settings).get(collection)
        if found is None:
            raise UnknownKnowledgeBase(f"no knowledge base {collection!r}")
        return self._retriever(collection, k, found)

    def _chunk(self, doc) -> Chunk:
        scores = dict(doc.metadata.get("scores", {}))
        fallback = scores.get("fused", 0.0) if self.settings.retrieval.retriever == "bm25" else 0.0
        score = min(1.0, max(0.0, float(scores.get("dense", fallback) or 0.0)))
        return Chunk(
            chunk_id=str(doc.id),
            source=str(doc.metadata.get("source", "")),
            page=doc.metadata.get("page"),
            text=doc.page_content,
            score=round(score, 4),
            scores=scores,
            relevance=doc.metadata.get("relevance", "weak"),
        )
