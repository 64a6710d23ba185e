"""Issue 22's limits as pure logic: loopback names, file bombs refused before parsing,
chunk counts, chat-message size and `n`, and "disk full" recognised in any wrapping."""

from __future__ import annotations

import errno
import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.api.schemas import ChatRequest, MessageTooLong
from app.errors import disk_full
from app.loopback import is_loopback, loopback_host_header, loopback_origin
from ingest.loaders import LoadedFile, LoadError, Section, check_chunk_count, load_file


@pytest.mark.parametrize(
    ("host", "ok"),
    [("127.0.0.1", True), ("127.0.0.1:8000", True), ("localhost:1", True), ("[::1]:80", True),
     ("LOCALHOST", True), ("rebind.evil.example", False), ("rebind.evil.example:8000", False),
     ("127.0.0.1.evil.example", False), ("localhost.evil.example", False), ("", False),
     ("[::1", False), ("0.0.0.0:8000", False)],
)  # fmt: skip
def test_host_headers(host: str, ok: bool) -> None:
    assert loopback_host_header(host) is ok


@pytest.mark.parametrize(
    ("origin", "ok"),
    [("http://localhost:3000", True), ("https://127.0.0.1", True), ("http://[::1]:8080", True),
     ("http://evil.example", False), ("null", False), ("file://", False),
     ("http://127.0.0.1.nip.io", False)],
)  # fmt: skip
def test_origins(origin: str, ok: bool) -> None:
    assert loopback_origin(origin) is ok


def test_listening_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("")


def _docx(path: Path, xml: bytes, other: bytes = b"") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", xml)
        if other:
            archive.writestr("word/media/image1.png", other)
    return path


def test_a_docx_that_unpacks_to_too_much_xml_is_skipped_unparsed(tmp_path: Path) -> None:
    bomb = _docx(tmp_path / "bomb.docx", b"<w:p/>" * 2_000_000)  # 12 MB of XML
    assert bomb.stat().st_size < 200_000
    with pytest.raises(LoadError) as info:
        load_file(bomb, 10**8, max_unpacked_bytes=5_000_000)
    assert info.value.skipped and "ZHIKU_MAX_UNPACKED_MB" in str(info.value)
    image_bomb = _docx(tmp_path / "image.docx", b"<w:p/>", other=b"\0" * 3_000_000)
    with pytest.raises(LoadError, match="ZHIKU_MAX_FILE_MB"):
        load_file(image_bomb, 1_000_000, max_unpacked_bytes=5_000_000)


def test_a_pdf_with_too_many_pages_is_skipped(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(12):
        writer.add_blank_page(width=100, height=100)
    out = io.BytesIO()
    writer.write(out)
    path = tmp_path / "pages.pdf"
    path.write_bytes(out.getvalue())
    with pytest.raises(LoadError, match=r"12 pages .*ZHIKU_MAX_PDF_PAGES"):
        load_file(path, 10**8, max_pages=10)


def test_chunk_count_is_refused_before_and_after_splitting() -> None:
    one_line = LoadedFile("t", [Section("a" * 20_000_000)])
    with pytest.raises(LoadError, match=r"66,666 chunks .*ZHIKU_MAX_CHUNKS_PER_FILE"):
        check_chunk_count(one_line, 300, 20_000)
    short = LoadedFile("t", [Section("短文。" * 10)])
    check_chunk_count(short, 300, 20_000)
    with pytest.raises(LoadError):
        check_chunk_count(short, 300, 20_000, chunks=20_001)


def _request(content: str, **extra) -> ChatRequest:
    return ChatRequest(model="zhiku/x", messages=[{"role": "user", "content": content}], **extra)


def test_message_size_and_n() -> None:
    with pytest.raises(MessageTooLong, match="920,000 characters"):
        _request("问" * 920_000).check_size(4000)
    _request("问" * 4000).check_size(4000)
    with pytest.raises(ValidationError, match="only n=1"):
        _request("hi", n=5)
    assert _request("hi", n=1).n == 1


def test_disk_full_is_recognised_through_wrapping() -> None:
    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError as inner:
            raise RuntimeError("commit failed") from inner
    except RuntimeError as outer:
        assert disk_full(outer)
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not disk_full(ValueError("bad"))


def test_uploads_over_a_limit_are_refused_before_they_are_written(make_settings) -> None:
    from ingest.uploads import UploadError, save_upload

    settings = make_settings(max_unpacked_mb=1, max_chunks_per_file=100)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:p/>" * 400_000)  # 2.4 MB of XML
    with pytest.raises(UploadError, match=r"bomb\.docx: unpacks to 2\.4 MB of XML"):
        save_upload(settings, "kb1", "bomb.docx", bomb.getvalue())
    with pytest.raises(UploadError, match="ZHIKU_MAX_CHUNKS_PER_FILE"):
        save_upload(settings, "kb1", "long.txt", b"a" * 300 * 101)
    assert save_upload(settings, "kb1", "fine.txt", b"a" * 300 * 99).is_file()
    assert not (settings.storage.uploads_dir / "kb1" / "bomb.docx").exists()
