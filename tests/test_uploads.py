"""Upload names and limits, and re-indexing from the remembered folders (real Chroma)."""

from __future__ import annotations

import pytest

from ingest.indexing import ingest_paths, open_knowledge_base, reindex
from ingest.roots import locate_source, remembered_roots
from ingest.uploads import UploadError, safe_filename, save_upload, upload_folder


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../evil.txt", "evil.txt"),
        ("..\\..\\windows\\evil.txt", "evil.txt"),
        ("C:\\Users\\x\\报告.docx", "报告.docx"),
        ("/etc/passwd.txt", "passwd.txt"),
        (".hidden.md", "hidden.md"),
        ("a\x00b\nc.txt", "abc.txt"),
        ("会议 纪要 2024.pdf", "会议 纪要 2024.pdf"),
    ],
)
def test_safe_filename_keeps_only_a_plain_name(given: str, kept: str) -> None:
    assert safe_filename(given) == kept


@pytest.mark.parametrize("name", ["..", "../", "...", "dir/", " . "])
def test_names_with_nothing_left_are_refused(name: str) -> None:
    with pytest.raises(UploadError):
        safe_filename(name)


def test_save_upload_checks_type_size_and_stays_in_the_folder(make_settings) -> None:
    settings = make_settings(max_file_mb=0.001)
    path = save_upload(settings, "docs", "../../../x/evil.txt", "短文本".encode())
    assert path.parent == upload_folder(settings, "docs").resolve()
    with pytest.raises(UploadError, match="not supported"):
        save_upload(settings, "docs", "run.sh", b"echo")
    with pytest.raises(UploadError, match="limit"):
        save_upload(settings, "docs", "big.txt", b"x" * 2000)
    with pytest.raises(UploadError, match="empty"):
        save_upload(settings, "docs", "empty.txt", b"")
    assert sorted(p.name for p in path.parent.iterdir()) == ["evil.txt"]


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
    sources = {m["source"] for m in kb.store._collection.get(include=["metadatas"])["metadatas"]}
    assert sources == {"a.txt"}
    assert reindex(open_knowledge_base(settings, "never-ingested")).files_seen == 0
