"""What an ingest reports and the progress callbacks it calls: plain types, kept apart
from `ingest.indexing` so that code naming them (the service's types, the CLI's
progress, the UI) loads no vector store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.loaders import LoadError


@dataclass
class FileProblem:
    source: str
    reason: str  # English, one line
    code: str = "unreadable"  # ingest.documents.REASON_CODES: what a page translates
    params: dict[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, source: str, exc: LoadError) -> FileProblem:
        return cls(source, str(exc), exc.code, dict(exc.params))


@dataclass
class IngestReport:
    """What one ingest did; the CLI prints it and derives the exit code from it."""

    files_seen: int = 0
    files_indexed: int = 0
    files_unchanged: int = 0
    files_ignored: int = 0  # other file types found while walking folders
    skipped: list[FileProblem] = field(default_factory=list)
    failed: list[FileProblem] = field(default_factory=list)
    chunks_added: int = 0
    chunks_deleted: int = 0
    chunks_skipped: int = 0
    files_pruned: int = 0
    embeddings_computed: int = 0  # texts actually run through the model (not from cache)
    interrupted: bool = False
    # curated chunk fixes undone because their file changed or went away (issue 28)
    fixes_dropped: list[FileProblem] = field(default_factory=list)
    indexed_sources: list[str] = field(default_factory=list)  # indexed or unchanged

    @property
    def ok(self) -> bool:
        return not (self.skipped or self.failed or self.interrupted)


class Progress:
    """Callbacks the CLI (or a UI) implements to show progress; the default does nothing."""

    def start(self, total_files: int) -> None: ...
    def group_started(self, files: int, chunks: int) -> None: ...
    def chunks_done(self, count: int) -> None: ...
    def file_done(self, source: str) -> None: ...
    # a page of a PDF or image read (OCR: seconds each), before the file's chunks exist
    def page_done(self, source: str, page: int, pages: int) -> None: ...
