"""Re-indexing reads the folders a knowledge base was built from again (real Chroma)."""

from __future__ import annotations

from ingest.indexing import ingest_paths, open_knowledge_base, reindex
from ingest.roots import locate_source, remembered_roots


def test_reindex_reads_the_remembered_folders_again(make_settings, tmp_path) -> None:
    settings = make_settings()
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("第一份笔记：知库支持中文。", encoding="utf-8")
    (folder / "b.txt").write_text("第二份笔记：知库支持英文。", encoding="utf-8")
    kb = open_knowledge_base(settings, "notes")
    assert ingest_paths(kb, [folder]).files_indexed == 2
    assert remembered_roots(settings, "notes") == [folder.absolute()]
    assert locate_source(settings, "notes", "a.txt") == folder / "a.txt"

    (folder / "a.txt").write_text("第一份笔记（改）：知库支持中文和英文。", encoding="utf-8")
    (folder / "b.txt").unlink()
    report = reindex(kb)
    assert (report.files_indexed, report.files_pruned) == (1, 1)
    sources = {m["source"] for m in kb.store.get(include=["metadatas"])["metadatas"]}
    assert sources == {"a.txt"}
    assert reindex(open_knowledge_base(settings, "never-ingested")).files_seen == 0
