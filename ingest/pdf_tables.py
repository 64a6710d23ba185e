"""Tables inside PDF pages, found by pdfplumber from their ruling lines, become rows that
repeat their header like every other table (ingest/tables.py); the text around them
stays text, in reading order from the top of the page.

pdfplumber (pdfminer.six underneath) is used only for this: pypdf stays the page-text
reader, and a page where pdfplumber finds no table, or fails, keeps pypdf's text.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.documents import Section
from ingest.tables import SectionBuilder

log = logging.getLogger(__name__)


@contextlib.contextmanager
def table_reader(path: Path) -> Iterator[Any]:
    """The PDF opened by pdfplumber, or None when it cannot open it (pypdf's text then)."""
    try:
        import pdfplumber

        document = pdfplumber.open(path)
    except Exception as exc:  # an encrypted or odd file: tables are a bonus, not a must
        log.debug("pdfplumber cannot open %s: %s", path.name, exc)
        yield None
        return
    try:
        yield document
    finally:
        document.close()


def table_sections(document: Any, number: int) -> list[Section] | None:
    """Page `number`'s text and tables as sections, or None when it has no table."""
    if document is None or number > len(document.pages):
        return None
    page = document.pages[number - 1]
    try:
        tables = sorted(page.find_tables(), key=lambda t: t.bbox[1])
        if not tables:
            return None
        builder = SectionBuilder()
        meta: dict[str, str | int] = {"page": number}
        left, top, right, bottom = page.bbox
        for index, table in enumerate(tables, start=1):
            if table.bbox[1] > top:
                builder.text(_text(page, (left, top, right, table.bbox[1])), meta)
            builder.table(table.extract(), {"page": number, "table": index})
            top = max(top, table.bbox[3])
        if top < bottom:
            builder.text(_text(page, (left, top, right, bottom)), meta)
        return builder.sections or None
    except Exception as exc:  # a malformed page: its plain text is still good
        log.warning("page %d: tables not read (%s)", number, str(exc)[:120])
        return None
    finally:
        page.close()  # pdfplumber caches each page's objects until closed


def _text(page: Any, box: tuple[float, float, float, float]) -> str:
    return str(page.crop(box).extract_text() or "").strip()
