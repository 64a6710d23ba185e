"""Which FAQ entry a user's question asks, and how closely: cosine similarity between the
question's embedding and every stored question and phrasing (the entry's score is its
best), exact over all of them, since an FAQ is small.

Both sides are embedded as queries (E5's "query: " prefix): this compares a question with
a question, the symmetric task E5 was trained to use that prefix for on both sides.
The decision is one pure function, `decide`, with the thresholds of `settings.faq`,
and two checks for what the embedding alone misses (docs/benchmarks.md, "FAQ entries"):
a question naming something the entry's questions do not (GPT-2 against "GPT-1 有多少
参数"), or asking for another kind of answer (who against what, `app.faq.asking`), is
another question however close its vector. The best entry passing both is the match.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from langchain_core.embeddings import Embeddings

from app.faq.asking import same_ask
from app.faq.store import FaqEntry, FaqStore, FaqVectors
from app.faq.text import question_key
from app.models.embeddings import embed_queries, embedding_id
from app.settings import FaqSettings
from app.text import names, squash

Verdict = Literal["answer", "context", "none"]
REEMBED_BATCH = 256  # entries embedded again per transaction when the model changed


@dataclass(frozen=True)
class FaqMatch:
    """The closest entry to a question, its score, and what the chain does with it."""

    entry: FaqEntry
    score: float  # cosine of the closest question or phrasing; 1.0 for the same question
    verdict: Verdict


def embed_questions(embeddings: Embeddings, texts: list[str]) -> np.ndarray:
    """Unit-length float32 rows, one per text, embedded as queries (in batches)."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return _unit(np.asarray(embed_queries(embeddings, texts), dtype=np.float32))


def embed_entries(embeddings: Embeddings, questions: Sequence[list[str]]) -> list[np.ndarray]:
    """One block of rows per entry (its question, then its phrasings), every entry's
    texts embedded together: an import's batch of rows is a few model calls, not one
    per question."""
    if not questions:
        return []
    matrix = embed_questions(embeddings, [text for texts in questions for text in texts])
    return np.split(matrix, np.cumsum([len(texts) for texts in questions])[:-1])


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def best_scores(query: np.ndarray, vectors: FaqVectors) -> list[tuple[int, float]]:
    """(entry id, best cosine) for every entry, best first."""
    if not len(vectors.entry_ids):
        return []
    cosines = vectors.matrix @ _unit(query.astype(np.float32))
    best: dict[int, float] = {}
    for entry_id, score in zip(vectors.entry_ids.tolist(), cosines.tolist(), strict=True):
        best[entry_id] = max(score, best.get(entry_id, -1.0))
    return sorted(best.items(), key=lambda item: -item[1])


def names_agree(question: str, entry: FaqEntry) -> bool:
    """Every name of the question (GPT-2, ChatGPT, BERT) occurs in the entry's questions."""
    written = squash(" ".join(entry.questions()))
    return all(squash(name) in written for name in names(question))


def same_question(question: str, entry: FaqEntry) -> bool:
    """The question names nothing the entry does not and asks for the same kind of answer."""
    return names_agree(question, entry) and same_ask(question, entry.questions())


def decide(score: float, config: FaqSettings, *, same: bool = True) -> Verdict:
    """At or above the match threshold, and the same question (`same_question`), the
    entry answers; above the context threshold, and the same question, it is one more
    context for the model; else it is not used. An entry about another name or kind of
    answer is never context: put first, it misled more often than it helped (0.29 vs 0.67
    precision, docs/benchmarks.md "FAQ entries as context")."""
    if not same:
        return "none"
    if score >= config.faq_match_threshold:
        return "answer"
    if score >= config.faq_context_threshold:
        return "context"
    return "none"


@dataclass(frozen=True)
class _Known:
    entry: FaqEntry
    key: str  # its question normalised: the same question matches without embedding


class FaqMatcher:
    """The FAQ of one knowledge base as a matrix, read again when it changes (another
    process may have added or edited an entry: the version is one small query per ask)."""

    def __init__(
        self, store: FaqStore, knowledge_base: str, embeddings: Embeddings, config: FaqSettings
    ) -> None:
        self.store, self.knowledge_base = store, knowledge_base
        self.embeddings, self.config = embeddings, config
        self.model = embedding_id(embeddings)
        self._vectors: FaqVectors | None = None
        self._entries: dict[int, _Known] = {}
        self._lock = threading.Lock()

    def match(self, question: str) -> FaqMatch | None:
        """The closest entry and the verdict, or None when the FAQ is empty."""
        vectors = self._current()
        if not len(vectors.entry_ids):
            return None
        key = question_key(question)
        exact = next((e for e in self._entries.values() if e.key == key), None) if key else None
        if exact is not None:  # the same question, written another way: no model needed
            return FaqMatch(exact.entry, 1.0, decide(1.0, self.config))
        query = np.asarray(self.embeddings.embed_query(question), dtype=np.float32)
        ranked = [(self._entries[i].entry, s) for i, s in best_scores(query, vectors)]
        entry, score = next(((e, s) for e, s in ranked if same_question(question, e)), ranked[0])
        verdict = decide(score, self.config, same=same_question(question, entry))
        return FaqMatch(entry, round(score, 4), verdict)

    def _current(self) -> FaqVectors:
        version = self.store.version(self.knowledge_base)
        with self._lock:
            if self._vectors is None or self._vectors.version != version:
                self._vectors = self._load()
            return self._vectors

    def _load(self) -> FaqVectors:
        vectors, stale = self.store.vectors(self.knowledge_base, self.model)
        entries = self.store.entries(self.knowledge_base)  # after: it holds every vector's entry
        self._entries = {e.id: _Known(e, question_key(e.question)) for e in entries}
        if not stale:
            return vectors
        known = {e.id: e for e in entries}
        for start in range(0, len(stale), REEMBED_BATCH):  # the embedding model changed
            batch = [known[i] for i in stale[start : start + REEMBED_BATCH] if i in known]
            blocks = embed_entries(self.embeddings, [e.questions() for e in batch])
            fresh = {e.id: block for e, block in zip(batch, blocks, strict=True)}
            self.store.set_vectors(self.knowledge_base, fresh, self.model)
        return self.store.vectors(self.knowledge_base, self.model)[0]
