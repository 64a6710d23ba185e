"""Indexing jobs for the HTTP API: one worker thread, jobs run in order, status by id.

A job indexes a knowledge base's upload folder (after an upload) or re-reads all its
folders (re-index), through the same `ingest_paths` / `reindex` as the CLI, so its
guarantees hold: a crash or restart mid-job leaves an index the next run repairs, with
no duplicates. A marker file per pending job makes a restarted server run it again.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from app.settings import Settings
from ingest.indexing import IngestBusyError, IngestReport, Progress, ingest_paths, reindex
from ingest.knowledge_base import open_knowledge_base
from ingest.uploads import upload_folder

log = logging.getLogger("zhiku.jobs")
Kind = Literal["index-uploads", "reindex"]
BUSY_RETRY_S = 2.0  # another writer (the CLI, the chat) holds the data folder: wait


@dataclass
class JobStatus:
    id: str
    kind: Kind
    knowledge_base: str
    state: Literal["queued", "waiting-for-writer", "running", "done", "failed"] = "queued"
    files_total: int = 0
    files_done: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)  # per-file skips/failures
    error: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class _JobProgress(Progress):
    def __init__(self, status: JobStatus) -> None:
        self.status = status

    def start(self, total_files: int) -> None:
        self.status.files_total = total_files

    def file_done(self, source: str) -> None:
        self.status.files_done += 1


class JobRunner:
    """Runs indexing jobs one at a time in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.jobs: dict[str, JobStatus] = {}
        self._queue: queue.Queue[JobStatus] = queue.Queue()
        self._numbers = itertools.count(1)
        self._thread = threading.Thread(target=self._run, name="zhiku-jobs", daemon=True)
        self._thread.start()
        self._resume()

    def submit(self, kind: Kind, collection: str) -> JobStatus:
        status = JobStatus(f"job-{int(time.time())}-{next(self._numbers)}", kind, collection)
        self.jobs[status.id] = status
        self._marker(collection, kind).touch()
        self._queue.put(status)
        return status

    def _marker(self, collection: str, kind: str) -> Path:
        folder = self.settings.data_dir / "jobs"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{collection}.{kind}.pending"

    def _resume(self) -> None:
        """Jobs a stopped server did not finish run again (indexing is idempotent)."""
        folder = self.settings.data_dir / "jobs"
        for marker in sorted(folder.glob("*.pending")) if folder.is_dir() else []:
            collection, kind = marker.name.removesuffix(".pending").rsplit(".", 1)
            log.info("resuming %s of %s after a restart", kind, collection)
            self.submit(kind, collection)  # type: ignore[arg-type]

    def _run(self) -> None:
        while True:
            status = self._queue.get()
            try:
                report = self._with_writer(status)
                status.counts = _counts(report)
                status.problems = [
                    {"source": p.source, "reason": p.reason, "kind": kind}
                    for kind, problems in (("skipped", report.skipped), ("failed", report.failed))
                    for p in problems
                ]
                status.state = "done"
                self._marker(status.knowledge_base, status.kind).unlink(missing_ok=True)
            except Exception as exc:  # reported in the status; the server keeps running
                log.exception("job %s failed", status.id)
                status.state, status.error = "failed", str(exc).splitlines()[0][:300]
            status.finished = time.time()

    def _with_writer(self, status: JobStatus) -> IngestReport:
        kb = open_knowledge_base(self.settings, status.knowledge_base)
        while True:
            status.state = "running"
            try:
                if status.kind == "reindex":
                    return reindex(kb, progress=_JobProgress(status))
                folder = upload_folder(self.settings, status.knowledge_base)
                return ingest_paths(kb, [folder], progress=_JobProgress(status))
            except IngestBusyError:
                status.state = "waiting-for-writer"
                time.sleep(BUSY_RETRY_S)


def _counts(report: IngestReport) -> dict[str, int]:
    return {
        "files_seen": report.files_seen,
        "files_indexed": report.files_indexed,
        "files_unchanged": report.files_unchanged,
        "files_skipped": len(report.skipped),
        "files_failed": len(report.failed),
        "files_pruned": report.files_pruned,
        "chunks_added": report.chunks_added,
        "chunks_deleted": report.chunks_deleted,
    }
