"""Files a user uploads (the web chat): checked, named safely, kept in the knowledge base's folder.

Uploaded files are kept, not just indexed: the folder is what "re-index" reads again,
and deleting a document deletes its file too. The browser sends any name it likes
(`../../evil.txt`, `C:\\x\\y.txt`, control characters), so only the last path part
survives, cleaned; the final path is checked to be inside the folder regardless.
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

from app.errors import DISK_FULL, UserError, disk_full
from app.settings import Settings, validate_collection_name
from ingest.loaders import (
    IMAGE_SUFFIXES,
    SUPPORTED_SUFFIXES,
    LoadedFile,
    LoadError,
    Section,
    check_chunk_count,
    check_pages,
    check_unpacked,
    decode_text,
)


class UploadError(UserError, ValueError):
    """An upload that cannot be accepted; the message says why and what to do. A file
    refused by a limit ingest would apply carries ingest's reason `code` and `params`."""

    def __init__(self, message: str, code: str = "", params: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.params = params or {}


def upload_folder(settings: Settings, collection: str) -> Path:
    """The folder that holds a knowledge base's uploaded files."""
    return settings.storage.uploads_dir / validate_collection_name(collection)


def safe_filename(name: str) -> str:
    """The last path part of `name`, without control characters or leading dots.

    NFC keeps Chinese names readable; anything that could climb out of a folder
    (separators of either OS, `..`, drive letters) is gone after this.
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = base.replace(":", "_").strip().lstrip(".").strip()
    if len(base.encode("utf-8")) > 200:  # most file systems allow 255 bytes
        stem, suffix = Path(base).stem, Path(base).suffix
        base = stem.encode("utf-8")[: 200 - len(suffix)].decode("utf-8", "ignore") + suffix
    if not base or not Path(base).stem:
        raise UploadError(f"file name {name!r} has nothing usable left; rename the file")
    return base


def upload_limit_mb(settings: Settings, server_limit_mb: float | None = None) -> float:
    """The effective size limit: the smaller of ZHIKU_MAX_FILE_MB and Streamlit's own."""
    if server_limit_mb is None:
        return settings.knowledge.max_file_mb
    return min(settings.knowledge.max_file_mb, server_limit_mb)


def save_upload(
    settings: Settings,
    collection: str,
    name: str,
    data: bytes,
    limit_mb: float | None = None,
) -> Path:
    """Check one uploaded file and write it into the knowledge base's folder (atomically)."""
    filename = safe_filename(name)
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        allowed = " ".join(sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES))
        raise UploadError(f"{filename}: type {suffix or '(none)'} is not supported; use {allowed}")
    limit = limit_mb if limit_mb is not None else settings.knowledge.max_file_mb
    if len(data) > limit * 1_000_000:
        raise UploadError(
            f"{filename}: {len(data) / 1e6:.1f} MB is over the {limit:g} MB limit "
            "(ZHIKU_MAX_FILE_MB); split the file or raise the limit"
        )
    if not data:
        raise UploadError(f"{filename}: the file is empty")
    _check_cost(settings, filename, suffix, data)
    folder = upload_folder(settings, collection).resolve()
    target = (folder / filename).resolve()
    if target.parent != folder:  # belt and braces: never write outside the folder
        raise UploadError(f"file name {name!r} is not allowed")
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if disk_full(exc):
            raise UploadError(f"{filename}: not saved, {DISK_FULL}") from None
        raise
    return target


def _check_cost(settings: Settings, filename: str, suffix: str, data: bytes) -> None:
    """The limits that cost next to nothing to check are told to the uploader at once
    (the job would skip the file with the same line): a DOCX's unpacked XML, a PDF's
    pages, a text's least number of chunks. Anything else wrong is the job's to report."""
    try:
        if suffix in (".docx", ".xlsx", ".xlsm", ".pptx"):
            mb = 1_000_000
            check_unpacked(io.BytesIO(data), int(settings.knowledge.max_unpacked_mb * mb),
                           int(settings.knowledge.max_file_mb * mb))  # fmt: skip
        elif suffix == ".pdf":
            check_pages(io.BytesIO(data), settings.knowledge.max_pdf_pages)
        elif suffix in IMAGE_SUFFIXES:  # issue 25: the header's size, before decoding
            from ingest.ocr import open_image

            open_image(io.BytesIO(data), int(settings.knowledge.max_image_megapixels * 1_000_000))
        elif suffix in (".txt", ".md", ".markdown", ".csv"):
            text = LoadedFile(filename, [Section(decode_text(data))])
            check_chunk_count(
                text, settings.knowledge.chunk_size, settings.knowledge.max_chunks_per_file
            )
    except LoadError as exc:
        if exc.skipped:  # a limit, not a broken file
            raise UploadError(
                f"{filename}: {exc}", exc.code, {"file": filename, **exc.params}
            ) from None


def delete_upload(settings: Settings, collection: str, source: str) -> bool:
    """Remove an uploaded file by its source name; False if it was not an upload."""
    folder = upload_folder(settings, collection).resolve()
    target = (folder / source).resolve()
    if target.parent != folder or not target.is_file():
        return False
    target.unlink()
    return True
