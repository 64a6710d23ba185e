"""Slide decks (.pptx): one section per slide, its number as the page a citation names.

A slide's meaning is its title plus its bullets plus what the speaker says (the notes),
so the three travel together; tables on a slide become rows like any other table.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from ingest.documents import LoadedFile, LoadError, Section
from ingest.tables import format_row, header_names


def load_pptx(path: Path) -> LoadedFile:
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    try:
        deck = Presentation(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise LoadError(f"corrupt PPTX ({str(exc)[:120]})", code="corrupt", format="PPTX") from None
    sections = []
    offset = 0
    for number, slide in enumerate(deck.slides, start=1):
        text = slide_text(slide)
        if text.strip():
            sections.append(Section(text + "\n\n", {"page": number}, offset))
            offset += len(text) + 2
    title = deck.core_properties.title or path.stem
    return LoadedFile(title=title, sections=sections)


def slide_text(slide: Any) -> str:
    """Title first, then every other shape top to bottom, then the speaker notes."""
    title_shape = slide.shapes.title
    parts = [title_shape.text_frame.text.strip()] if title_shape is not None else []
    others = [s for s in slide.shapes if title_shape is None or s.shape_id != title_shape.shape_id]
    others.sort(key=lambda s: ((s.top or 0), (s.left or 0)))
    for shape in others:
        parts.extend(_shape_text(shape))
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        notes = slide.notes_slide.notes_text_frame.text.strip()
        if notes:
            parts.append(f"备注: {notes}")
    return "\n".join(p for p in parts if p)


def _shape_text(shape: Any) -> list[str]:
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = [[cell.text.strip() for cell in row.cells] for row in shape.table.rows]
        if not rows:
            return []
        header = header_names(rows[0])
        return [format_row(header, row) for row in rows[1:] if any(row)] or ["；".join(rows[0])]
    if shape.shape_type is not None and hasattr(shape, "shapes"):  # a group
        return [t for child in shape.shapes for t in _shape_text(child)]
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        return [shape.text_frame.text.strip()]
    return []
