"""Fixing chunks by hand (issue 28): edit a chunk's text, disable it, delete it, restore it.

A fixed chunk keeps its id and its record-manager key, which the indexing API derives
from the file's text: a re-index of an unchanged file finds the key and skips the chunk,
so the fix stays (no duplicate, no revert). A disabled or deleted chunk leaves Chroma
(neither dense nor BM25 search can return it) while its key and its text stay, the text
in `app.store.chunk_fixes`. When the file itself changes, the ingest drops the fixes of
its chunks (`drop_fixes`), puts back the file's text where the chunk still exists, and
says so in the change log and the ingest report.

Every change holds the writer lock with the collection exclusive, so it never interleaves
with an ingest or a re-index, whose drop of a changed file's fixes could otherwise cross
it (with embedded Chroma the data folder's lock serialises them anyway): it waits for
them, up to `ZHIKU_CHUNK_EDIT_WAIT_S`, a change taking well under a second. Two editors
of one chunk are told apart by the revision each started from (`ChunkFixes.claim`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from langchain_core.documents import Document

from app.errors import UserError
from app.store.chunk_fixes import (
    DELETED,
    DISABLED,
    EDITED,
    ORIGINAL,
    ChangeRow,
    ChunkFixes,
    FixRow,
)
from ingest.writer_lock import IngestBusyError, writer_lock

if TYPE_CHECKING:  # the types are read by code that loads no vector store (app.knowledge.types)
    from ingest.knowledge_base import KnowledgeBase


class UnknownChunk(UserError):
    """The request names a chunk the knowledge base does not have."""


@dataclass(frozen=True)
class ChunkView:
    """A chunk as the curator sees it: `revision` is what an edit must name (0: untouched)."""

    chunk_id: str
    source: str
    chunk_index: int | None
    page: int | None
    text: str
    state: str  # original, edited, disabled
    revision: int
    original_text: str
    changed_by: str | None
    changed_at: float | None


def fixes_of(kb: KnowledgeBase) -> ChunkFixes:
    return ChunkFixes.of(kb.settings, kb.collection)


def list_chunks(kb: KnowledgeBase, source: str, deleted: bool = False) -> list[ChunkView]:
    """A document's chunks in file order, disabled ones included, and deleted ones when
    asked (the Curate page offers to restore them)."""
    found = kb.store.get(where={"source": source}, include=["documents", "metadatas"])
    rows = {row.chunk_id: row for row in fixes_of(kb).of_source(source)}
    views = [
        _view(chunk_id, text, meta or {}, rows.get(chunk_id))
        for chunk_id, text, meta in zip(
            found["ids"], found["documents"], found["metadatas"], strict=True
        )
    ]
    views += [
        _view(row.chunk_id, row.text, row.original_metadata, row)
        for row in rows.values()
        if row.state == DISABLED or (deleted and row.state == DELETED)
    ]
    return sorted(views, key=lambda v: (v.page or 0, v.chunk_index or 0))


def sources_to_curate(kb: KnowledgeBase, indexed: list[str]) -> list[str]:
    """The indexed documents plus those whose every chunk is disabled or deleted (out of
    Chroma, so not among the indexed ones, but still the curator's to bring back)."""
    disabled = {row.source for row in fixes_of(kb).active() if row.state != EDITED}
    return sorted(set(indexed) | disabled)


def change_log(kb: KnowledgeBase, source: str | None = None) -> list[ChangeRow]:
    return fixes_of(kb).log(source)


def edit_chunk(kb: KnowledgeBase, chunk_id: str, text: str, expected: int, who: str) -> ChunkView:
    """Replace the chunk's text (re-embedded, BM25 updated) if nobody changed it since
    revision `expected`; the file's own text is kept for a restore. A disabled chunk
    stays disabled (enabling it brings the new text)."""
    text = _checked_text(kb, text)

    def edited(row: FixRow) -> tuple[str, str]:
        return (DISABLED if row.state == DISABLED else EDITED), text

    return _change(kb, chunk_id, expected, who, "edit", edited)


def disable_chunk(kb: KnowledgeBase, chunk_id: str, expected: int, who: str) -> ChunkView:
    """Keep the chunk (listed, restorable) but out of every search."""
    return _change(kb, chunk_id, expected, who, "disable", lambda row: (DISABLED, row.text))


def delete_chunk(kb: KnowledgeBase, chunk_id: str, expected: int, who: str) -> ChunkView:
    """Remove the chunk from search and from the document's list (a re-index of the
    unchanged file does not bring it back; the change log keeps its text)."""
    return _change(kb, chunk_id, expected, who, "delete", lambda row: (DELETED, row.text))


def restore_chunk(kb: KnowledgeBase, chunk_id: str, expected: int, who: str) -> ChunkView:
    """Back to the file's text, searchable again."""
    back = lambda row: (ORIGINAL, row.original_text)  # noqa: E731
    return _change(kb, chunk_id, expected, who, "restore", back)


def enable_chunk(kb: KnowledgeBase, chunk_id: str, expected: int, who: str) -> ChunkView:
    """A disabled chunk searchable again, with the text it had (an edit stays)."""

    def enabled(row: FixRow) -> tuple[str, str]:
        if row.state != DISABLED:
            raise UserError(f"chunk {chunk_id!r} is not disabled")
        return (EDITED if row.text != row.original_text else ORIGINAL), row.text

    return _change(kb, chunk_id, expected, who, "enable", enabled)


def drop_fixes(kb: KnowledgeBase, source: str, note: str) -> int:
    """Undo the fixes of `source`'s chunks because the file changed or went away: a chunk
    the file still makes gets the file's text back. Called by the ingest inside its
    writer lock and `bm25.writing()`; returns how many fixes were dropped."""
    fixes = fixes_of(kb)
    rows = fixes.active(source)
    if not rows:
        return 0
    kept = set(_existing(kb, rows))
    for row in rows:
        if row.chunk_id in kept:
            _write(kb, row.chunk_id, ORIGINAL, row.original_text, row.original_metadata)
        fixes.drop(row, note)
    kb.records.bump()
    kb.bm25.refresh([row.chunk_id for row in rows])
    return len(rows)


# --- private -------------------------------------------------------------------


def _existing(kb: KnowledgeBase, rows: list[FixRow]) -> list[str]:
    """The fixed chunks whose key the record manager still holds (the file still makes them)."""
    ids = [row.chunk_id for row in rows]
    return [i for i, there in zip(ids, kb.record_manager.exists(ids), strict=True) if there]


def _change(kb: KnowledgeBase, chunk_id: str, expected: int, who: str, kind: str, to) -> ChunkView:
    """Claim the chunk at revision `expected`, write Chroma, then BM25, under the lock."""
    from app.store.chroma import follow_writes, wrote  # loads chromadb: only when used

    with _chunk_lock(kb, chunk_id), kb.bm25.writing():
        follow_writes(kb.settings, kb.collection, kb.records.version())  # another process's
        fixes = fixes_of(kb)
        before = _current(kb, fixes, chunk_id)
        if before.state == DELETED and kind not in ("restore",):
            raise UnknownChunk(f"chunk {chunk_id!r} was deleted; restore it first")
        state, text = to(before)
        with fixes.claim(before, expected, state, text, who or "unknown", kind) as row:
            _write(kb, chunk_id, state, text, row.original_metadata)
        wrote(kb.settings, kb.collection, kb.records.bump())  # after the claim's commit
        kb.bm25.refresh([chunk_id])
    return _view(chunk_id, row.text, row.original_metadata, row)


def _write(kb: KnowledgeBase, chunk_id: str, state: str, text: str, metadata: dict) -> None:
    """Chroma as the state says: the text upserted under the same id, or the chunk out."""
    if state in (DISABLED, DELETED):
        kb.store.delete([chunk_id])
    else:
        kb.store.add_documents([Document(page_content=text, metadata=metadata)], ids=[chunk_id])


def _current(kb: KnowledgeBase, fixes: ChunkFixes, chunk_id: str) -> FixRow:
    """The chunk's fix row, or (never fixed) the chunk as Chroma holds it at revision 0."""
    row = fixes.get(chunk_id)
    if row is not None:
        return row
    found = kb.store.get(ids=[chunk_id], include=["documents", "metadatas"])
    if not found["ids"]:
        raise UnknownChunk(f"no chunk {chunk_id!r} in knowledge base {kb.collection!r}")
    text, meta = found["documents"][0], found["metadatas"][0] or {}
    return FixRow(chunk_id, str(meta.get("source", "")), ORIGINAL, 0, text, text, meta, "", 0.0)


def _checked_text(kb: KnowledgeBase, text: str) -> str:
    """Not empty, and at most ten chunks long: an edit may merge a badly split chunk with
    its neighbour, not paste a document (the embedding model reads ~512 tokens anyway)."""
    text = (text or "").strip()
    limit = 10 * kb.settings.knowledge.chunk_size
    if not text:
        raise UserError("the chunk's text is empty; disable or delete the chunk instead")
    if len(text) > limit:
        raise UserError(f"the text is {len(text)} characters; a chunk holds at most {limit}")
    return text


@contextmanager
def _chunk_lock(kb: KnowledgeBase, chunk_id: str) -> Iterator[None]:
    """The writer lock on the knowledge base, waited for (an ingest may hold it)."""
    wait_s = kb.settings.knowledge.chunk_edit_wait_s
    deadline = time.monotonic() + wait_s
    with ExitStack() as stack:
        while True:
            try:
                stack.enter_context(writer_lock(kb.settings, kb.collection, whole=True))
                break
            except IngestBusyError:
                if time.monotonic() > deadline:
                    raise IngestBusyError(
                        f"knowledge base {kb.collection!r} was busy with an ingest or re-index "
                        f"for over {wait_s:g} s; chunk {chunk_id!r} was not changed, try again"
                    ) from None
                time.sleep(0.2)
        yield


def _view(chunk_id: str, text: str, meta: dict, row: FixRow | None) -> ChunkView:
    return ChunkView(
        chunk_id=chunk_id,
        source=str(meta.get("source", "")),
        chunk_index=meta.get("chunk_index"),
        page=meta.get("page"),
        text=text,
        state=row.state if row else ORIGINAL,
        revision=row.revision if row else 0,
        original_text=row.original_text if row else text,
        changed_by=row.changed_by if row else None,
        changed_at=row.changed_at if row else None,
    )
