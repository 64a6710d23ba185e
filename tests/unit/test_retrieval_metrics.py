from app.evaluation.retrieval_metrics import (
    evidence_hit_at,
    first_hit_rank,
    hit_at,
    reciprocal_rank,
)


def test_ranks_and_hits_by_hand() -> None:
    ranked = ["a.txt", "b.txt", "a.txt", "c.txt"]
    assert first_hit_rank(ranked, ["c.txt"]) == 4
    assert first_hit_rank(ranked, ["z.txt"]) is None
    assert hit_at(3, ranked, ["c.txt"]) == 0.0
    assert hit_at(4, ranked, ["c.txt", "z.txt"]) == 1.0
    assert reciprocal_rank(ranked, ["b.txt"]) == 0.5
    assert reciprocal_rank(ranked, ["c.txt"], k=3) == 0.0


def test_evidence_hit_needs_the_exact_substring_in_the_top_k() -> None:
    texts = ["GPT-1有12层", "参数量1.17亿"]
    assert evidence_hit_at(2, texts, ["1.17亿"]) == 1.0
    assert evidence_hit_at(1, texts, ["1.17亿"]) == 0.0
    assert evidence_hit_at(2, texts, ["1.17 亿"]) == 0.0
