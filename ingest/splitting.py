"""Chinese-aware splitting of loaded files into chunks with citation metadata.

Paragraphs first, then sentence ends (。！？；!?;), then commas — the order
Langchain-Chatchat's Chinese splitter uses — so chunks end at sentence boundaries.
"""

from __future__ import annotations

import hashlib

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.loaders import LoadedFile

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

    Metadata is deterministic (no timestamps, no absolute paths): the indexing API
    derives chunk ids from content + metadata, so a re-run yields the same ids.
    """
    chunks: list[Document] = []
    for section in loaded.sections:
        for piece in splitter.create_documents([section.text]):
            start = section.offset + piece.metadata["start_index"]
            metadata: dict[str, str | int] = {
                "source": source,
                "title": loaded.title,
                **section.metadata,
                "chunk_index": len(chunks),
                "start": start,
                "end": start + len(piece.page_content),
                "content_hash": content_hash(piece.page_content),
            }
            chunks.append(Document(page_content=piece.page_content, metadata=metadata))
    return chunks
