"""What a loaded file is — sections of text with their metadata — and the one-line
error a file that cannot be read becomes; shared by every loader (loaders.py, ocr.py,
tables.py, slides.py, web.py) so none of them imports another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from charset_normalizer import from_bytes

# Called after each page of a PDF or multi-page image with (page, pages): OCR costs
# seconds a page, so a long scan reports its progress page by page.
PageCallback = Callable[[int, int], None]


# Why a file was not indexed, as stable codes: the message is English (the CLI, the API,
# the logs); a page in another language says the same from the code and its `params`
# (app/ui/reasons.py), so no wording is parsed back.
REASON_CODES = (
    "empty", "too_large", "unsupported_type", "binary", "encoding", "corrupt", "encrypted",
    "too_many_pages", "too_many_chunks", "unpacks_too_large", "image_too_large", "not_image",
    "unreadable", "parse_failed", "no_text", "url_refused", "url_private", "url_unreachable",
    "not_web_page",
    "no_main_text", "url_too_large", "url_too_slow", "fixes_dropped",
)  # fmt: skip


class LoadError(Exception):
    """A file cannot be indexed; the message is the one-line reason shown to the user,
    `code` (one of REASON_CODES) and `params` the same for a translation.

    `skipped` marks files refused by policy (empty, too large, no text) rather than
    files that broke while reading (corrupt, binary, unreadable).
    """

    def __init__(
        self, reason: str, *, skipped: bool = False, code: str = "unreadable", **params: object
    ) -> None:
        super().__init__(reason)
        self.skipped = skipped
        self.code = code
        self.params = params


@dataclass
class Section:
    """A run of a file's text and the metadata shared by all its chunks."""

    text: str
    metadata: dict[str, str | int] = field(default_factory=dict)
    offset: int = 0  # where `text` starts in the file's text (in its page for a PDF)
    row: bool = False  # a table row: never split, packed whole with the rows around it


@dataclass
class LoadedFile:
    title: str
    sections: list[Section]


def decode_text(data: bytes) -> str:
    """Decode bytes that should be text: UTF-8, UTF-16 (BOM), GBK/GB18030 and others.

    Binary data is refused rather than turned into mojibake that would pollute the index.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        # NUL bytes without a BOM: UTF-16 without BOM, or binary.
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if _looks_like_text(text):
                return text
        raise LoadError("binary content (NUL bytes), not text", code="binary")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # GB18030 is a superset of GBK and GB2312 and is the most common legacy
        # encoding for Chinese files; try it before asking the detector.
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            best = from_bytes(data).best()
            if best is None:
                raise LoadError(
                    "undecodable bytes: not UTF-8, GBK or another known encoding", code="encoding"
                ) from None
            text = str(best)
    if not _looks_like_text(text):
        raise LoadError("binary content, not text", code="binary")
    return text


def _looks_like_text(text: str) -> bool:
    sample = text[:20000]
    if not sample:
        return True
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\ufffd")
    # Unassigned/private-use code points are what random bytes decode to in GB18030.
    odd = sum(1 for ch in sample if 0xE000 <= ord(ch) <= 0xF8FF or 0x80 <= ord(ch) < 0xA0)
    return (bad + odd) / len(sample) < 0.02
