"""Indexing jobs for the HTTP API: one worker thread, jobs run in order, status by id.

A job indexes a knowledge base's upload folder (after an upload) or re-reads all its
folders (re-index), through the knowledge-base service the chat and the CLI use, so
the ingest pipeline's guarantees hold: a crash or restart mid-job leaves an index the
next run repairs, with no duplicates. An FAQ import is a job too (`import-faq`): 10,000
rows take minutes to embed on two cores, longer than a request should be held.

Each job is one durable record, `data/jobs/<uuid4>.json`, written (atomically) when it
is queued, starts and ends. A server that starts again queues every record not yet
done, in the order they were submitted, once each: a job queued behind another one
survives a SIGKILL too (one marker shared by a knowledge base's jobs did not: the first
job's end deleted the second's). Ids are random, so nobody can guess another's job, and
a job answers only the key that submitted it (`owner`).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Literal

from app.errors import DISK_FULL, disk_full
from app.knowledge.service import KnowledgeBases
from app.knowledge.types import IngestBusyError, IngestReport, Progress
from app.retrieval.service import UnknownKnowledgeBase
from app.settings import Settings

log = logging.getLogger("zhiku.jobs")
Kind = Literal["index-uploads", "reindex", "index-urls", "import-faq"]
BUSY_RETRY_S = 2.0  # another writer (the CLI, the chat) holds the data folder: wait
KEEP_FINISHED = 500  # finished records kept for GET /v1/jobs/<id> across restarts
UNFINISHED = ("queued", "waiting-for-writer", "running")


@dataclass
class JobStatus:
    id: str
    kind: Kind
    knowledge_base: str
    owner: str = "api"  # who may read it (a digest of the key; never shown)
    state: Literal["queued", "waiting-for-writer", "running", "done", "failed"] = "queued"
    files_total: int = 0
    files_done: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)  # per-file skips/failures
    error: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    resumed: int = 0  # how often a restarted server queued it again
    urls: list[str] = field(default_factory=list)  # index-urls: the pages to fetch
    filename: str = ""  # import-faq: the sheet's name; its bytes are `<id>.upload`
    author: str = ""  # import-faq: who the entries are signed by

    def as_dict(self) -> dict:
        shown = asdict(self)
        del shown["owner"], shown["author"]  # who may read it; who the FAQ rows are by
        return shown


class _JobProgress(Progress):
    def __init__(self, status: JobStatus) -> None:
        self.status = status

    def start(self, total_files: int) -> None:
        self.status.files_total = total_files

    def file_done(self, source: str) -> None:
        self.status.files_done += 1


class JobRunner:
    """Runs indexing jobs one at a time in a background thread."""

    def __init__(self, settings: Settings, knowledge: KnowledgeBases | None = None) -> None:
        self.settings = settings
        self.knowledge = knowledge or KnowledgeBases(settings)
        self.folder = settings.storage.data_dir / "jobs"
        self.jobs: dict[str, JobStatus] = {}
        self._queue: queue.Queue[JobStatus] = queue.Queue()
        self._resume()
        self._thread = threading.Thread(target=self._run, name="zhiku-jobs", daemon=True)
        self._thread.start()

    def submit(
        self,
        kind: Kind,
        collection: str,
        owner: str = "api",
        urls: list[str] | None = None,
        sheet: tuple[str, bytes, str] | None = None,  # import-faq: filename, bytes, author
    ) -> JobStatus:
        status = JobStatus(str(uuid.uuid4()), kind, collection, owner, urls=list(urls or []))
        if sheet is not None:
            status.filename, data, status.author = sheet
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = self.folder / f".{status.id}.upload.part"
            partial.write_bytes(data)
            os.replace(partial, self._upload(status.id))
        self._save(status)  # durable before the client hears of it
        self.jobs[status.id] = status
        self._queue.put(status)
        return status

    def get(self, job_id: str, owner: str) -> JobStatus | None:
        """The job, if `owner` submitted it (anyone else: None, as for an unknown id)."""
        status = self.jobs.get(job_id)
        return status if status is not None and status.owner == owner else None

    def _record(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.json"

    def _upload(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.upload"

    def _save(self, status: JobStatus) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{status.id}.json.part"
        partial.write_text(json.dumps(asdict(status), ensure_ascii=False), encoding="utf-8")
        os.replace(partial, self._record(status.id))

    def _resume(self) -> None:
        """Every job a stopped server did not finish is queued again, oldest first."""
        if not self.folder.is_dir():
            return
        known = {f.name for f in fields(JobStatus)}
        records: list[JobStatus] = []
        for path in self.folder.glob("*.json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                records.append(JobStatus(**{k: v for k, v in data.items() if k in known}))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("job record %s unreadable, ignored: %s", path.name, exc)
        records.sort(key=lambda status: status.created)
        finished = [s for s in records if s.state not in UNFINISHED]
        for old in finished[:-KEEP_FINISHED]:
            self._record(old.id).unlink(missing_ok=True)
        for status in finished[-KEEP_FINISHED:]:
            self.jobs[status.id] = status
        for status in records:
            if status.state in UNFINISHED:
                log.info("resuming job %s (%s)", status.id, status.kind)
                status.state, status.resumed = "queued", status.resumed + 1
                status.files_done = 0
                self._save(status)
                self.jobs[status.id] = status
                self._queue.put(status)
        for marker in sorted(self.folder.glob("*.pending")):  # written by older versions
            collection, kind = marker.name.removesuffix(".pending").rsplit(".", 1)
            self.submit(kind, collection)  # type: ignore[arg-type]
            marker.unlink(missing_ok=True)

    def _run(self) -> None:
        while True:
            status = self._queue.get()
            try:
                if status.kind == "import-faq":
                    self._import_faq(status)
                else:
                    self._index(status)
                status.state = "done"
            except Exception as exc:  # reported in the status; the server keeps running
                if disk_full(exc):
                    log.error("job %s failed: %s", status.id, DISK_FULL)
                    status.error = DISK_FULL
                else:
                    log.exception("job %s failed", status.id)
                    status.error = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
                status.state = "failed"
            status.finished = time.time()
            try:
                self._save(status)
            except OSError as exc:  # the status stays in memory; a restart runs it again
                log.error("job %s: record not written: %s", status.id, exc)

    def _index(self, status: JobStatus) -> None:
        report = self._with_writer(status)
        status.counts = _counts(report)
        status.problems = [
            {"source": p.source, "reason": p.reason, "kind": kind, "code": p.code}
            for kind, problems in (
                ("skipped", report.skipped),
                ("failed", report.failed),
                ("fixes-dropped", report.fixes_dropped),  # issue 28: curated chunks
            )
            for p in problems
        ]

    def _import_faq(self, status: JobStatus) -> None:
        """An FAQ sheet through the FAQ service (`zhiku faq import`'s): `counts` shows the
        rows added so far while it runs, each row left out is a problem. A job a restart
        runs again imports the file again: rows added before the stop are then left out
        as duplicates, never added twice."""
        from app.knowledge.faq import FaqService

        status.state = "running"
        self._save(status)

        def progress(added: int, total: int) -> None:
            status.counts = {"rows_added": added, "rows_to_add": total}

        upload = self._upload(status.id)
        try:
            if not self.knowledge.exists(status.knowledge_base):  # deleted or renamed since
                raise UnknownKnowledgeBase(
                    f"knowledge base {status.knowledge_base!r} no longer exists"
                )
            report = FaqService(self.settings).import_file(
                status.knowledge_base, status.filename, upload.read_bytes(), status.author,
                progress,
            )  # fmt: skip
        finally:
            upload.unlink(missing_ok=True)
        status.counts = {"rows_added": report.added, "rows_left_out": len(report.errors)}
        status.problems = [
            {"source": status.filename, "reason": line, "kind": "row-left-out"}
            for line in report.errors
        ]

    def _with_writer(self, status: JobStatus) -> IngestReport:
        name = status.knowledge_base
        if not self.knowledge.exists(name):  # deleted or renamed since it was queued
            raise UnknownKnowledgeBase(f"knowledge base {name!r} no longer exists")
        while True:
            status.state = "running"
            self._save(status)
            try:
                if status.kind == "reindex":
                    return self.knowledge.reindex(name, _JobProgress(status))
                if status.kind == "index-urls":
                    return self.knowledge.ingest_urls(name, status.urls, _JobProgress(status))
                return self.knowledge.index_uploads(name, _JobProgress(status))
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
