"""Open a cited source at the cited place, for the chat's source viewer.

Nothing the request names is trusted: the chunk must be in the knowledge base's own
collection with that source, and the file is looked for only inside the folders the
knowledge base was built from (`locate_source` refuses `../` and absolute paths). What
comes back is data, never markup: the UI shows text escaped and pictures as pictures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.errors import UserError
from ingest.documents import LoadError
from ingest.knowledge_base import KnowledgeBase
from ingest.loaders import IMAGE_SUFFIXES, load_file
from ingest.ocr import BOXES_KEY
from ingest.page_images import ocr_boxes, scanned_page, text_layer_page
from ingest.roots import locate_source
from ingest.tables import parse_row

TABLE_SUFFIXES = (".xlsx", ".xlsm", ".csv")
CONTEXT_BEFORE = 600  # characters of the document shown above the quote
CONTEXT_AFTER = 4000  # and below it: enough to read on, not a whole book in the page


class SourceError(UserError):
    """A source that cannot be opened, in one line (not ours, gone, unreadable)."""


@dataclass(frozen=True)
class SourceView:
    """One cited place, as the viewer shows it.

    kind "page": `image` is a PNG of the page with `highlighted` boxes round the quote;
    "text": `text` is an excerpt of the document (`before`/`after` characters left out
    above and below) in which `quote` is found; "row": one table row, `header` and
    `values`. `text` always holds something to read (the chunk at least)."""

    source: str
    kind: Literal["page", "text", "row"]
    quote: str
    text: str
    page: int | None = None
    image: bytes | None = None
    highlighted: bool = False
    before: int = 0
    after: int = 0
    header: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    # why only the chunk is shown: "web" (a web page is not fetched again), "missing" (the
    # file is gone from its folder), "changed" (the quote is no longer in the file)
    note: Literal["", "web", "missing", "changed"] = ""


def open_source(kb: KnowledgeBase, source: str, chunk_id: str, quote: str = "") -> SourceView:
    """The cited chunk `chunk_id` of `source`, opened where it is in its document."""
    text, meta = _chunk(kb, source, chunk_id)
    quote = quote if quote and quote in text else ""
    start = int(meta.get("start") or 0)
    at = start + (text.find(quote) if quote else 0)
    span = (at, at + len(quote or text))
    page = int(meta["page"]) if meta.get("page") else None
    if source.startswith(("http://", "https://")):
        return SourceView(source, "text", quote, text, page, note="web")
    path = locate_source(kb.settings, kb.collection, source)
    if path is None:
        return SourceView(source, "text", quote, text, page, note="missing")
    suffix = path.suffix.lower()
    try:
        if suffix in TABLE_SUFFIXES:
            return _row(source, text, quote, page)
        if meta.get("ocr") and page:
            image_no, boxes = ocr_boxes(str(meta.get(BOXES_KEY, "")), *span)
            png = scanned_page(path, page, image_no, boxes)
            return SourceView(source, "page", quote, text, page, png, bool(boxes))
        if suffix == ".pdf" and page:
            png, found = text_layer_page(path, page, quote or text)
            return SourceView(source, "page", quote, text, page, png, found)
        if suffix in IMAGE_SUFFIXES:
            raise SourceError(f"{source}: an image without OCR text")
        return _text(kb, path, source, text, quote, page)
    except LoadError as exc:
        raise SourceError(f"{source}: {exc}") from None


def _chunk(kb: KnowledgeBase, source: str, chunk_id: str) -> tuple[str, dict[str, Any]]:
    """The chunk's text and metadata, if it is this knowledge base's and of `source`."""
    found = kb.store.get(ids=[chunk_id], include=["documents", "metadatas"]) if chunk_id else {}
    for text, meta in zip(found.get("documents") or [], found.get("metadatas") or [], strict=False):
        if meta and meta.get("source") == source:
            return text or "", dict(meta)
    known = kb.store.get(where={"source": source}, limit=1, include=[])["ids"]
    if not known:
        raise SourceError(f"{source}: not a document of the knowledge base {kb.collection}")
    raise SourceError(f"{source}: this passage is no longer indexed (re-indexed since); ask again")


def _row(source: str, text: str, quote: str, page: int | None) -> SourceView:
    """The table row the quote is in (else the chunk's first row), with its header."""
    lines = [line for line in text.splitlines() if line.strip()] or [text]
    line = next((ln for ln in lines if quote and quote in ln), lines[0])
    header, values = parse_row(line)
    return SourceView(source, "row", quote, line, page, header=header, values=values)


def _text(
    kb: KnowledgeBase, path: Path, source: str, chunk: str, quote: str, page: int | None
) -> SourceView:
    """An excerpt of the document's text around the quote (else around the chunk)."""
    max_bytes = int(kb.settings.knowledge.max_file_mb * 1_000_000)
    loaded = load_file(path, max_bytes)
    document = "".join(s.text if s.text.endswith("\n") else s.text + "\n" for s in loaded.sections)
    at = document.find(quote or chunk)
    if at < 0:  # the file changed since it was indexed
        return SourceView(source, "text", quote, chunk, page, note="changed")
    first = max(0, at - CONTEXT_BEFORE)
    if (line := document.find("\n", first, at)) >= 0:  # start at a line, not mid-sentence
        first = line + 1
    last = min(len(document), at + len(quote or chunk) + CONTEXT_AFTER)
    excerpt = document[first:last]
    return SourceView(
        source, "text", quote or chunk, excerpt, page, before=first, after=len(document) - last
    )
