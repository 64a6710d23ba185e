"""`zhiku ingest`: index folders, list or delete files.

Exit codes: 0 everything indexed; 1 nothing done (bad setting, store unreachable,
another ingest running); 2 done, but some files were skipped or failed; 130
interrupted (Ctrl-C) — run again to resume, nothing is duplicated.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from app.knowledge.types import IngestReport, Progress

if TYPE_CHECKING:  # the service loads the vector store: only when a command runs
    from app.knowledge.service import KnowledgeBases

EXIT_OK, EXIT_ERROR, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 130

console = Console(stderr=True)
out = Console()


class RichIngestProgress(Progress):
    """Two bars: files, and chunks of the current file being embedded and written."""

    def __init__(self, bars: RichProgress) -> None:
        self.bars = bars
        self.files = bars.add_task("files", total=None)
        self.chunks = bars.add_task("chunks", total=None, visible=False)
        self.pages: TaskID | None = None

    def start(self, total_files: int) -> None:
        self.bars.update(self.files, total=total_files)

    def group_started(self, files: int, chunks: int) -> None:
        description = f"chunks of {files} file{'s' if files > 1 else ''}"
        self.bars.reset(self.chunks, total=chunks, visible=True, description=description)

    def chunks_done(self, count: int) -> None:
        self.bars.advance(self.chunks, count)

    def file_done(self, source: str) -> None:
        self.bars.advance(self.files, 1)

    def page_done(self, source: str, page: int, pages: int) -> None:
        """A long PDF or scan, page by page (OCR takes seconds a page); hidden when done."""
        if self.pages is None:
            self.pages = self.bars.add_task("pages", total=pages, visible=False)
        self.bars.update(
            self.pages, completed=page, total=pages, visible=page < pages,
            description=f"pages of {escape(source)[-40:]}",
        )  # fmt: skip


def print_report(report: IngestReport, collection: str) -> None:
    for problem in report.skipped:
        console.print(
            f"[yellow]skipped[/] {escape(problem.source)}: {escape(problem.reason)}",
            soft_wrap=True,
        )
    for problem in report.failed:
        console.print(
            f"[red]failed[/]  {escape(problem.source)}: {escape(problem.reason)}", soft_wrap=True
        )
    for problem in report.fixes_dropped:
        console.print(f"[yellow]note[/] {escape(problem.source)}: {escape(problem.reason)}")
    table = Table(title=f"ingest into {collection!r}", show_header=False)
    rows = [
        ("files seen", report.files_seen),
        ("files indexed", report.files_indexed),
        ("files unchanged", report.files_unchanged),
        ("files skipped", len(report.skipped)),
        ("files failed", len(report.failed)),
        ("other files ignored", report.files_ignored),
        ("files pruned", report.files_pruned),
        ("chunks added", report.chunks_added),
        ("chunks deleted", report.chunks_deleted),
        ("chunks unchanged", report.chunks_skipped),
        ("embeddings computed", report.embeddings_computed),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    out.print(table)
    if report.interrupted:
        console.print(
            "[yellow]interrupted[/]: run the same command again to finish; "
            "nothing will be duplicated"
        )


def list_files(knowledge: KnowledgeBases, name: str) -> None:
    everything = knowledge.documents(name)
    documents = [d for d in everything if d.chunks or d.state == "indexed"]
    table = Table(title=f"knowledge base {name!r}")
    table.add_column("source", overflow="fold")
    table.add_column("chunks", justify="right")
    for document in documents:
        table.add_row(escape(document.source), str(document.chunks))
    out.print(table)
    out.print(f"{len(documents)} files, {sum(d.chunks for d in documents)} chunks")
    for document in everything:  # what the last ingest could not index, one line each
        if document not in documents:
            out.print(f"{document.state}: {escape(document.source)}: {escape(document.reason)}")


def delete_document(knowledge: KnowledgeBases, name: str, source: str) -> None:
    """What the chat's Delete button and the API's DELETE do: the uploaded file too."""
    deleted = knowledge.delete_document(name, source)
    if not deleted.found:
        console.print(f"no chunks of {source!r} in {name!r}; see --list")
        raise typer.Exit(EXIT_PARTIAL)
    upload = " and its uploaded file" if deleted.file_removed else ""
    out.print(f"deleted {deleted.chunks_deleted} chunks of {source}{upload}")
    if deleted.still_on_disk:
        console.print("the file is still in its folder: a re-index adds it back")


def ingest(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Files, folders or http(s) URLs to index.")
    ] = None,
    collection: Annotated[
        str | None, typer.Option("--collection", "-c", help="Knowledge base name.")
    ] = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete chunks of files that are gone.")
    ] = False,
    list_: Annotated[
        bool, typer.Option("--list", help="List indexed files with chunk counts.")
    ] = False,
    delete: Annotated[
        str | None,
        typer.Option(
            "--delete", help="Remove one file (its source path): its chunks, and its upload."
        ),
    ] = None,
) -> None:
    """Index documents (txt md pdf docx html csv xlsx pptx, images, web pages by URL)
    into a knowledge base, incrementally."""
    from app.cli.errors import user_errors
    from app.knowledge.service import KnowledgeBases
    from app.settings import get_settings, validate_collection_name

    with user_errors():
        settings = get_settings()
        name = validate_collection_name(collection or settings.knowledge.collection)
        knowledge = KnowledgeBases(settings)
        if list_:
            list_files(knowledge, name)
            return
        if delete:
            delete_document(knowledge, name, delete)
            return
        if not paths:
            console.print("give at least one file or folder to ingest (or --list / --delete)")
            raise typer.Exit(EXIT_ERROR)
        columns = (
            TextColumn("{task.description:>40}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        urls = [p for p in paths if p.startswith(("http://", "https://"))]
        files = [Path(p) for p in paths if p not in urls]
        with RichProgress(*columns, console=console, transient=True) as bars:
            if urls:  # web pages, fetched SSRF-safe (ingest/web.py)
                report = knowledge.ingest_urls(name, urls, RichIngestProgress(bars))
                print_report(report, name)
                if not report.ok and not files:
                    raise typer.Exit(EXIT_PARTIAL)
            if files or not urls:
                progress = RichIngestProgress(bars)
                report = knowledge.ingest_paths(name, files, prune=prune, progress=progress)
                print_report(report, name)
        if report.interrupted:
            raise typer.Exit(EXIT_INTERRUPTED)
        if not report.ok:
            raise typer.Exit(EXIT_PARTIAL)
