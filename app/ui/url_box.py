"""The "add web pages" box of the Knowledge bases page: URLs, one a line, indexed through
the knowledge-base service (`KnowledgeBases.ingest_urls`), which fetches each SSRF-safe:
a private or loopback address not in ZHIKU_URL_ALLOWLIST is one line in the report."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.knowledge.types import IngestReport
from app.ui import permissions, resources
from app.ui.i18n import _
from app.ui.progress import keep_report

MAX_URLS = 100  # per submit, as over the API


def url_section(collection: str, run_ingest: Callable[[Callable], IngestReport | None]) -> None:
    """A text box of URLs and a button; `run_ingest` (the page's) shows progress, the
    report is shown after the rerun that refreshes the sidebar's count."""
    with st.expander(_("Add web pages by URL")):
        text = st.text_area(_("URLs, one per line (http or https)"), key="add_urls_text")
        if not st.button(_("Fetch and add"), key="add_urls") or not text.strip():
            return
        urls = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
        if len(urls) > MAX_URLS:
            st.error(_("At most {count} URLs at a time.", count=MAX_URLS))
            return
        knowledge = resources.knowledge()
        report = run_ingest(lambda progress: knowledge.ingest_urls(collection, urls, progress))
        permissions.audit("kb.add_urls", collection, " ".join(urls)[:500])
        if report is not None:
            keep_report(report, [])
            st.rerun()
