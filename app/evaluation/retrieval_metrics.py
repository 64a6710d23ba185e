"""Retrieval metrics over ranked chunks, as defined in shared/eval/README.md.

A retrieved chunk is a source hit when its file is one of the question's gold
sources, and an evidence hit when its text contains one of the evidence strings.
"""

from __future__ import annotations

from collections.abc import Sequence


def first_hit_rank(ranked_sources: Sequence[str], gold_sources: Sequence[str]) -> int | None:
    """1-based rank of the first chunk from a gold source, or None."""
    gold = set(gold_sources)
    for rank, source in enumerate(ranked_sources, start=1):
        if source in gold:
            return rank
    return None


def hit_at(k: int, ranked_sources: Sequence[str], gold_sources: Sequence[str]) -> float:
    rank = first_hit_rank(ranked_sources[:k], gold_sources)
    return 1.0 if rank is not None else 0.0


def reciprocal_rank(
    ranked_sources: Sequence[str], gold_sources: Sequence[str], k: int = 10
) -> float:
    rank = first_hit_rank(ranked_sources[:k], gold_sources)
    return 1.0 / rank if rank is not None else 0.0


def evidence_hit_at(k: int, ranked_texts: Sequence[str], evidence: Sequence[str]) -> float:
    return 1.0 if any(e in text for text in ranked_texts[:k] for e in evidence) else 0.0
