"""Ingest progress drawn in the page: the ingest pipeline's Progress, as Streamlit widgets."""

from __future__ import annotations

import time

import streamlit as st

from app.knowledge.types import IngestReport, Progress
from app.ui.i18n import _
from app.ui.reasons import file_reason
from app.ui.safe_text import escape_markdown

REPORT_KEY = "ingest_report"  # session state: the last report, shown after the rerun


class StreamlitProgress(Progress):
    """One bar over all chunks of the current group, and a line naming the last file."""

    def __init__(self) -> None:
        self.bar = st.progress(0.0, text=_("Preparing…"))
        self.total_files = 0
        self.files_done = 0
        self.chunks_total = 0
        self.chunks = 0
        self._page_drawn = 0.0

    def start(self, total_files: int) -> None:
        self.total_files = total_files

    def group_started(self, files: int, chunks: int) -> None:
        self.chunks_total, self.chunks = chunks, 0
        self._draw()

    def chunks_done(self, count: int) -> None:
        self.chunks += count
        if self.chunks % 8 == 0 or self.chunks == self.chunks_total:  # fewer redraws
            self._draw()

    def file_done(self, source: str) -> None:
        self.files_done += 1
        self._draw()

    def _draw(self) -> None:
        fraction = self.chunks / self.chunks_total if self.chunks_total else 0.0
        text = _(
            "files {files_done}/{files} · chunks {chunks_done}/{chunks}",
            files_done=self.files_done,
            files=self.total_files,
            chunks_done=self.chunks,
            chunks=self.chunks_total,
        )
        self.bar.progress(min(fraction, 1.0), text=text)

    def finish(self) -> None:
        self.bar.empty()

    def page_done(self, source: str, page: int, pages: int) -> None:
        """Pages of a long PDF or scan as they are read (OCR: seconds a page); at most two
        redraws a second."""
        now = time.monotonic()
        if page < pages and now - self._page_drawn < 0.5:
            return
        self._page_drawn = now
        text = _("{source}: page {page} of {pages}", source=source, page=page, pages=pages)
        self.bar.progress(page / pages if pages else 0.0, text=escape_markdown(text))


def keep_report(report: IngestReport | None, problems: list[str]) -> None:
    """Show the report, and the files refused before it, on the next run (the page reruns
    so the sidebar's count and the emptied uploader are drawn fresh)."""
    st.session_state[REPORT_KEY] = (report, problems)


def show_kept_report() -> None:
    report, problems = st.session_state.pop(REPORT_KEY, (None, []))
    for problem in problems:
        st.error(escape_markdown(problem))
    if report is not None:
        show_report(report)


def show_report(report: IngestReport) -> None:
    """The summary a user needs: what landed, and one line per file that did not."""
    problems = report.skipped + report.failed
    summary = _(
        "indexed {indexed} · unchanged {unchanged} · skipped {skipped} · chunks added {added}"
        " · chunks deleted {deleted}",
        indexed=report.files_indexed,
        unchanged=report.files_unchanged,
        skipped=len(problems),
        added=report.chunks_added,
        deleted=report.chunks_deleted,
    )
    (st.warning if problems or report.interrupted else st.success)(summary)
    for problem in problems + report.fixes_dropped:  # issue 28: curated fixes undone
        reason = file_reason(problem.code, problem.params, problem.reason)
        st.text(f"{problem.source}: {reason}")  # st.text: never Markdown or HTML
