"""Incremental ingest into a Chroma collection through LangChain's indexing API.

Why the indexing API with a SQL record manager: it hashes each chunk (content +
metadata) into a stable id, embeds only chunks it has not seen, and deletes the old
chunks of a file that changed. Writes go to Chroma first (an upsert by id) and to the
record manager second, so a crash at any point leaves state the next run repairs:
chunks already in Chroma but not recorded are upserted again under the same ids,
never duplicated. After each write the collection's version is bumped, which is how
the BM25 index of this and every other process learns that it changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.indexing import index

from app.store.chroma import max_batch_size
from ingest.chunk_fixes import drop_fixes
from ingest.discovery import discover
from ingest.knowledge_base import (  # noqa: F401 - re-exported for callers
    IngestBusyError,
    KnowledgeBase,
    open_knowledge_base,
    writer_lock,
)
from ingest.loaders import LoadError, check_chunk_count, load_file
from ingest.report import FileProblem, IngestReport, Progress
from ingest.roots import remember_roots, remembered_roots
from ingest.splitting import make_splitter, split_file
from ingest.status import forget as forget_status
from ingest.status import mark_indexing, record_outcome
from ingest.web import load_url, remember_urls, remembered_urls


def _pages(progress: Progress, source: str) -> Callable[[int, int], None]:
    return lambda page, pages: progress.page_done(source, page, pages)


def _ticking(chunks: list[Document], progress: Progress) -> Iterator[Document]:
    for chunk in chunks:
        yield chunk
        progress.chunks_done(1)


def ingest_paths(
    kb: KnowledgeBase,
    paths: list[Path],
    *,
    prune: bool = False,
    progress: Progress | None = None,
    batch_size: int = 64,
    group_chunks: int = 256,
) -> IngestReport:
    """Index every supported file below `paths`; bad files are reported, never fatal.

    Files are written in groups of about `group_chunks` chunks: one index() call per
    group keeps embedding batches full (small files have 2-3 chunks each) and the
    record manager's commits few.

    With `prune`, chunks of files no longer present are deleted (the indexing API's
    `full` cleanup, done once after all files so one bad file cannot wipe the rest).
    KeyboardInterrupt is caught: the report says how far it got.
    """
    progress = progress or Progress()
    report = IngestReport()
    remember_roots(kb.settings, kb.collection, [p for p in paths if p.exists()])
    candidates, report.files_ignored = discover(paths)
    report.files_seen = len(candidates)
    progress.start(len(candidates))
    splitter = make_splitter(kb.settings.knowledge.chunk_size, kb.settings.knowledge.chunk_overlap)
    max_bytes = int(kb.settings.knowledge.max_file_mb * 1_000_000)
    limits = {
        "max_unpacked_bytes": int(kb.settings.knowledge.max_unpacked_mb * 1_000_000),
        "max_pages": kb.settings.knowledge.max_pdf_pages,
        "max_image_pixels": int(kb.settings.knowledge.max_image_megapixels * 1_000_000),
        "max_sheet_rows": kb.settings.knowledge.max_sheet_rows,
        "ocr_workers": kb.settings.knowledge.ocr_workers,
    }
    chunk_limits = (kb.settings.knowledge.chunk_size, kb.settings.knowledge.max_chunks_per_file)
    manager = kb.record_manager
    run_started = manager.get_time()
    batch_size = min(batch_size, max_batch_size(kb.settings))
    embedded_before = _texts_embedded(kb)
    group: dict[str, list[Document]] = {}

    def flush() -> None:
        _index_group(kb, manager, group, batch_size, progress, report)
        group.clear()

    roots = [str(p.resolve()) for p in paths]
    with (
        writer_lock(kb.settings, kb.collection, roots=roots, whole=prune),
        _statuses(kb, [c.source for c in candidates], report),
        kb.bm25.writing(),
    ):
        try:
            for candidate in candidates:
                try:
                    loaded = load_file(
                        candidate.path,
                        max_bytes,
                        **limits,
                        on_page=_pages(progress, candidate.source),
                    )
                    check_chunk_count(loaded, *chunk_limits)
                    chunks = split_file(loaded, candidate.source, splitter)
                    check_chunk_count(loaded, *chunk_limits, chunks=len(chunks))
                    group[candidate.source] = chunks
                except LoadError as exc:
                    problems = report.skipped if exc.skipped else report.failed
                    problems.append(FileProblem.of(candidate.source, exc))
                    progress.file_done(candidate.source)
                if sum(map(len, group.values())) >= group_chunks:
                    flush()
            flush()
            if prune:
                _keep_records_of_unreadable_files(manager, report)
                report.files_pruned, deleted = _prune(kb, manager, run_started)
                report.chunks_deleted += deleted
        except KeyboardInterrupt:
            report.interrupted = True
    report.embeddings_computed = _texts_embedded(kb) - embedded_before
    return report


@contextmanager
def _statuses(kb: KnowledgeBase, sources: list[str], report: IngestReport) -> Iterator[None]:
    """Each file "indexing" while the ingest runs, then what became of it (ingest/status.py);
    a file the run did not reach (Ctrl-C, an error) loses its "indexing"."""
    mark_indexing(kb.settings, kb.collection, sources)
    try:
        yield
    finally:
        problems = [
            (state, p.source, p.reason, p.code, p.params)
            for state, found in (("skipped", report.skipped), ("failed", report.failed))
            for p in found
        ]
        seen = set(report.indexed_sources) | {p[1] for p in problems}
        record_outcome(
            kb.settings,
            kb.collection,
            report.indexed_sources,
            problems,  # type: ignore[arg-type]
            unfinished=[s for s in sources if s not in seen],
        )


def _texts_embedded(kb: KnowledgeBase) -> int:
    embeddings = kb.store.embeddings
    model = getattr(embeddings, "underlying_embeddings", embeddings)
    return getattr(model, "texts_embedded", 0)


def _index_group(
    kb: KnowledgeBase,
    manager,
    group: dict[str, list[Document]],
    batch_size: int,
    progress: Progress,
    report: IngestReport,
) -> None:
    """Write a group of files' chunks, then drop each file's chunks that no longer exist.

    The API's own "incremental" cleanup runs after every batch, so for a file spanning
    two batches it deletes the later (not yet refreshed) chunks and re-embeds them on
    every run. Indexing without cleanup and deleting stale chunks afterwards keeps the
    same semantics without that churn.
    """
    if not group:
        return
    known_before = {source: len(manager.list_keys(group_ids=[source])) for source in group}
    chunks = [chunk for file_chunks in group.values() for chunk in file_chunks]
    progress.group_started(len(group), len(chunks))
    started = manager.get_time()
    result = index(
        _ticking(chunks, progress),
        manager,
        kb.store,
        cleanup=None,
        source_id_key="source",
        batch_size=batch_size,
        key_encoder="sha256",
    )
    report.chunks_added += result["num_added"] + result["num_updated"]
    report.chunks_skipped += result["num_skipped"]
    if result["num_added"] + result["num_updated"]:
        kb.records.bump()
    for source, file_chunks in group.items():
        stale = manager.list_keys(group_ids=[source], before=started)
        report.chunks_deleted += _delete_keys(kb, manager, stale)
        # Unchanged: nothing of it was stale, and every chunk was already known.
        if stale or known_before[source] != len(file_chunks):
            report.files_indexed += 1
            if known_before[source]:  # a new file has no fixes yet
                _drop_fixes(kb, source, "the file changed", report)
        else:
            report.files_unchanged += 1
        report.indexed_sources.append(source)
        progress.file_done(source)


def _keep_records_of_unreadable_files(manager, report: IngestReport) -> None:
    """A file that exists but failed to load this time keeps its old chunks under --prune."""
    for problem in report.failed + report.skipped:
        keys = manager.list_keys(group_ids=[problem.source])
        if keys:
            manager.update(keys, group_ids=[problem.source] * len(keys))


def _prune(kb: KnowledgeBase, manager, run_started: float) -> tuple[int, int]:
    stale = manager.list_keys(before=run_started)
    if not stale:
        return 0, 0
    found = kb.store.get(ids=stale, include=["metadatas"])
    # web pages (issue 25) are not files: pruning a folder has no say over them
    pages = {
        id_
        for id_, meta in zip(found["ids"], found["metadatas"], strict=True)
        if str((meta or {}).get("source", "")).startswith(("http://", "https://"))
    }
    stale = [key for key in stale if key not in pages]
    sources = {
        (meta or {}).get("source")
        for id_, meta in zip(found["ids"], found["metadatas"], strict=True)
        if id_ not in pages
    }
    deleted = _delete_keys(kb, manager, stale)
    for source in sources:
        drop_fixes(kb, str(source), "the file is gone")
    return len(sources), deleted


def _drop_fixes(kb: KnowledgeBase, source: str, why: str, report: IngestReport) -> None:
    """Undo the curated fixes of a changed file's chunks, noted in the report and the log."""
    dropped = drop_fixes(kb, source, f"{why}; the fix was dropped and the file's text is back")
    if dropped:
        note = f"{why}: {dropped} curated chunk fix(es) dropped; see the change log"
        report.fixes_dropped.append(FileProblem(source, note, "fixes_dropped", {"count": dropped}))


def _delete_keys(kb: KnowledgeBase, manager, keys: list[str]) -> int:
    """Delete chunks from Chroma first, then from the record manager (crash-safe order)."""
    for i in range(0, len(keys), 1000):
        batch = keys[i : i + 1000]
        kb.store.delete(batch)
        manager.delete_keys(batch)
        kb.records.bump()
    return len(keys)


def reindex(kb: KnowledgeBase, progress: Progress | None = None) -> IngestReport:
    """Read every file and folder the knowledge base was built from again, with prune.

    Changed files are re-embedded, removed ones dropped, unchanged ones cost a hash.
    A knowledge base with no remembered folders is left alone (pruning it against
    nothing would empty it).
    """
    roots = remembered_roots(kb.settings, kb.collection)
    urls = remembered_urls(kb.settings, kb.collection)
    report = IngestReport()
    if roots:
        present = [root for root in roots if root.exists()]  # a vanished folder is pruned
        report = ingest_paths(kb, present, prune=True, progress=progress)
    if urls:
        pages = ingest_urls(kb, urls, progress)
        for name in ("files_seen", "files_indexed", "files_unchanged", "chunks_added"):
            setattr(report, name, getattr(report, name) + getattr(pages, name))
        report.skipped += pages.skipped
        report.failed += pages.failed
    return report


def ingest_urls(
    kb: KnowledgeBase, urls: list[str], progress: Progress | None = None
) -> IngestReport:
    """Index web pages into `kb` with the URL as each chunk's source (fetched SSRF-safe by
    ingest/web.py); a page that changed since the last run is re-embedded, one that did
    not costs only its fetch."""
    progress = progress or Progress()
    report = IngestReport(files_seen=len(urls))
    progress.start(len(urls))
    knowledge = kb.settings.knowledge
    splitter = make_splitter(knowledge.chunk_size, knowledge.chunk_overlap)
    limits = (knowledge.chunk_size, knowledge.max_chunks_per_file)
    group = {}
    with (
        writer_lock(kb.settings, kb.collection, roots=urls),
        _statuses(kb, urls, report),
        kb.bm25.writing(),
    ):
        for url in urls:
            try:
                loaded = load_url(url, kb.settings)
                check_chunk_count(loaded, *limits)
                group[url] = split_file(loaded, url, splitter)
            except LoadError as exc:
                problems = report.skipped if exc.skipped else report.failed
                problems.append(FileProblem.of(url, exc))
                progress.file_done(url)
        _index_group(kb, kb.record_manager, group, 64, progress, report)
    remember_urls(kb.settings, kb.collection, list(group))
    return report


def delete_source(kb: KnowledgeBase, source: str) -> int:
    """Remove every chunk of one file (by its source path); returns how many."""
    manager = kb.record_manager
    with writer_lock(kb.settings, kb.collection), kb.bm25.writing():
        deleted = _delete_keys(kb, manager, manager.list_keys(group_ids=[source]))
        drop_fixes(kb, source, "the document was deleted")
        forget_status(kb.settings, kb.collection, source)
        return deleted
