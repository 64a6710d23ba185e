"""The pages of one PDF or multi-page image in order, scanned ones OCR'd on
ZHIKU_OCR_WORKERS threads while the next pages are read: OCR is seconds a page and
onnxruntime releases the GIL, so two single-threaded engines read two pages at once
(figures: docs/benchmarks.md).

At most a few pages are in flight, so a 2,000-page scan holds a few decoded pictures,
not all of them; progress is reported page by page, in order.
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

from ingest.documents import LoadedFile, LoadError, PageCallback, Section
from ingest.ocr import DEFAULT_MAX_PIXELS, DEFAULT_WORKERS, ocr_pictures, open_image

log = logging.getLogger(__name__)


@functools.cache
def _pool(workers: int) -> ThreadPoolExecutor:
    """The OCR threads of the process (ZHIKU_OCR_WORKERS), kept: each loads its engine once
    (about a second), not once per file of a folder of scans."""
    return ThreadPoolExecutor(workers, thread_name_prefix="zhiku-ocr")


class OcrPages:
    """Collects a file's pages in order: sections read already, or OCR still running."""

    def __init__(
        self,
        name: str,
        total: int,
        on_page: PageCallback | None = None,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.name, self.total, self.on_page, self.workers = name, total, on_page, workers
        self.sections: list[Section] = []
        self._items: deque[list[Section] | Future[Section]] = deque()
        self._done = 0

    def __enter__(self) -> OcrPages:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for item in self._items:  # on an error, pages not started are dropped
            if isinstance(item, Future):
                item.cancel()

    def read(self, sections: list[Section]) -> None:
        """A page whose text is already known (a text layer, or nothing to read)."""
        self._items.append(sections)
        self._collect(wait=False)

    def ocr(self, pictures: list[tuple[int, Any]], number: int) -> None:
        """A scanned page: its pictures are OCR'd on the pool."""
        self._items.append(_pool(self.workers).submit(self._page, pictures, number))
        self._collect(wait=False)

    def finish(self) -> list[Section]:
        """Every page's sections, in page order, once all OCR has finished."""
        self._collect(wait=True)
        return self.sections

    def _page(self, pictures: list[tuple[int, Any]], number: int) -> Section:
        text = ocr_pictures(pictures)
        if not text.text.strip():
            log.warning("%s page %d: OCR found no text", self.name, number)
        return text.section(number)

    def _collect(self, wait: bool) -> None:
        """Take finished pages off the front; wait for the front one when told to or when
        too many pages are in flight."""
        while self._items:
            head = self._items[0]
            if isinstance(head, Future) and not head.done():
                running = sum(isinstance(item, Future) for item in self._items)
                if not wait and running <= 2 * self.workers:
                    return
            self._items.popleft()
            self.sections += [head.result()] if isinstance(head, Future) else head
            self._done += 1
            if self.on_page is not None:
                self.on_page(self._done, self.total)


def load_image(
    path: Path,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_pages: int = 2000,
    on_page: PageCallback | None = None,
    workers: int = DEFAULT_WORKERS,
) -> LoadedFile:
    """An image file (a multi-page TIFF: each frame a page), OCR'd page by page."""
    image = open_image(path, max_pixels)
    total = min(int(getattr(image, "n_frames", 1)), max_pages)
    pages = OcrPages(path.name, total, on_page, workers)
    try:
        with pages:
            for number, frame in enumerate(_frames(image, max_pages), start=1):
                pages.ocr([(0, frame.convert("RGB"))], number)  # decoded here, in order
            sections = pages.finish()
    except OSError as exc:  # truncated or corrupt pixel data
        raise LoadError(
            f"corrupt image ({str(exc)[:120]})", code="corrupt", format="image"
        ) from None
    return LoadedFile(title=path.stem, sections=sections)


def _frames(image: Any, max_frames: int) -> Iterator[Any]:
    from PIL import ImageSequence

    for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
        if number > max_frames:
            log.warning("only the first %d pages of a multi-page image are read", max_frames)
            return
        yield frame
