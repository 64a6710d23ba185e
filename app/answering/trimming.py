"""Context trimmed to the sentences closest to the question (`ZHIKU_CONTEXT_SENTENCES`).

Five chunks of 300 characters are ~1,100 prompt tokens: on 2 cores the 1.5B model reads
them for ~20 s before its first token, and a small model copies a figure from the wrong
chunk more often the more chunks it reads. Keeping each chunk's sentences closest to the
question, with the two sentences after each (an answer often follows its lead-in, and a
list follows its heading), cuts the prompt by a third to a half; the chunks keep their
numbers, so citations still point at them.
"""

from __future__ import annotations

from langchain_core.documents import Document

from app.answering.extractive import Sentence, closest_sentences, numbered_sentences
from app.answering.prompts import ContextChunk

_EVERY = 10_000  # no cap on the sentences considered: the chunks are already few


def trimmed_chunks(
    question: str, docs: list[Document], limit: int, after: int = 2
) -> list[ContextChunk]:
    """The chunks reduced to their `limit` best sentences and the `after` sentences that
    follow each, in the documents' order.

    A chunk none of whose sentences is kept is left out; its number is not reused.
    """
    every = numbered_sentences(docs, limit=_EVERY, quotable_only=False)
    keep = {s.n for s in closest_sentences(question, every, limit)}
    keep |= {n + i for n in keep for i in range(1, after + 1) if _same_chunk(every, n, n + i)}
    chunks = []
    for number, doc in enumerate(docs, start=1):
        texts = [s.text for s in every if s.chunk == number and s.n in keep]
        if texts:
            source, page = str(doc.metadata.get("source", "")), doc.metadata.get("page")
            chunks.append(ContextChunk(number, source, page, "\n".join(texts)))
    return chunks


def _same_chunk(every: list[Sentence], first: int, second: int) -> bool:
    """Sentence numbers are 1-based positions in `every`."""
    return second <= len(every) and every[first - 1].chunk == every[second - 1].chunk
