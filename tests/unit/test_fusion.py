"""Weighted reciprocal-rank fusion, by hand."""

from __future__ import annotations

import pytest

from app.retrieval.hybrid import rrf


def test_rrf_by_hand() -> None:
    fused = rrf({"dense": ["a", "b"], "bm25": ["b", "c"]}, {"dense": 1, "bm25": 1}, k=1)
    # best possible = 2/2 = 1; a = 1/2, b = 1/3 + 1/2, c = 1/3
    assert fused == pytest.approx({"a": 0.5, "b": 5 / 6, "c": 1 / 3})
    weighted = rrf({"dense": ["a"], "bm25": ["b"]}, {"dense": 1, "bm25": 0.5}, k=0)
    assert weighted["a"] > weighted["b"]
