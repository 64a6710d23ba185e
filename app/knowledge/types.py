"""What the knowledge-base service returns, and the ingest types its callers need
(progress callbacks, reports, errors), named here so callers import only this package."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.errors import UserError
from app.store.chunk_fixes import ChangeRow as ChunkChange
from app.store.chunk_fixes import ChunkConflict
from ingest.chunk_fixes import ChunkView, UnknownChunk
from ingest.documents import REASON_CODES
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.report import FileProblem, IngestReport, Progress
from ingest.uploads import UploadError
from ingest.writer_lock import IngestBusyError

__all__ = [
    "REASON_CODES",
    "SUPPORTED_SUFFIXES",
    "ChunkChange",
    "ChunkConflict",
    "ChunkView",
    "DeletedDocument",
    "DocumentInfo",
    "FileProblem",
    "IngestBusyError",
    "IngestReport",
    "KnowledgeBaseExists",
    "KnowledgeBaseInfo",
    "Progress",
    "RefusedUpload",
    "SavedUploads",
    "UnknownChunk",
    "UploadError",
]


class KnowledgeBaseExists(UserError):
    """A rename onto a name that is taken."""


@dataclass(frozen=True)
class KnowledgeBaseInfo:
    name: str
    chunks: int


@dataclass(frozen=True)
class DocumentInfo:
    """One document: its `source` (the path relative to the folder it came from), and what
    the last ingest made of it (ingest/status.py): "indexed", "indexing", or "skipped" /
    "failed" with the reason (then it may have no chunks, or its older ones)."""

    source: str
    chunks: int
    size_bytes: int | None = None  # its file on disk, when it is still there
    modified: float | None = None  # the file's modification time (an upload: when it came)
    state: str = "indexed"
    reason: str = ""  # English, one line
    code: str = ""  # the reason's code (REASON_CODES), for a page to translate
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RefusedUpload:
    file: str  # the name the client sent
    reason: str
    code: str = ""  # when ingest's limit refused it: its reason code (REASON_CODES)
    params: dict[str, object] = field(default_factory=dict)


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
