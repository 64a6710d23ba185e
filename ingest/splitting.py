"""Chinese-aware splitting of loaded files into chunks with citation metadata.

Paragraphs first, then sentence ends (。！？；!?;), then commas — the order
Langchain-Chatchat's Chinese splitter uses — so chunks end at sentence boundaries.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.loaders import LoadedFile, Section

# A chunk with fewer letters than this (Han characters, Latin letters, digits) answers
# nothing on its own; it is joined to its neighbour.
MIN_WORDS = 20
_HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s")
_WORD_CHARS = re.compile(r"[^\W_]")

# Sentence ends are kept at the end of the chunk they close (keep_separator="end").
CHINESE_SEPARATORS = [
    "\n\n",
    "\n",
    "。",
    "！",
    "？",
    "；",
    "!",
    "?",
    ";",
    ". ",
    "，",
    "、",
    ",",
    " ",
    "",
]


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=CHINESE_SEPARATORS,
        keep_separator="end",
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        add_start_index=True,
        strip_whitespace=True,
    )


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_file(
    loaded: LoadedFile, source: str, splitter: RecursiveCharacterTextSplitter
) -> list[Document]:
    """Chunks of one file, each with source, title, page, chunk index, offsets and hash.

    A heading or a fragment too short to answer anything never stands alone: it travels
    with the text under it (a lone "# Transformer 架构简介" chunk took a place in the
    model's top 3 and told it nothing). Metadata is deterministic (no timestamps, no
    absolute paths): the indexing API derives chunk ids from content + metadata, so a
    re-run yields the same ids.
    """
    spans = _merge_fragments(loaded.sections, _spans(loaded.sections, splitter))
    chunks: list[Document] = []
    for span in spans:
        first, last = loaded.sections[span.first], loaded.sections[span.last]
        text = _span_text(loaded.sections, span)
        start = first.offset + span.start
        metadata: dict[str, str | int] = {
            "source": source,
            "title": loaded.title,
            **last.metadata,
            "chunk_index": len(chunks),
            "start": start,
            "end": last.offset + span.end,
            "content_hash": content_hash(text),
        }
        chunks.append(Document(page_content=text, metadata=metadata))
    return chunks


@dataclass(frozen=True)
class _Span:
    """A chunk's place: from `start` in section `first` to `end` in section `last`."""

    first: int
    start: int
    last: int
    end: int


def _spans(sections: list[Section], splitter: RecursiveCharacterTextSplitter) -> list[_Span]:
    spans: list[_Span] = []
    for n, section in enumerate(sections):
        if section.row:
            _pack_row(sections, spans, n, splitter._chunk_size)
            continue
        for piece in splitter.create_documents([section.text]):
            start = piece.metadata["start_index"]
            spans.append(_Span(n, start, n, start + len(piece.page_content)))
    return spans


def _pack_row(sections: list[Section], spans: list[_Span], n: int, size: int) -> None:
    """A table row joins the chunk of the rows before it while that chunk stays within
    `size`; a row is never cut, so a row longer than `size` is a chunk of its own."""
    row = sections[n]
    end = len(row.text.rstrip("\n"))
    if spans:
        last = spans[-1]
        prev = sections[last.last]
        if (
            prev.row
            and last.last == n - 1
            and prev.metadata == row.metadata
            and row.offset - sections[last.first].offset + end <= size
        ):
            spans[-1] = _Span(last.first, last.start, n, end)
            return
    spans.append(_Span(n, 0, n, end))


def _span_text(sections: list[Section], span: _Span) -> str:
    if span.first == span.last:
        return sections[span.first].text[span.start : span.end]
    middle = "".join(s.text for s in sections[span.first + 1 : span.last])
    return sections[span.first].text[span.start :] + middle + sections[span.last].text[: span.end]


def is_fragment(text: str) -> bool:
    """Headings only, or fewer than `MIN_WORDS` letters: nothing a question could be
    answered from ("## The idea", "大语言模型简史", "• 1.")."""
    body = "\n".join(line for line in text.splitlines() if not _HEADING_LINE.match(line))
    return not body.strip() or len(_WORD_CHARS.findall(text)) < MIN_WORDS


def _joinable(sections: list[Section], a: _Span, b: _Span) -> bool:
    """`b` follows `a` in the file: the same section, or the next one, contiguous and on
    the same page (a PDF page's offsets restart at 0, so pages never join)."""
    if a.last == b.first:
        return True
    prev, nxt = sections[a.last], sections[b.first]
    return (
        b.first == a.last + 1
        and nxt.offset == prev.offset + len(prev.text)
        and prev.metadata.get("page") == nxt.metadata.get("page")
    )


def _merge_fragments(sections: list[Section], spans: list[_Span]) -> list[_Span]:
    """Each fragment joined to the chunk after it (a heading belongs to its text), or,
    at the end of the file, to the chunk before it."""
    merged: list[_Span] = []
    pending: _Span | None = None
    for span in spans:
        if pending is not None and _joinable(sections, pending, span):
            starts_earlier = (pending.first, pending.start) < (span.first, span.start)
            if starts_earlier:
                span = _Span(pending.first, pending.start, span.last, span.end)
            pending = None
        if pending is not None:  # not joinable: keep it as it is
            merged.append(pending)
            pending = None
        if is_fragment(_span_text(sections, span)):
            pending = span
            continue
        merged.append(span)
    if pending is not None:
        if merged and _joinable(sections, merged[-1], pending):
            before = merged.pop()
            pending = _Span(before.first, before.start, pending.last, pending.end)
        merged.append(pending)
    return merged
