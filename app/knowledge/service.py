"""Every operation on a knowledge base, once: the chat page, the HTTP API (and its job
runner) and `zhiku ingest` call this and nothing below it, so a delete, an upload or a
re-index does the same thing whichever door it came through.

A knowledge base is a Chroma collection with its record-manager rows and BM25 index
(kept in step by `ingest`), the files uploaded into it (`data/uploads/<name>/`), and
the folders it was ingested from (what a re-index reads again, the uploads folder among
them). Reads (`names`, `size`, `list_all`) load no model; writes take the writer lock
inside `ingest` and raise `IngestBusyError` when another writer holds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.errors import UserError
from app.knowledge import lifecycle
from app.knowledge.descriptions import read_description, write_description
from app.knowledge.sources import SourceError, SourceView, open_source
from app.knowledge.types import (
    ChunkChange,
    ChunkView,
    DeletedDocument,
    DocumentInfo,
    IngestReport,
    KnowledgeBaseExists,
    KnowledgeBaseInfo,
    Progress,
    RefusedUpload,
    SavedUploads,
)
from app.retrieval.service import UnknownKnowledgeBase
from app.settings import Settings, validate_collection_name
from app.store.knowledge_bases import (
    chunk_counts,
    collection_ids,
    collection_size,
    list_collections,
)
from app.store.pending import pending as pending_operations
from ingest import chunk_fixes
from ingest.indexing import delete_source, ingest_paths, ingest_urls, reindex
from ingest.knowledge_base import KnowledgeBase, open_knowledge_base
from ingest.roots import locate_source
from ingest.status import DocumentStatus, read_status
from ingest.uploads import (
    UploadError,
    delete_upload,
    safe_filename,
    save_upload,
    upload_folder,
    upload_limit_mb,
)
from ingest.web import remembered_urls
from ingest.writer_lock import wait_for_writer, writer_lock

OPENED_MAX = 32  # knowledge bases kept open (a Chroma handle each) per service


class KnowledgeBases:
    """The knowledge bases of one data folder (or Chroma server), as the settings say."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._opened: dict[str, KnowledgeBase] = {}

    def _open(self, name: str) -> KnowledgeBase:
        """The collection with the configured embeddings (created if missing), kept open."""
        kb = self._opened.get(name)
        if kb is None:
            kb = open_knowledge_base(self.settings, name)
            if len(self._opened) >= OPENED_MAX:
                self._opened.clear()
            self._opened[name] = kb
        return kb

    # Reads

    def names(self) -> list[str]:
        """Every knowledge base; a rename or delete a crash interrupted is finished first."""
        if pending_operations(self.settings):
            lifecycle.finish_pending(self.settings)
        return list_collections(self.settings)

    def exists(self, name: str) -> bool:
        return validate_collection_name(name) in self.names()

    def identity(self, name: str) -> str:
        """The collection's id ("" if none): chains cached by name key on it too, so a
        renamed, deleted or re-created knowledge base never answers from a stale handle."""
        return collection_ids(self.settings).get(name, "")

    def size(self, name: str) -> int:
        """Chunks in the knowledge base (0 if it does not exist); loads no model."""
        return collection_size(self.settings, name)

    def list_all(self) -> list[KnowledgeBaseInfo]:
        return [KnowledgeBaseInfo(name, self.size(name)) for name in self.names()]

    def documents(self, name: str) -> list[DocumentInfo]:
        """Every document with its chunk count, its file's size and date when the file is
        still where it was ingested from, and what the last ingest made of it (one file
        read for all of them); files it skipped or failed on are listed too, while they
        are still there. A knowledge base that does not exist (deleted meanwhile, by
        someone else) has none, and is not made by asking."""
        if not self.exists(name):
            return []
        counts = chunk_counts(self._open(name).store)
        statuses = read_status(self.settings, name)
        found = [
            self._document(name, source, n, statuses.get(source)) for source, n in counts.items()
        ]
        # not indexed (now): listed while its file is there, or its page is one the
        # knowledge base re-fetches (an address refused or never fetched is no document)
        pages = set(remembered_urls(self.settings, name)) if any(
            "://" in source for source in statuses
        ) else set()  # fmt: skip
        for source, status in statuses.items():
            if source not in counts and status.state != "indexed":
                document = self._document(name, source, 0, status)
                if document.size_bytes is not None or status.state == "indexing" or source in pages:
                    found.append(document)
        return sorted(found, key=lambda d: d.source)

    def _document(
        self, name: str, source: str, chunks: int, status: DocumentStatus | None
    ) -> DocumentInfo:
        last = status or DocumentStatus("indexed")
        path = locate_source(self.settings, name, source)
        try:
            stat = path.stat() if path is not None else None
        except OSError:  # gone since it was found
            stat = None
        return DocumentInfo(
            source,
            chunks,
            stat.st_size if stat else None,
            stat.st_mtime if stat else None,
            last.state,
            last.reason,
            last.code,
            dict(last.params),
        )

    def description(self, name: str) -> str:
        return read_description(self.settings, name)

    def open_source(self, name: str, source: str, chunk_id: str, quote: str = "") -> SourceView:
        """A cited chunk opened at its place in its document (the chat's source viewer);
        a source that is not this knowledge base's is refused (SourceError)."""
        if not self.exists(name):
            raise SourceError(f"no knowledge base named {name!r}")
        return open_source(self._open(name), source, chunk_id, quote)

    def upload_limit_mb(self, server_limit_mb: float | None = None) -> float:
        """The size limit of one uploaded file (the smaller of ours and the server's)."""
        return upload_limit_mb(self.settings, server_limit_mb)

    # Writes

    def create(self, name: str) -> KnowledgeBaseInfo:
        """Make the collection and its uploads folder (both kept if they exist)."""
        name = validate_collection_name(name.strip())
        self.names()  # finishes a delete of this name a crash interrupted
        self._open(name)
        upload_folder(self.settings, name).mkdir(parents=True, exist_ok=True)
        return KnowledgeBaseInfo(name, self.size(name))

    def rename(self, name: str, new: str) -> KnowledgeBaseInfo:
        """Give a knowledge base another name, with everything kept under it (its chunks,
        records, BM25 index, uploads, FAQ, fixes, description, grants; conversations are
        labelled with the new name): app/knowledge/lifecycle.py. A name that is taken is
        refused; IngestBusyError while a writer uses either name."""
        new = validate_collection_name(new.strip())
        names = self.names()
        if name not in names:
            raise UnknownKnowledgeBase(f"knowledge base {name!r} does not exist")
        if new == name:
            return KnowledgeBaseInfo(name, self.size(name))
        if new in names:
            raise KnowledgeBaseExists(f"knowledge base {new!r} exists already; choose another name")
        self._forget(name, new)
        lifecycle.rename(self.settings, name, new)
        return KnowledgeBaseInfo(new, self.size(new))

    def delete(self, name: str) -> None:
        """Remove a knowledge base and everything kept under its name (its uploaded files
        too; folders it was ingested from are left alone). Conversations stay readable."""
        if name not in self.names():
            raise UnknownKnowledgeBase(f"knowledge base {name!r} does not exist")
        self._forget(name)
        lifecycle.delete(self.settings, name)

    def _forget(self, *names: str) -> None:
        for name in names:
            self._opened.pop(name, None)

    def describe(self, name: str, text: str) -> str:
        """Set what the knowledge base holds, in a sentence (empty removes it)."""
        if not self.exists(name):
            raise UnknownKnowledgeBase(f"knowledge base {name!r} does not exist")
        return write_description(self.settings, name, text)

    def save_uploads(
        self, name: str, files: Iterable[tuple[str, bytes]], limit_mb: float | None = None
    ) -> SavedUploads:
        """Check each file on its own and save the good ones into the uploads folder;
        `index_uploads` indexes them (now, or in a job).

        Two files of one upload that end up with the same name (`same.txt` twice, or `café`
        in NFC and NFD) would replace each other: the second is refused. A file that
        replaces one uploaded earlier is saved and named in `replaced` (that is how a
        document is updated).
        """
        result = SavedUploads()
        folder = upload_folder(self.settings, name)
        for filename, data in files:
            try:
                safe = safe_filename(filename)
                if safe in result.saved:
                    raise UploadError(
                        f"{safe}: another file of this upload has the same name; rename one"
                    )
                existed = (folder / safe).is_file()
                path = save_upload(self.settings, name, filename, data, limit_mb)
                result.saved.append(path.name)
                if existed:
                    result.replaced.append(path.name)
            except UploadError as exc:
                result.refused.append(RefusedUpload(filename, str(exc), exc.code, exc.params))
        return result

    def index_uploads(self, name: str, progress: Progress | None = None) -> IngestReport:
        """Index the uploads folder (new and changed files; unchanged ones cost a hash)."""
        folder = upload_folder(self.settings, name)
        return ingest_paths(self._open(name), [folder], progress=progress)

    def ingest_paths(
        self,
        name: str,
        paths: list[Path],
        *,
        prune: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Index files and folders (remembered, so a re-index reads them again)."""
        return ingest_paths(self._open(name), paths, prune=prune, progress=progress)

    def ingest_urls(
        self, name: str, urls: list[str], progress: Progress | None = None
    ) -> IngestReport:
        """Index web pages, fetched SSRF-safe (ingest/web.py), each URL its chunks' source."""
        report: IngestReport = ingest_urls(self._open(name), urls, progress)
        return report

    def reindex(self, name: str, progress: Progress | None = None) -> IngestReport:
        """Read every folder the knowledge base was built from again, pruning what is gone."""
        return reindex(self._open(name), progress=progress)

    def delete_document(self, name: str, source: str) -> DeletedDocument:
        """Remove one document: its uploaded file, then its chunks, then their records.

        The order is what makes a crash in between harmless. The uploaded file goes
        first, because the uploads folder is what a re-index reads: once it is gone,
        chunks left behind by a crash are chunks of a missing file, which the next
        re-index prunes (and the next delete of the same source removes). The other
        order would leave the file after a crash, and the next re-index would bring back
        a document the user deleted. Chunks leave Chroma before their record-manager rows
        (`ingest`'s order: rows without chunks are dropped by the next prune or delete),
        and the BM25 index follows the collection's version, bumped after each write.

        The file step holds the writer lock for the uploads folder, so it never runs
        under an ingest of that folder; when another writer holds it, nothing is deleted
        (IngestBusyError). A file in a folder ingested from elsewhere is not ours to
        delete: `still_on_disk` says a re-index will add it back.
        """
        kb = self._open(name)
        folder = str(upload_folder(self.settings, name).resolve())
        with writer_lock(self.settings, name, roots=[folder]):
            file_removed = delete_upload(self.settings, name, source)
        chunks = delete_source(kb, source)
        on_disk = locate_source(self.settings, name, source) is not None
        return DeletedDocument(source, chunks, file_removed, on_disk)

    # Curation (issue 28): a document's chunks, fixed by hand

    def curated_documents(self, name: str) -> list[str]:
        """The documents whose chunks can be fixed: every indexed one, and those whose
        chunks are all disabled or deleted."""
        indexed = [d.source for d in self.documents(name)]
        return chunk_fixes.sources_to_curate(self._open(name), indexed)

    def chunks(self, name: str, source: str, deleted: bool = False) -> list[ChunkView]:
        """A document's chunks in file order, with each one's state and revision (the
        deleted ones too, when asked)."""
        found = chunk_fixes.list_chunks(self._open(name), source, deleted)
        if not found and not chunk_fixes.change_log(self._open(name), source):
            raise UserError(f"no document {source!r} in knowledge base {name!r}")
        return found

    def chunk_changes(self, name: str, source: str | None = None) -> list[ChunkChange]:
        """Who changed which chunk when, newest first (of one document, or all)."""
        return chunk_fixes.change_log(self._open(name), source)

    def edit_chunk(
        self, name: str, chunk_id: str, text: str, expected_revision: int, who: str
    ) -> ChunkView:
        """Save a chunk's new text (searchable once this returns) if nobody changed it
        since `expected_revision`; else ChunkConflict says who did."""
        return chunk_fixes.edit_chunk(self._open(name), chunk_id, text, expected_revision, who)

    def set_chunk_state(
        self, name: str, chunk_id: str, action: str, expected_revision: int, who: str
    ) -> ChunkView:
        """`disable`, `enable`, `delete` or `restore` one chunk (the same revision check)."""
        actions = {
            "disable": chunk_fixes.disable_chunk,
            "enable": chunk_fixes.enable_chunk,
            "delete": chunk_fixes.delete_chunk,
            "restore": chunk_fixes.restore_chunk,
        }
        if action not in actions:
            raise UserError(f"unknown chunk action {action!r}; one of {', '.join(actions)}")
        return actions[action](self._open(name), chunk_id, expected_revision, who)

    def wait_for_writer(self, name: str) -> bool:
        """Block until no writer uses the knowledge base (True), or ten minutes pass."""
        return wait_for_writer(self.settings, name)
