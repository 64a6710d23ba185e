"""Upload names and limits: what lands in the knowledge base's folder, and what is refused."""

from __future__ import annotations

import pytest

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


def test_roots_written_by_many_at_once_are_all_kept(make_settings) -> None:
    import threading
    from pathlib import Path

    from ingest.roots import remember_roots, remembered_roots

    settings = make_settings()
    threads = [
        threading.Thread(target=remember_roots, args=(settings, "notes", [Path(f"/srv/{n}")]))
        for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(remembered_roots(settings, "notes")) == sorted(
        Path(f"/srv/{n}") for n in range(20)
    )
