"""A page of a document as a picture, with boxes drawn around a cited passage: what the
source viewer shows for PDFs, scans and images.

A scanned page is shown as the very picture OCR read (pypdf extracts it as stored), so
the OCR boxes kept in the chunk's metadata fall on it exactly. A page with a text layer
is rendered by PDFium (pypdfium2, the renderer Chrome uses), which also finds the quote
on the page and the rectangles of its characters.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from ingest.documents import LoadError
from ingest.ocr import DEFAULT_MAX_PIXELS, open_image
from ingest.tables import FIELD_SEPARATOR

# A box drawn round the passage: an outline in this exact colour (a test finds it in the
# picture) over a translucent fill of the same hue.
HIGHLIGHT = (255, 120, 0)
FILL_ALPHA = 70
OUTLINE = 4  # pixels
RENDER_SCALE = 2.0  # PDF points to pixels: 144 dpi, sharp enough to read a page
MAX_SIDE = 2400  # a shown picture is scaled down to this; the PNG stays a few hundred kB

Box = tuple[int, int, int, int]  # left, top, right, bottom, in the picture's pixels


def ocr_boxes(metadata_value: str, start: int, end: int) -> tuple[int, list[Box]]:
    """The boxes of the OCR'd lines overlapping the characters [start, end) of the page,
    and the picture they are on (the first such line's)."""
    try:
        rows = json.loads(metadata_value)
    except (TypeError, ValueError):
        return 0, []
    hits = [row for row in rows if len(row) == 7 and row[0] < end and row[1] > start]
    if not hits:
        return 0, []
    image = hits[0][2]
    return image, [tuple(row[3:7]) for row in hits if row[2] == image]


def scanned_page(path: Path, page: int, image: int, boxes: list[Box]) -> bytes:
    """The `image`-th picture of a scanned PDF page, or frame `page` of an image file,
    with `boxes` drawn; a PNG."""
    if path.suffix.lower() == ".pdf":
        picture = _pdf_picture(path, page, image)
    else:
        picture = _image_frame(path, page)
    return highlighted_png(picture, boxes)


def text_layer_page(path: Path, page: int, quote: str) -> tuple[bytes, bool]:
    """A PDF page with a text layer, rendered, with the quote's characters boxed; the
    PNG and whether the quote was found on the page (PDFium's text can differ from
    pypdf's in spaces and line breaks, so a quote is looked for line by line too)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise LoadError(f"cannot open the PDF ({exc})") from None
    try:
        if not 1 <= page <= len(document):
            raise LoadError(f"page {page} is not in the document")
        pdf_page = document[page - 1]
        height = pdf_page.get_height()
        picture = pdf_page.render(scale=RENDER_SCALE).to_pil()
        text_page = pdf_page.get_textpage()
        boxes = []
        for rect in _quote_rects(text_page, quote):
            left, bottom, right, top = rect
            boxes.append(
                (
                    int(left * RENDER_SCALE),
                    int((height - top) * RENDER_SCALE),
                    int(right * RENDER_SCALE + 0.5),
                    int((height - bottom) * RENDER_SCALE + 0.5),
                )
            )
        text_page.close()
        pdf_page.close()
    finally:
        document.close()
    return highlighted_png(picture, boxes), bool(boxes)


def _quote_rects(text_page: Any, quote: str) -> list[tuple[float, float, float, float]]:
    """The quote as a whole; else line by line (PDFium breaks lines differently); a table
    row ("型号: X200；价格: 3200", never on the page in that form) cell value by cell value."""
    quote = quote.strip()
    if not quote:
        return []
    if (hit := _search(text_page, quote)) is not None:
        return _rects(text_page, *hit)
    rects: list[tuple[float, float, float, float]] = []
    for line in (part.strip() for part in quote.splitlines()):
        if len(line) >= 2 and (hit := _search(text_page, line)) is not None:
            rects += _rects(text_page, *hit)
            continue
        for cell in line.split(FIELD_SEPARATOR):
            value = (cell.partition(": ")[2] or cell).strip()
            if len(value) >= 2 and (hit := _search(text_page, value)) is not None:
                rects += _rects(text_page, *hit)
    return rects


def _search(text_page: Any, text: str) -> tuple[int, int] | None:
    searcher = text_page.search(text, match_case=False)
    try:
        hit = searcher.get_next()
        return (int(hit[0]), int(hit[1])) if hit else None
    finally:
        searcher.close()


def _rects(text_page: Any, index: int, count: int) -> list[tuple[float, float, float, float]]:
    n = text_page.count_rects(index, count)
    return [tuple(text_page.get_rect(i)) for i in range(n)]


def _pdf_picture(path: Path, page: int, image: int) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if not 1 <= page <= len(reader.pages):
            raise LoadError(f"page {page} is not in the document")
        pictures = reader.pages[page - 1].images
        if not 0 <= image < len(pictures):
            raise LoadError(f"page {page} has no picture {image + 1}")
        return pictures[image].image
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise LoadError(f"cannot read the page's picture ({str(exc)[:120]})") from None


def _image_frame(path: Path, page: int) -> Any:
    picture = open_image(path, DEFAULT_MAX_PIXELS)
    try:
        picture.seek(page - 1)
    except EOFError:
        raise LoadError(f"page {page} is not in the image") from None
    return picture


def highlighted_png(picture: Any, boxes: list[Box]) -> bytes:
    """The picture with a translucent fill and an outline round each box, as a PNG,
    scaled down to at most MAX_SIDE pixels (after drawing, so boxes stay in place)."""
    from PIL import Image, ImageDraw

    base = picture.convert("RGBA")
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for left, top, right, bottom in boxes:
        pad = OUTLINE + 2
        area = (left - pad, top - pad, right + pad, bottom + pad)
        draw.rectangle(area, fill=(*HIGHLIGHT, FILL_ALPHA))
    shown = Image.alpha_composite(base, overlay).convert("RGB")
    outline = ImageDraw.Draw(shown)
    for left, top, right, bottom in boxes:
        pad = OUTLINE + 2
        outline.rectangle(
            (left - pad, top - pad, right + pad, bottom + pad), outline=HIGHLIGHT, width=OUTLINE
        )
    if max(shown.size) > MAX_SIDE:
        shown.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    shown.save(out, "PNG", optimize=False)
    return out.getvalue()
