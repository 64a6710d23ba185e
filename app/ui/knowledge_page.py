"""Knowledge-base page: every knowledge base at a glance; create one; upload files and
watch them index; each document with its size and date, a preview of its chunks, and a
delete that asks first.

Every read and write goes through the knowledge-base service (`app.knowledge`), the one
the API and `zhiku ingest` use; this page only draws and reports.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import streamlit as st

from app.errors import UserError
from app.knowledge.types import (
    SUPPORTED_SUFFIXES,
    DocumentInfo,
    IngestReport,
    RefusedUpload,
    UploadError,
)
from app.ui import conversations, faq_panel, kb_manage, permissions, resources, state, url_box
from app.ui.errors import UNSUPPORTED, message
from app.ui.i18n import _
from app.ui.progress import StreamlitProgress, keep_report, show_kept_report
from app.ui.reasons import file_reason, state_label
from app.ui.safe_text import escape_markdown, show_error

PREVIEW_CHUNKS = 20  # a preview, not a dump: the first chunks of a long document


def overview() -> None:
    """Every knowledge base: chunks, documents, last change, description."""
    knowledge = resources.knowledge()
    rows = []
    for info in knowledge.list_all():
        if not permissions.may("ask", info.name):
            continue
        documents = knowledge.documents(info.name)
        dates = [d.modified for d in documents if d.modified]
        rows.append({
            _("Knowledge base"): info.name,
            _("Documents"): len(documents),
            _("Chunks"): info.chunks,
            _("Last update"): when(max(dates)) if dates else "–",
            _("Description"): knowledge.description(info.name),
        })  # fmt: skip
    st.dataframe(rows, hide_index=True, width="stretch")  # a grid: text is never HTML


def when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def create_section() -> None:
    """A form that empties itself once submitted, so the old name is not left behind."""
    with st.expander(_("New knowledge base")), st.form("create_kb", clear_on_submit=True):
        name = st.text_input(
            _("Name"), key="new_kb_name", help=_("Chinese characters, letters, digits, . _ -")
        )
        description = st.text_input(_("Description (optional)"), key="new_kb_description")
        if st.form_submit_button(_("Create"), key="create_kb") and name.strip():
            create(name, description)


def create(name: str, description: str) -> None:
    knowledge = resources.knowledge()
    try:
        created = knowledge.create(name)
        knowledge.describe(created.name, description)
    except UserError as exc:
        show_error(exc)
        return
    permissions.audit("kb.create", created.name)
    state.switch_knowledge_base(created.name)
    conversations.start_new()  # a new knowledge base: a new conversation
    st.session_state["notice"] = _("Knowledge base {name} created.", name=created.name)
    for key in ("new_kb_name", "new_kb_description"):  # st.rerun comes before the form clears
        st.session_state.pop(key, None)
    st.rerun()


def uploader_css() -> None:
    """Streamlit writes its uploader's hints in English only ("Drag and drop files here",
    "200MB per file"), with its own limit rather than ours: they are hidden, and
    `upload_section` says the same in the visitor's language, with our limit."""
    button = json.dumps(_("Choose files"), ensure_ascii=False)
    st.html(
        "<style>[data-testid='stFileUploaderDropzoneInstructions']{display:none}"
        "[data-testid='stFileUploaderDropzone'] [data-testid='stBaseButton-secondary']>*"
        "{display:none}"
        "[data-testid='stFileUploaderDropzone'] [data-testid='stBaseButton-secondary']::after"
        f"{{content:{button};font-size:0.875rem}}</style>"
    )


def upload_section(collection: str) -> None:
    knowledge = resources.knowledge()
    limit = knowledge.upload_limit_mb(st.get_option("server.maxUploadSize"))
    generation = st.session_state.setdefault("upload_generation", 0)
    types = " ".join(sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES))
    st.subheader(_("Add documents"))
    hint = _("Drop files below or choose them: {types}, up to {limit} MB each.")
    st.caption(hint.format(types=types, limit=f"{limit:g}"))
    uploader_css()
    # No `type=` filter: Streamlit would reject other files with a bare English line; the
    # service's check says which types work instead, as soon as the files are chosen.
    files = st.file_uploader(
        _("Upload files"),
        accept_multiple_files=True,
        key=f"upload_{generation}",  # a new key empties the uploader after an ingest
        label_visibility="collapsed",
    )
    good = [f for f in files or [] if Path(f.name).suffix.lower() in SUPPORTED_SUFFIXES]
    problems = [unsupported(f.name, types) for f in files or [] if f not in good]
    for problem in problems:
        st.error(escape_markdown(problem))
    add = _("Add {count} files to {name}", count=len(good), name=collection)
    if not good or not st.button(add, key="ingest_uploads", type="primary"):
        return
    uploads = knowledge.save_uploads(collection, [(f.name, f.getvalue()) for f in good], limit)
    problems += [refusal(refused) for refused in uploads.refused]
    report = None
    if uploads.saved:
        report = run_ingest(lambda progress: knowledge.index_uploads(collection, progress))
        permissions.audit("kb.upload", collection, " ".join(uploads.saved)[:500])
        if report is None:  # its error is on the page: no rerun to wipe it
            return
    st.session_state["upload_generation"] = generation + 1
    keep_report(report, problems)
    st.rerun()  # the sidebar's count, an empty uploader


def refusal(refused: RefusedUpload) -> str:
    """A refused file's line: by ingest's reason code when a limit refused it, else by
    the upload check's own wording (app/ui/errors.py)."""
    return message(
        UploadError(refused.reason, refused.code, {"file": refused.file, **refused.params})
    )


def unsupported(name: str, types: str) -> str:
    """Said as soon as the file is chosen, before any button: the service's check."""
    suffix = Path(name).suffix.lower() or "–"
    return _(UNSUPPORTED, file=name, suffix=suffix, allowed=types)


def run_ingest(job) -> IngestReport | None:
    """Run an ingest job with a progress bar; known errors become one message."""
    progress = StreamlitProgress()
    try:
        report: IngestReport = job(progress)
    except UserError as exc:
        progress.finish()
        show_error(exc)
        return None
    progress.finish()
    return report


def documents_section(collection: str) -> None:
    knowledge = resources.knowledge()
    documents = knowledge.documents(collection)
    st.subheader(_("Documents ({count})", count=len(documents)))
    if not documents:
        st.caption(_("No documents yet."))
        return
    st.dataframe([document_row(d) for d in documents], hide_index=True, width="stretch")
    sources = [d.source for d in documents]
    source = st.selectbox(
        _("Choose a document"), sources, index=None, key="document_choice",
        placeholder=_("Choose a document to preview or delete"),
    )  # fmt: skip
    if source:
        if any(d.chunks for d in documents if d.source == source):  # a failed one has none
            preview(collection, source)
        if permissions.may("write", collection):
            delete_button(collection, source)


def document_row(document: DocumentInfo) -> dict:
    """One row: the status the last ingest left (ingest/status.py, read once for the
    table), with the reason in the visitor's language when it did not index the file."""
    size = f"{document.size_bytes / 1000:,.1f} KB" if document.size_bytes is not None else "–"
    status = state_label(document.state)
    if document.state in ("skipped", "failed"):
        status += ": " + file_reason(document.code, document.params, document.reason)
    return {
        _("Document"): document.source,
        _("Chunks"): document.chunks,
        _("Size"): size,
        _("Date"): when(document.modified) if document.modified else "–",
        _("Status"): status,
    }


def preview(collection: str, source: str) -> None:
    chunks = [chunk.text for chunk in resources.knowledge().chunks(collection, source)]
    with st.expander(_("Preview: {count} chunks in order", count=len(chunks)), expanded=True):
        for n, text in enumerate(chunks[:PREVIEW_CHUNKS], start=1):
            st.caption(f"#{n}")
            st.text(text)  # st.text: never Markdown or HTML
        if len(chunks) > PREVIEW_CHUNKS:
            st.caption(_("… and {more} more", more=len(chunks) - PREVIEW_CHUNKS))


def delete_button(collection: str, source: str) -> None:
    with st.popover(_("Delete this document"), icon="🗑"):
        st.caption(_("{source} and its chunks leave the knowledge base.", source=source))
        if st.button(_("Delete it"), key="delete_doc", type="primary"):
            delete(collection, source)


def delete(collection: str, source: str) -> None:
    try:
        deleted = resources.knowledge().delete_document(collection, source)
    except UserError as exc:
        show_error(exc)
        return
    permissions.audit("document.delete", collection, source)
    notice = _("Deleted {source} ({chunks} chunks).", source=source, chunks=deleted.chunks_deleted)
    if deleted.still_on_disk:
        notice += " " + _("Its file is still in its folder: a re-index adds it back.")
    st.session_state["notice"] = notice
    st.session_state.pop("document_choice", None)
    st.rerun()


def render() -> None:
    collection = st.session_state["kb"]
    st.title(_("Knowledge bases"))
    if notice := st.session_state.pop("notice", None):
        st.success(escape_markdown(notice))
    overview()
    if permissions.may("admin", None):  # a new knowledge base has no grants yet
        create_section()
    st.header(collection)
    kb_manage.render(collection)
    if permissions.may("write", collection):
        write_sections(collection)
    else:
        st.caption(_("You may ask here; an editor adds and removes documents."))
    documents_section(collection)
    if permissions.may("write", collection):  # FAQ entries are an editor's answers
        faq_panel.render(collection)


def write_sections(collection: str) -> None:
    """Upload, add web pages, re-index: for those who may write here."""
    upload_section(collection)
    url_box.url_section(collection, run_ingest)  # issue 25: web pages by URL
    show_kept_report()
    if st.button(_("Re-index (read all its folders again)"), key="reindex"):
        report = run_ingest(lambda progress: resources.knowledge().reindex(collection, progress))
        permissions.audit("kb.reindex", collection)
        if report is not None:
            keep_report(report, [])
            st.rerun()
