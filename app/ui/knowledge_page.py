"""Knowledge-base page: create one, upload files, watch them index, list, delete, re-index.

Every read and write goes through the knowledge-base service (`app.knowledge`), the one
the API and `zhiku ingest` use; this page only draws and reports.
"""

from __future__ import annotations

import streamlit as st

from app.errors import UserError
from app.knowledge.types import SUPPORTED_SUFFIXES, UploadError
from app.ui import faq_panel, resources, state
from app.ui.progress import StreamlitProgress, show_report
from app.ui.safe_text import escape_markdown, show_error


def create_section() -> None:
    with st.expander("新建知识库 New knowledge base"):
        name = st.text_input("名称 Name (中文, letters, digits, . _ -)", key="new_kb_name")
        if st.button("创建 Create", key="create_kb") and name:
            try:
                created = resources.knowledge().create(name)
            except UserError as exc:
                show_error(exc)
                return
            state.switch_knowledge_base(created.name)
            st.rerun()


def upload_section(collection: str) -> None:
    knowledge = resources.knowledge()
    limit = knowledge.upload_limit_mb(st.get_option("server.maxUploadSize"))
    generation = st.session_state.setdefault("upload_generation", 0)
    types = " ".join(sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES))
    # No `type=` filter: Streamlit would reject other files with a bare exception; the
    # service's check says which types work instead.
    files = st.file_uploader(
        f"上传文件 Upload files: {types} (≤ {limit:g} MB each)",
        accept_multiple_files=True,
        key=f"upload_{generation}",  # a new key empties the uploader after an ingest
    )
    if not files or not st.button("导入 Add to knowledge base", key="ingest_uploads"):
        return
    uploads = knowledge.save_uploads(collection, [(f.name, f.getvalue()) for f in files], limit)
    for refused in uploads.refused:
        show_error(UploadError(refused.reason))
    if uploads.saved:
        run_ingest(lambda progress: knowledge.index_uploads(collection, progress))
        st.session_state["upload_generation"] = generation + 1


def run_ingest(job) -> None:
    """Run an ingest job with a progress bar; known errors become one message."""
    progress = StreamlitProgress()
    try:
        report = job(progress)
    except UserError as exc:
        progress.finish()
        show_error(exc)
        return
    progress.finish()
    show_report(report)


def documents_section(collection: str) -> None:
    knowledge = resources.knowledge()
    documents = knowledge.documents(collection)
    st.subheader(f"文档 Documents ({len(documents)})")
    if not documents:
        st.caption("还没有文档 No documents yet.")
        return
    rows = [{"文档 document": d.source, "片段 chunks": d.chunks} for d in documents]
    st.dataframe(rows, hide_index=True, width="stretch")  # a grid: text is never HTML
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    sources = [d.source for d in documents]
    source = left.selectbox("删除文档 Delete a document", sources, key="delete_choice")
    if right.button("删除 Delete", key="delete_doc", type="secondary"):
        try:
            deleted = knowledge.delete_document(collection, source)
        except UserError as exc:
            show_error(exc)
            return
        st.session_state["notice"] = f"已删除 deleted {source} ({deleted.chunks_deleted} chunks)"
        if deleted.still_on_disk:
            st.session_state["notice"] += "; the file is still in its folder: re-index adds it back"
        st.rerun()


def render() -> None:
    collection = st.session_state["kb"]
    st.title("知识库 Knowledge bases")
    if notice := st.session_state.pop("notice", None):
        st.success(escape_markdown(notice))
    create_section()
    st.header(collection)
    upload_section(collection)
    if st.button("重新索引 Re-index (read all folders again)", key="reindex"):
        run_ingest(lambda progress: resources.knowledge().reindex(collection, progress))
    documents_section(collection)
    faq_panel.render(collection)
