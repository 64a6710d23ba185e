"""Turn one file into text sections, or a one-line reason why it cannot be read.

Each loader returns `Section`s: a piece of the file's text with the metadata that
belongs to it (a PDF page, a Markdown heading path). Offsets of chunks are later
computed inside a section, so sections keep `offset`, their start in the file's
extracted text.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ingest.documents import LoadedFile, LoadError, PageCallback, Section, decode_text
from ingest.ocr import DEFAULT_WORKERS as OCR_WORKERS

if TYPE_CHECKING:
    from ingest.ocr_pages import OcrPages

# (issue 25) images, spreadsheets and slides: ingest/ocr.py, tables.py, slides.py
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
SUPPORTED_SUFFIXES = (
    *(".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm", ".csv"),
    *(".xlsx", ".xlsm", ".pptx", *IMAGE_SUFFIXES),
)


# LangChain's TextLoader decodes with one guessed encoding and never refuses binary data.
def _load_plain(path: Path) -> LoadedFile:
    text = decode_text(path.read_bytes())
    return LoadedFile(title=path.stem, sections=[Section(text)])


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def _load_markdown(path: Path) -> LoadedFile:
    """Split at headings so each chunk carries its heading path as metadata.

    LangChain's MarkdownHeaderTextSplitter drops source offsets, which citations need,
    so this is a small line scanner instead.
    """
    text = decode_text(path.read_bytes())
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    start = 0
    pos = 0
    title = ""

    def close(end: int) -> None:
        if text[start:end].strip():
            headings = " > ".join(h for _, h in stack)
            meta: dict[str, str | int] = {"headings": headings} if headings else {}
            sections.append(Section(text[start:end], meta, offset=start))

    in_fence = False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line.rstrip("\r\n"))
        if match:
            close(pos)
            start = pos
            level, heading = len(match.group(1)), match.group(2)
            stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, heading)]
            if level == 1 and not title:
                title = heading
        pos += len(line)
    close(len(text))
    return LoadedFile(title=title or path.stem, sections=sections)


# PyPDFLoader opens PDFs leniently (a truncated file yields some pages, silently) and
# numbers pages from 0; here a broken PDF is a one-line skip and pages start at 1.
def _load_pdf(
    path: Path, on_page: PageCallback | None = None, ocr_workers: int = OCR_WORKERS
) -> LoadedFile:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    from ingest.ocr_pages import OcrPages
    from ingest.pdf_tables import table_reader

    try:
        reader = PdfReader(path, strict=True)
        _decrypt(reader)
        pages = OcrPages(path.name, len(reader.pages), on_page, ocr_workers)
        with table_reader(path) as tables, pages:
            for number, page in enumerate(reader.pages, start=1):
                _pdf_page(page, number, pages, tables)
            sections = pages.finish()
        meta_title = reader.metadata.get("/Title") if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(
            f"corrupt or truncated PDF ({_short(exc)})", code="corrupt", format="PDF"
        ) from None
    return LoadedFile(title=str(meta_title or path.stem), sections=sections)


def _decrypt(reader: object) -> None:
    """Many "encrypted" PDFs only restrict printing and open with an empty password."""
    if getattr(reader, "is_encrypted", False):
        try:
            opened = reader.decrypt("")  # type: ignore[attr-defined]
        except Exception:
            opened = 0
        if not opened:
            raise LoadError("encrypted PDF (needs a password)", skipped=True, code="encrypted")


def _pdf_page(page: Any, number: int, pages: OcrPages, tables: object = None) -> None:
    """A page's text layer (its tables as rows, when pdfplumber finds ruled ones), or, for
    a page without one (a scan), its pictures, handed to OCR."""
    text = page.extract_text() or ""
    if text.strip() or not page.images:
        if text.strip():
            from ingest.pdf_tables import table_sections

            found = table_sections(tables, number)
            if found:
                pages.read(found)
                return
        pages.read([Section(text, {"page": number})])
        return
    from ingest.ocr import pdf_page_pictures

    pages.ocr(pdf_page_pictures(page), number)


# Docx2txtLoader needs docx2txt and loses table cells; UnstructuredWordDocumentLoader
# brings the whole `unstructured` stack. python-docx reads both in a few lines.
def _load_docx(path: Path) -> LoadedFile:
    import zipfile

    import docx

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(f"corrupt DOCX ({_short(exc)})", code="corrupt", format="DOCX") from None
    from ingest.tables import docx_sections  # tables as rows that repeat their header

    title = document.core_properties.title or path.stem
    return LoadedFile(title=title, sections=docx_sections(document))


# BSHTMLLoader keeps the text of <script>, <style> and <nav> and reads one fixed encoding.
def _load_html(path: Path) -> LoadedFile:
    from bs4 import BeautifulSoup, UnicodeDammit

    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise LoadError("binary content (NUL bytes), not HTML", code="binary")
    # UnicodeDammit honours <meta charset>; fall back to our detector.
    markup = UnicodeDammit(data, ["utf-8", "gb18030"]).unicode_markup or decode_text(data)
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "nav", "footer"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    from ingest.tables import html_sections  # tables as rows that repeat their header

    return LoadedFile(title=title or path.stem, sections=html_sections(soup.body or soup))


def _deferred(module: str, name: str) -> Callable[[Path], LoadedFile]:
    """A loader in its own module (which imports this one), imported on first use."""

    def load(path: Path) -> LoadedFile:
        return getattr(importlib.import_module(module), name)(path)

    load.__name__ = name
    return load


# CSVLoader needs the dialect up front (no sniffing), cannot read GBK without a guess,
# and keeps empty cells as 'column: ' lines; ingest/tables.py keeps each row whole.
_load_csv = _deferred("ingest.tables", "load_csv")
_load_xlsx = _deferred("ingest.tables", "load_xlsx")
_load_image = _deferred("ingest.ocr_pages", "load_image")

LOADERS: dict[str, Callable[[Path], LoadedFile]] = {
    ".txt": _load_plain,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".html": _load_html,
    ".htm": _load_html,
    ".csv": _load_csv,
    ".xlsx": _load_xlsx,
    ".xlsm": _load_xlsx,
    ".pptx": _deferred("ingest.slides", "load_pptx"),
    **dict.fromkeys(IMAGE_SUFFIXES, _load_image),
}


_ZIPPED = (".docx", ".xlsx", ".xlsm", ".pptx")


def check_unpacked(path: Path | BinaryIO, max_xml_bytes: int, max_other_bytes: int) -> None:
    """A DOCX is a zip: a 178 KB file can unpack to 48 MB of XML that takes a minute and
    a GB to parse. The sizes its directory declares bound what unzipping yields (zipfile
    stops at the declared size), so they are checked before any part is read."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        kind = path.suffix.lstrip(".").upper() if isinstance(path, Path) else "DOCX"
        raise LoadError(f"corrupt {kind} ({_short(exc)})", code="corrupt", format=kind) from None
    xml = sum(m.file_size for m in members if m.filename.endswith((".xml", ".rels")))
    other = sum(m.file_size for m in members) - xml
    if xml > max_xml_bytes:
        raise LoadError(
            f"unpacks to {xml / 1e6:.1f} MB of XML (limit {max_xml_bytes / 1e6:g} MB, "
            "ZHIKU_MAX_UNPACKED_MB)",
            skipped=True,
            code="unpacks_too_large",
            mb=f"{xml / 1e6:.1f}",
            limit=f"{max_xml_bytes / 1e6:g}",
        )
    if other > max_other_bytes:
        raise LoadError(
            f"unpacks to {other / 1e6:.1f} MB of images and other parts (limit "
            f"{max_other_bytes / 1e6:g} MB, ZHIKU_MAX_FILE_MB)",
            skipped=True,
            code="unpacks_too_large",
            mb=f"{other / 1e6:.1f}",
            limit=f"{max_other_bytes / 1e6:g}",
        )


def check_pages(path: Path | BinaryIO, max_pages: int) -> None:
    """A PDF's page count, read from its page tree before any page's text is extracted."""
    from pypdf import PdfReader

    try:
        pages = len(PdfReader(path, strict=True).pages)
    except Exception:  # a broken PDF is reported by its loader, in its words
        return
    if pages > max_pages:
        raise LoadError(
            f"{pages} pages (limit {max_pages}, ZHIKU_MAX_PDF_PAGES)",
            skipped=True,
            code="too_many_pages",
            pages=pages,
            limit=max_pages,
        )


def check_chunk_count(
    loaded: LoadedFile, chunk_size: int, limit: int, chunks: int | None = None
) -> None:
    """ZHIKU_MAX_CHUNKS_PER_FILE: a 20 MB one-line text would be 80,000 chunks (2 GB).

    Before splitting, the text's length over the chunk size is the fewest chunks it can
    make, so such a file is refused without being split; after, the real count."""
    if chunks is None:
        chunks = sum(len(s.text) for s in loaded.sections) // chunk_size
    if chunks > limit:
        raise LoadError(
            f"would make at least {chunks:,} chunks (limit {limit:,}, ZHIKU_MAX_CHUNKS_PER_FILE)",
            skipped=True,
            code="too_many_chunks",
            chunks=f"{chunks:,}",
            limit=f"{limit:,}",
        )


def load_file(
    path: Path,
    max_bytes: int,
    *,
    max_unpacked_bytes: int | None = None,
    max_pages: int | None = None,
    max_image_pixels: int | None = None,
    max_sheet_rows: int | None = None,
    on_page: PageCallback | None = None,
    ocr_workers: int = OCR_WORKERS,
) -> LoadedFile:
    """Load a supported file, or raise LoadError with a one-line reason.

    `max_unpacked_bytes` (DOCX XML) and `max_pages` (PDF) refuse files whose cost is not
    in their size on disk, before they are parsed.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"cannot read ({_short(exc)})") from None
    if size == 0:
        raise LoadError("empty file", skipped=True, code="empty")
    if size > max_bytes:
        raise LoadError(
            f"too large ({size / 1e6:.1f} MB > limit {max_bytes / 1e6:.1f} MB, ZHIKU_MAX_FILE_MB)",
            skipped=True,
            code="too_large",
            size=f"{size / 1e6:.1f}",
            limit=f"{max_bytes / 1e6:.1f}",
        )
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(
            f"unsupported file type {path.suffix!r}",
            skipped=True,
            code="unsupported_type",
            suffix=path.suffix or "–",
        )
    try:
        if max_unpacked_bytes is not None and path.suffix.lower() in _ZIPPED:
            check_unpacked(path, max_unpacked_bytes, max_bytes)
        if max_pages is not None and loader is _load_pdf:
            check_pages(path, max_pages)
        if loader is _load_image:
            from ingest.ocr import DEFAULT_MAX_PIXELS
            from ingest.ocr_pages import load_image

            pixels = max_image_pixels or DEFAULT_MAX_PIXELS
            loaded = load_image(path, pixels, max_pages or 2000, on_page, ocr_workers)
        elif loader is _load_pdf:
            loaded = _load_pdf(path, on_page, ocr_workers)
        elif loader is _load_xlsx and max_sheet_rows:
            from ingest.tables import load_xlsx

            loaded = load_xlsx(path, max_sheet_rows)
        else:
            loaded = loader(path)
    except LoadError:
        raise
    except PermissionError:
        raise LoadError("permission denied") from None
    except OSError as exc:
        raise LoadError(f"cannot read ({_short(exc)})") from None
    except Exception as exc:  # a parser bug on odd input must not stop the whole ingest
        raise LoadError(
            f"could not parse ({type(exc).__name__}: {_short(exc)})", code="parse_failed"
        ) from None
    if not any(s.text.strip() for s in loaded.sections):
        raise LoadError(
            "no text found (blank, scanned image PDF, or only markup)", skipped=True, code="no_text"
        )
    return loaded


def _short(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror  # the path is already in the report line
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return message[:160]
