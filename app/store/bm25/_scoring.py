"""One bm25s index over some of a collection's chunks: the scoring inside one segment.

Tokens: character unigrams + bigrams for Chinese (measured on CMRC as slightly better
than jieba words, and it needs no dictionary: see docs/benchmarks.md), Latin and digit
runs kept whole and lower-cased, punctuation and spaces dropped, after NFKC so full-
width "ＧＰＴ－１" and "GPT-1" match. Whitespace tokenisation, bm25s' default, scores
Chinese text near zero.

bm25s cannot update an index in place, so a collection's index is a set of these
(_segments.py): a change adds a small one, weighted with the whole
collection's statistics (`CorpusStats`), and compaction folds them back into one.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.text import tokenize

if TYPE_CHECKING:
    import bm25s


@dataclass(frozen=True)
class CorpusStats:
    """What BM25's weights depend on besides a document itself: the collection's size,
    total length and each token's document frequency."""

    n_docs: int
    total_len: int
    doc_freq: dict[str, int]

    @property
    def avg_len(self) -> float:
        return self.total_len / self.n_docs if self.n_docs else 1.0


def _collection_stats_bm25(stats: CorpusStats, vocab: dict[str, int]):
    """A bm25s.BM25 whose weights use the whole collection's statistics, not the
    segment's own: a 3-chunk segment would otherwise give every one of its tokens a
    near-maximal IDF. `build_index_from_ids` is bm25s' documented override point; the
    score is bm25s' default ("lucene") formula, checked against it by a unit test."""
    import bm25s
    import scipy.sparse as sp

    class CollectionStatsBM25(bm25s.BM25):
        def build_index_from_ids(self, unique_token_ids, corpus_token_ids, **_ignored):
            n, idf = stats.n_docs, np.zeros(len(unique_token_ids), dtype=np.float32)
            for token, i in vocab.items():
                df = stats.doc_freq.get(token, 0)
                idf[i] = np.log(1 + (n - df + 0.5) / (df + 0.5)) if df else 0.0
            rows, cols, values = [], [], []
            for doc, token_ids in enumerate(corpus_token_ids):
                counts = Counter(token_ids)
                voc = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
                norm = self.k1 * (1 - self.b + self.b * len(token_ids) / stats.avg_len)
                rows.append(np.full(len(voc), doc))
                cols.append(voc)
                values.append(idf[voc] * tf / (norm + tf))
            self.nonoccurrence_array = None
            matrix = sp.csc_matrix(
                (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                shape=(len(corpus_token_ids), len(unique_token_ids)),
                dtype=np.float32,
            )
            return {
                "data": matrix.data,
                "indices": matrix.indices,
                "indptr": matrix.indptr,
                "num_docs": len(corpus_token_ids),
            }

    return CollectionStatsBM25()


@dataclass
class Bm25sIndex:
    """A bm25s retriever plus the Chroma ids of the chunks it indexes, in order, and the
    corpus size and length that the next segment's statistics are summed from."""

    ids: list[str]
    retriever: bm25s.BM25 | None  # None for an empty collection
    total_len: int = 0

    @classmethod
    def build(
        cls, ids: list[str], texts: list[str], stats: CorpusStats | None = None
    ) -> Bm25sIndex:
        """Index `texts`; with `stats`, weighted by those collection statistics (which
        must include these texts) instead of the texts' own."""
        return cls.from_tokens(ids, [tokenize(t) for t in texts], stats)

    @classmethod
    def from_tokens(
        cls, ids: list[str], tokens: list[list[str]], stats: CorpusStats | None = None
    ) -> Bm25sIndex:
        import bm25s

        if not ids:
            return cls([], None)
        total_len = sum(map(len, tokens))
        if stats is None:
            retriever = bm25s.BM25()
            retriever.index(tokens, show_progress=False)
            return cls(list(ids), retriever, total_len)
        vocab: dict[str, int] = {}
        token_ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in tokens]
        vocab.setdefault("", len(vocab))  # bm25s' empty token
        retriever = _collection_stats_bm25(stats, vocab)
        retriever.index((token_ids, vocab), show_progress=False)
        return cls(list(ids), retriever, total_len)

    def doc_freq(self, token: str) -> int:
        """Documents of this index that contain `token` (its column's non-zeros)."""
        if self.retriever is None:
            return 0
        column = self.retriever.vocab_dict.get(token)
        if column is None:
            return 0
        indptr = self.retriever.scores["indptr"]
        return int(indptr[column + 1] - indptr[column])

    def scores(self, tokens: list[str], mask: np.ndarray | None = None) -> np.ndarray:
        """Every document's score for the query tokens (0 where `mask` is 0)."""
        if self.retriever is None or not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return self.retriever.get_scores(tokens, weight_mask=mask)

    def search(
        self, query: str, k: int, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, score) with a positive score, optionally only `allowed` ids."""
        mask = None
        if allowed is not None:
            mask = np.fromiter((i in allowed for i in self.ids), dtype=np.float32)
        return top_k(self.ids, self.scores(tokenize(query), mask), k)

    def save(self, folder: Path) -> None:
        """Write into a new folder (the caller publishes it: see _segments.py)."""
        folder.mkdir(parents=True)
        meta = {"ids": self.ids, "total_len": self.total_len}
        (folder / "ids.json").write_text(json.dumps(meta))
        if self.retriever is not None:
            self.retriever.save(str(folder / "bm25s"), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> Bm25sIndex:
        import bm25s

        meta = json.loads((folder / "ids.json").read_text())
        if not meta["ids"]:
            return cls([], None)
        retriever = bm25s.BM25.load(str(folder / "bm25s"), show_progress=False, verbosity=0)
        return cls(meta["ids"], retriever, meta["total_len"])


def top_k(ids: list[str], scores: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The k best (id, score) pairs with a positive score, best first."""
    k = min(k, len(ids))
    if k <= 0:
        return []
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(ids[int(i)], float(scores[i])) for i in best if scores[i] > 0]
