"""Read text from images and image-only PDF pages with RapidOCR, offline.

rapidocr-onnxruntime ships the PP-OCRv4 Chinese detection and recognition models
inside its wheel, so nothing downloads. An engine is loaded once per OCR thread (about
1 s) and reused; each page costs a detection pass and one recognition pass per line.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import warnings
from dataclasses import dataclass
from typing import Any

from ingest.documents import LoadError, Section

log = logging.getLogger(__name__)

# ZHIKU_MAX_IMAGE_MEGAPIXELS' default; a 50-megapixel page decodes to 150 MB of RGB.
DEFAULT_MAX_PIXELS = 50_000_000
# Pages are OCR'd on ZHIKU_OCR_WORKERS threads (ingest/ocr_pages.py), each with its own
# engine of one onnxruntime thread: two such engines read a scan about twice as fast as
# one engine of two threads, whose threads overlap little (docs/benchmarks.md).
OCR_THREADS = 1  # onnxruntime intra-op threads per engine
DEFAULT_WORKERS = 2  # ZHIKU_OCR_WORKERS' default
# chunk metadata: the OCR'd lines' boxes (PageText), read by the source viewer
BOXES_KEY = "ocr_boxes"


_engines = threading.local()


def engine() -> Any:
    """This thread's RapidOCR engine with its bundled models (loaded on first use, about
    a second); one per thread, so two pages are read at once without sharing state."""
    loaded = getattr(_engines, "engine", None)
    if loaded is None:
        from rapidocr_onnxruntime import RapidOCR

        loaded = RapidOCR(intra_op_num_threads=OCR_THREADS, inter_op_num_threads=1)
        _engines.engine = loaded
    return loaded


@dataclass(frozen=True)
class OcrLine:
    """One line of a page as OCR read it, and the box around it in image pixels."""

    text: str
    box: tuple[int, int, int, int]  # left, top, right, bottom


def ocr_lines(boxes: list[tuple[list[list[float]], str]]) -> list[OcrLine]:
    """Lines top to bottom, boxes left to right within a line.

    Two boxes are on one line when their vertical centres are closer than half the
    smaller box's height; boxes on a line further apart than one line height are
    separate cells and keep a space between them."""
    items = []
    for points, text in boxes:
        ys = [p[1] for p in points]
        xs = [p[0] for p in points]
        items.append((min(ys), max(ys), min(xs), max(xs), text))
    items.sort(key=lambda b: ((b[0] + b[1]) / 2, b[2]))
    lines: list[list[tuple[float, float, float, float, str]]] = []
    for item in items:
        centre, height = (item[0] + item[1]) / 2, item[1] - item[0]
        if lines:
            last = lines[-1]
            top, bottom = min(b[0] for b in last), max(b[1] for b in last)
            if abs(centre - (top + bottom) / 2) < min(height, bottom - top) / 2:
                last.append(item)
                continue
        lines.append([item])
    out = []
    for line in lines:
        line.sort(key=lambda b: b[2])
        text = line[0][4]
        for prev, box in itertools.pairwise(line):
            gap = box[2] - prev[3]
            text += (" " if gap > 0.5 * (box[1] - box[0]) else "") + box[4]
        left, right = min(b[2] for b in line), max(b[3] for b in line)
        top, bottom = min(b[0] for b in line), max(b[1] for b in line)
        out.append(OcrLine(text, (int(left), int(top), int(right + 0.5), int(bottom + 0.5))))
    return out


def reading_order(boxes: list[tuple[list[list[float]], str]]) -> str:
    return "\n".join(line.text for line in ocr_lines(boxes))


def ocr_image_lines(image: Any) -> list[OcrLine]:
    """The lines of one RGB image (a PIL image or numpy array), in reading order."""
    import numpy as np

    array = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
    result, _ = engine()(array)
    return ocr_lines([(points, text) for points, text, _score in result or []])


def ocr_array(image: Any) -> str:
    """The text of one RGB image (a PIL image or numpy array), in reading order."""
    return "\n".join(line.text for line in ocr_image_lines(image))


class PageText:
    """The OCR'd text of one page (possibly several images) and where each line sits:
    `boxes` rows are [start, end, image, left, top, right, bottom], start/end offsets in
    `text` and the box in the pixels of the page's `image`-th picture, so the source
    viewer can draw the box around a cited quote."""

    def __init__(self) -> None:
        self.text = ""
        self.boxes: list[list[int]] = []

    def add(self, lines: list[OcrLine], image: int) -> None:
        for line in lines:
            if self.text:
                self.text += "\n"
            start = len(self.text)
            self.text += line.text
            self.boxes.append([start, len(self.text), image, *line.box])

    def section(self, number: int) -> Section:
        metadata: dict[str, str | int] = {"page": number, "ocr": True}
        if self.boxes:
            metadata[BOXES_KEY] = json.dumps(self.boxes, separators=(",", ":"))
        return Section(self.text, metadata)


def open_image(source: Any, max_pixels: int) -> Any:
    """Open an image without decoding it, refusing what is not an image or is too big.

    Pillow reads only the header here, so a 50-megapixel bomb costs nothing until
    `load()`; its own decompression-bomb guard is set to the same limit."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():  # above the limit is refused below, in one line
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source)
    except Image.DecompressionBombError:
        raise LoadError(
            _too_big_message(None, max_pixels),
            skipped=True,
            code="image_too_large",
            limit=f"{max_pixels / 1e6:g}",
        ) from None
    except UnidentifiedImageError:
        raise LoadError(
            "not an image (Pillow cannot identify its format)", code="not_image"
        ) from None
    except (SyntaxError, ValueError) as exc:
        raise LoadError(f"not a readable image ({str(exc)[:120]})", code="not_image") from None
    width, height = image.size
    if width * height > max_pixels:
        raise LoadError(
            _too_big_message((width, height), max_pixels),
            skipped=True,
            code="image_too_large",
            limit=f"{max_pixels / 1e6:g}",
        )
    return image


def _too_big_message(size: tuple[int, int] | None, max_pixels: int) -> str:
    what = f"{size[0]}x{size[1]} = {size[0] * size[1] / 1e6:.0f} megapixels" if size else "image"
    return f"{what} over the limit of {max_pixels / 1e6:g} (ZHIKU_MAX_IMAGE_MEGAPIXELS)"


def ocr_pdf_page(page: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> PageText:
    """The text of a PDF page without a text layer: its embedded images, OCR'd in order."""
    return ocr_pictures(pdf_page_pictures(page, max_pixels))


def pdf_page_pictures(page: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[tuple[int, Any]]:
    """The pictures of a scanned page worth reading, with their position in `page.images`
    (a box's `image`, what the source viewer opens again). pypdf reads them as stored, so
    no renderer is needed; this runs where the PDF is read (pypdf is not thread-safe),
    the OCR can run elsewhere. Pictures over the pixel limit are left out with a note."""
    pictures = []
    for index, name in enumerate(page.images.keys()):
        size = _declared_size(page, name)
        if size and size[0] * size[1] > max_pixels:
            log.warning("%s: %s", name, _too_big_message(size, max_pixels))
            continue
        if size and (size[0] < 32 or size[1] < 16):  # rules, logos, bullets
            continue
        try:
            pictures.append((index, page.images[name].image))
        except (OSError, ValueError) as exc:
            log.warning("%s could not be decoded (%s)", name, str(exc)[:120])
    return pictures


def ocr_pictures(pictures: list[tuple[int, Any]]) -> PageText:
    """One page's pictures OCR'd in order (on any thread: each has its own engine)."""
    result = PageText()
    for index, picture in pictures:
        try:
            result.add(ocr_image_lines(picture), index)
        except (OSError, ValueError) as exc:  # pixel data decoded lazily, here
            log.warning("picture %d could not be decoded (%s)", index + 1, str(exc)[:120])
    return result


def _declared_size(page: Any, name: str) -> tuple[int, int] | None:
    """An image's size as its PDF dictionary declares it, read before decoding it."""
    try:
        obj = page["/Resources"]["/XObject"][name].get_object()
        return int(obj["/Width"]), int(obj["/Height"])
    except (KeyError, TypeError, ValueError):
        return None  # nested in a form XObject: pypdf names it by path
