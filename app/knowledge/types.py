"""What the knowledge-base service returns, and the ingest types its callers need
(progress callbacks, reports, errors), named here so callers import only this package."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.store.chunk_fixes import ChangeRow as ChunkChange
from app.store.chunk_fixes import ChunkConflict
from ingest.chunk_fixes import ChunkView, UnknownChunk
from ingest.indexing import FileProblem, IngestReport, Progress
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.uploads import UploadError
from ingest.writer_lock import IngestBusyError

__all__ = [
    "SUPPORTED_SUFFIXES",
    "ChunkChange",
    "ChunkConflict",
    "ChunkView",
    "DeletedDocument",
    "DocumentInfo",
    "FileProblem",
    "IngestBusyError",
    "IngestReport",
    "KnowledgeBaseInfo",
    "Progress",
    "RefusedUpload",
    "SavedUploads",
    "UnknownChunk",
    "UploadError",
]


@dataclass(frozen=True)
class KnowledgeBaseInfo:
    name: str
    chunks: int


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed document: its `source` (the path relative to the folder it came from)."""

    source: str
    chunks: int
    size_bytes: int | None = None  # its file on disk, when it is still there
    modified: float | None = None  # the file's modification time (an upload: when it came)


@dataclass(frozen=True)
class RefusedUpload:
    file: str  # the name the client sent
    reason: str


@dataclass
class SavedUploads:
    """Which files of one upload were saved (by their safe names), which of those replaced
    an earlier upload of the same name, and which were refused and why."""

    saved: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    refused: list[RefusedUpload] = field(default_factory=list)


@dataclass(frozen=True)
class DeletedDocument:
    source: str
    chunks_deleted: int
    file_removed: bool  # it was an uploaded file, now gone from the uploads folder
    still_on_disk: bool  # its file is in a folder it was ingested from: re-index adds it back

    @property
    def found(self) -> bool:
        return bool(self.chunks_deleted or self.file_removed)
