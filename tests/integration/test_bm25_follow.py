"""What happens to a collection's BM25 index when chunks are added and deleted: the
object follows the collection's version, with a real embedded Chroma and SQLite
record manager (the vectors are LangChain's deterministic fake: dense search is not
what is tested here, and no model is loaded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_chroma import Chroma
from langchain_core.embeddings import DeterministicFakeEmbedding

from app.settings import load_settings
from app.store.bm25 import BM25Index
from app.store.bm25._segments import MANIFEST, CompactionPolicy
from app.store.records import CollectionRecords

CHUNKS = {
    "gpt": "GPT-1有12层，参数量1.17亿。",
    "bert": "BERT是双向编码器。",
    "attention": "Transformer基于注意力机制。",
}


class Collection:
    """Chunks written the way ingest writes them: Chroma, then the record manager, then
    the version bump."""

    def __init__(self, folder: Path) -> None:
        self.settings = load_settings(data_dir=folder)
        self.store = Chroma(
            collection_name="notes",
            embedding_function=DeterministicFakeEmbedding(size=8),
            persist_directory=str(folder / "chroma"),
        )
        self.records = CollectionRecords.of(self.settings, "notes")

    def add(self, chunks: dict[str, str]) -> None:
        self.store.add_texts(list(chunks.values()), ids=list(chunks))
        self.records.manager.update(list(chunks))
        self.records.bump()

    def delete(self, ids: list[str]) -> None:
        self.store.delete(ids)
        self.records.manager.delete_keys(ids)
        self.records.bump()


def manifest(index: BM25Index) -> dict:
    return json.loads((index.folder / MANIFEST).read_text())


@pytest.fixture
def small_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small collection is normally rebuilt whole (milliseconds); here it must not be."""
    monkeypatch.setattr(BM25Index, "policy", CompactionPolicy(rebuild_below=0, max_share=10.0))


def test_a_delete_becomes_a_tombstone_and_an_add_a_segment(tmp_path: Path, small_changes) -> None:
    kb = Collection(tmp_path)
    kb.add(CHUNKS)
    index = BM25Index.open(kb.settings, "notes", kb.store, kb.records)
    assert index.search("注意力", 3)[0][0] == "attention"  # built on first use
    assert manifest(index)["version"] == kb.records.version()

    kb.delete(["attention"])
    assert index.search("注意力", 3) == []  # the next search follows the version
    after_delete = manifest(index)
    assert [s["deleted"] for s in after_delete["segments"]] == [["attention"]]

    kb.add({"new": "注意力机制的新资料。"})
    assert [i for i, _ in index.search("注意力", 3)] == ["new"]
    after_add = manifest(index)
    assert len(after_add["segments"]) == 2  # the base segment untouched, one delta
    assert after_add["segments"][0] == after_delete["segments"][0]


def test_a_writer_brings_the_index_in_step_on_the_way_out(tmp_path: Path, small_changes) -> None:
    kb = Collection(tmp_path)
    kb.add(CHUNKS)
    index = BM25Index.open(kb.settings, "notes", kb.store, kb.records)
    assert index.search("双向编码器", 1)[0][0] == "bert"  # built and published
    with index.writing():
        kb.delete(["gpt"])
        kb.add({"new": "GPT-2有48层。"})
    # Published by the writer itself, not by the next search:
    published = manifest(index)
    assert published["version"] == kb.records.version()
    assert [s["deleted"] for s in published["segments"]] == [["gpt"], []]  # no rebuild
    assert [i for i, _ in index.search("GPT-2有几层", 3)] == ["new"]
    assert not list(tmp_path.glob("bm25/**/*.STALE"))  # the marker is gone
