from pathlib import Path

from app.store.bm25._scoring import Bm25sIndex
from app.text import tokenize


def test_tokens_are_chinese_unigrams_bigrams_and_whole_latin_words() -> None:
    tokens = tokenize("GPT-1有几层？ BERT，Transformer")
    assert tokens == ["gpt-1", "有", "几", "层", "有几", "几层", "bert", "transformer"]


def test_full_width_text_matches_half_width() -> None:
    assert tokenize("ＧＰＴ－１") == tokenize("GPT-1") == ["gpt-1"]
    assert tokenize("。，！？ ") == []


def test_search_ranks_filters_and_survives_save_and_load(tmp_path: Path) -> None:
    texts = ["GPT-1有12层，参数量1.17亿。", "BERT是双向编码器。", "Transformer基于注意力机制。"]
    index = Bm25sIndex.build(["a", "b", "c"], texts)
    hits = index.search("GPT-1的参数量", k=3)
    assert hits[0][0] == "a" and all(score > 0 for _, score in hits)
    assert [i for i, _ in index.search("注意力", k=3)] == ["c"]
    assert index.search("注意力", k=3, allowed={"a", "b"}) == []
    assert index.search("！？", k=3) == []

    index.save(tmp_path / "idx")
    loaded = Bm25sIndex.load(tmp_path / "idx")
    assert loaded.search("GPT-1的参数量", k=3) == hits


def test_empty_index(tmp_path: Path) -> None:
    index = Bm25sIndex.build([], [])
    assert index.search("任何问题", k=5) == []
    index.save(tmp_path / "empty")
    assert Bm25sIndex.load(tmp_path / "empty").search("任何问题", k=5) == []
