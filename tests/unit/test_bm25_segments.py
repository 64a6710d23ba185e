"""The segmented BM25 index: small changes cost small segments, tombstones hide deleted
chunks, a reader sees whole segment sets, and an index grown by many small changes ranks
like one built fresh from the same chunks."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from app.store.bm25._scoring import Bm25sIndex, CorpusStats
from app.store.bm25._segments import MANIFEST, CompactionPolicy, SegmentedIndex
from app.text import tokenize

# Characters with a Zipf-like spread (common ones everywhere, rare ones in few chunks),
# so IDF matters: what a segment weighted with its own statistics would get wrong.
HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你" + (
    "检索模型向量数据训练参数注意力编码解码语言知识问答文本分块嵌入排序召回精度延迟"
    "熊猫长江黄河泰山故宫火车飞机咖啡茶叶围棋象棋钢琴小提琴篮球足球乒乓"
)


def corpus(n: int, seed: int = 7) -> dict[str, str]:
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(HANZI))]
    return {
        f"c{i:04d}": "".join(rng.choices(HANZI, weights, k=rng.randint(20, 80))) + f"编号{i}"
        for i in range(n)
    }


def queries(chunks: dict[str, str], n: int = 40, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    picked = rng.sample(sorted(chunks.values()), n)
    return [text[start : start + 6] for text in picked for start in [rng.randint(0, 12)]]


def fresh(folder: Path, chunks: dict[str, str]) -> SegmentedIndex:
    return SegmentedIndex.create(folder, list(chunks), list(chunks.values()))


def grow(folder: Path, policy: CompactionPolicy, steps: int = 60) -> tuple[SegmentedIndex, dict]:
    """A base of 200 chunks, then `steps` changes of 3 added and 1 deleted chunk."""
    pool = corpus(200 + 3 * steps)
    ids = list(pool)
    live = {i: pool[i] for i in ids[:200]}
    index = fresh(folder, live)
    rng = random.Random(11)
    for step in range(steps):
        added = {i: pool[i] for i in ids[200 + 3 * step : 203 + 3 * step]}
        gone = rng.choice(sorted(live))
        live.update(added)
        del live[gone]
        index = index.apply(
            added,
            [gone],
            version=step + 1,
            texts_of=lambda wanted: {i: live[i] for i in wanted if i in live},
            everything=lambda: (list(live), list(live.values())),
            policy=policy,
        )
    return index, live


def test_a_segment_weighted_with_its_own_statistics_equals_a_plain_bm25s_build() -> None:
    chunks = corpus(50)
    texts = list(chunks.values())
    tokens = [tokenize(t) for t in texts]
    doc_freq: dict[str, int] = {}
    for doc in tokens:
        for token in set(doc):
            doc_freq[token] = doc_freq.get(token, 0) + 1
    stats = CorpusStats(len(texts), sum(map(len, tokens)), doc_freq)
    plain = Bm25sIndex.build(list(chunks), texts)
    weighted = Bm25sIndex.build(list(chunks), texts, stats)
    for query in queries(chunks, 10):
        expected = plain.scores(tokenize(query))
        assert np.allclose(weighted.scores(tokenize(query)), expected, rtol=1e-5)
        assert expected.max() > 0


def test_an_index_grown_by_many_small_changes_ranks_like_a_fresh_build(tmp_path: Path) -> None:
    # No compaction at all: 60 deltas on a 200-chunk base (the policy's worst case).
    policy = CompactionPolicy(max_share=10.0, max_deltas=1000, rebuild_below=0)
    grown, live = grow(tmp_path / "grown", policy)
    assert len(grown.segments) == 61
    assert sorted(grown.ids) == sorted(live)
    rebuilt = fresh(tmp_path / "fresh", live)
    top1 = top10 = 0.0
    asked = queries(live)
    for query in asked:
        got = [i for i, _ in grown.search(query, 10)]
        want = [i for i, _ in rebuilt.search(query, 10)]
        top1 += got[0] == want[0]
        top10 += len(set(got) & set(want)) / len(want)
    assert top1 / len(asked) >= 0.9
    assert top10 / len(asked) >= 0.9


def test_deltas_use_the_collections_statistics_not_their_own(tmp_path: Path) -> None:
    """A 3-chunk delta weighted alone gives a common character the IDF of a rare one."""
    chunks = corpus(200)
    index = fresh(tmp_path / "idx", chunks)
    added = {"new": "的的的的的一是在", "n2": "长江黄河", "n3": "围棋象棋"}
    grown = index.apply(
        added,
        [],
        1,
        texts_of=dict,
        everything=lambda: ([], []),
        policy=CompactionPolicy(rebuild_below=0, max_share=1.0),
    )
    rebuilt = fresh(tmp_path / "fresh", {**chunks, **added})
    score = dict(grown.search("的一是", 300))["new"]
    assert score == pytest.approx(dict(rebuilt.search("的一是", 300))["new"], rel=0.05)
    naive = dict(Bm25sIndex.build(list(added), list(added.values())).search("的一是", 3))["new"]
    assert naive > 1.3 * score  # what the delta would score with only its own 3 chunks


def test_small_changes_write_small_segments_and_compaction_folds_them(tmp_path: Path) -> None:
    policy = CompactionPolicy(max_share=0.25, max_deltas=4, rebuild_below=0)
    index, live = grow(tmp_path / "idx", policy, steps=30)
    assert 1 <= len(index.segments) <= 5  # merged after 4 deltas, compacted at 25 %
    assert index.dead_weight <= 0.25 * len(live)
    assert sorted(index.ids) == sorted(live)
    on_disk = {p.name for p in (tmp_path / "idx").iterdir() if p.is_dir()}
    assert on_disk == {s.name for s in index.segments}  # replaced segments are removed


def test_tombstones_hide_deleted_chunks_and_a_readd_comes_back(tmp_path: Path) -> None:
    chunks = {"a": "GPT-1有12层", "b": "BERT是双向编码器", "c": "注意力机制"}
    policy = CompactionPolicy(rebuild_below=0, max_share=10.0)
    index = fresh(tmp_path / "idx", chunks)

    def apply(idx, added, gone, version):
        return idx.apply(added, gone, version, texts_of=dict, everything=None, policy=policy)

    index = apply(index, {}, ["a"], 1)
    assert index.search("GPT-1", 3) == [] and "a" not in index
    index = apply(index, {"a": chunks["a"]}, [], 2)
    assert [i for i, _ in index.search("GPT-1", 3)] == ["a"]
    assert index.search("GPT-1", 3, allowed={"b"}) == []
    again = apply(index, {"a": chunks["a"]}, [], 3)  # already live: no duplicate
    assert len(again.segments) == len(index.segments) and again.ids.count("a") == 1

    reopened = SegmentedIndex.open(tmp_path / "idx")
    assert reopened.version == 3 and sorted(reopened.ids) == ["a", "b", "c"]
    assert reopened.search("GPT-1", 3) == index.search("GPT-1", 3)


def test_the_manifest_is_replaced_whole(tmp_path: Path) -> None:
    index = fresh(tmp_path / "idx", corpus(20))
    before = (tmp_path / "idx" / MANIFEST).read_text()
    index.apply(
        {"x": "新的段落"},
        [],
        1,
        texts_of=dict,
        everything=None,
        policy=CompactionPolicy(rebuild_below=0, max_share=10.0),
    )
    manifest = json.loads((tmp_path / "idx" / MANIFEST).read_text())
    assert manifest["version"] == 1 and len(manifest["segments"]) == 2
    assert before != json.dumps(manifest)
    assert not list((tmp_path / "idx").glob("*.tmp"))


def test_empty_collection(tmp_path: Path) -> None:
    index = SegmentedIndex.create(tmp_path / "idx", [], [])
    assert index.search("任何问题", 5) == []
    assert SegmentedIndex.open(tmp_path / "idx").search("任何问题", 5) == []


def test_a_chunk_whose_text_changed_under_its_id_is_found_by_its_new_words(
    tmp_path: Path,
) -> None:
    """A curated edit (issue 28) keeps the chunk's id: deleted and added in one change, the
    old text is a tombstone and the new one a delta; a small policy keeps it a delta."""
    chunks = {**corpus(50), "c0007": "鹦鹉螺"}
    index = fresh(tmp_path, chunks)
    edited = {**chunks, "c0007": "紫藤花开的季节"}
    policy = CompactionPolicy(rebuild_below=0, max_share=1.0)
    index = index.apply(
        {"c0007": edited["c0007"]},
        ["c0007"],
        version=1,
        texts_of=lambda ids: {i: edited[i] for i in ids},
        everything=lambda: (list(edited), list(edited.values())),
        policy=policy,
    )
    assert len(index.segments) == 2 and len(index) == 50
    assert index.search("紫藤花", 1)[0][0] == "c0007"
    assert index.search("鹦鹉螺", 50) == []
    reopened = SegmentedIndex.open(tmp_path)
    assert reopened.search("紫藤花", 1)[0][0] == "c0007"
