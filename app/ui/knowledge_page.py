"""Knowledge-base page: create one, upload files, watch them index, list, delete, re-index.

Every write goes through the ingest pipeline the CLI uses (ingest_paths, delete_source,
reindex); this page only saves uploads into the knowledge base's folder and draws.
"""

from __future__ import annotations

import streamlit as st

from app.errors import UserError
from app.settings import validate_collection_name
from app.store.knowledge_bases import chunk_counts
from app.ui import resources, state
from app.ui.progress import StreamlitProgress, show_report
from app.ui.safe_text import escape_markdown, show_error
from ingest.indexing import delete_source, ingest_paths, reindex
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.roots import locate_source
from ingest.uploads import (
    delete_upload,
    save_upload,
    upload_folder,
    upload_limit_mb,
)


def create_section() -> None:
    with st.expander("新建知识库 New knowledge base"):
        name = st.text_input("名称 Name (中文, letters, digits, . _ -)", key="new_kb_name")
        if st.button("创建 Create", key="create_kb") and name:
            try:
                validate_collection_name(name.strip())
                resources.knowledge_base(name.strip())  # creates the collection
            except UserError as exc:
                show_error(exc)
                return
            upload_folder(resources.settings(), name.strip()).mkdir(parents=True, exist_ok=True)
            state.switch_knowledge_base(name.strip())
            st.rerun()


def upload_section(collection: str) -> None:
    settings = resources.settings()
    limit = upload_limit_mb(settings, st.get_option("server.maxUploadSize"))
    generation = st.session_state.setdefault("upload_generation", 0)
    types = " ".join(sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES))
    # No `type=` filter: Streamlit would reject other files with a bare exception; the
    # check in save_upload says which types work instead.
    files = st.file_uploader(
        f"上传文件 Upload files: {types} (≤ {limit:g} MB each)",
        accept_multiple_files=True,
        key=f"upload_{generation}",  # a new key empties the uploader after an ingest
    )
    if not files or not st.button("导入 Add to knowledge base", key="ingest_uploads"):
        return
    saved = 0
    for file in files:
        try:
            save_upload(settings, collection, file.name, file.getvalue(), limit)
            saved += 1
        except UserError as exc:
            show_error(exc)
    if saved:
        run_ingest(
            lambda kb, progress: ingest_paths(
                kb, [upload_folder(settings, collection)], progress=progress
            ),
            collection,
        )
        st.session_state["upload_generation"] = generation + 1


def run_ingest(job, collection: str) -> None:
    """Run an ingest job with a progress bar; known errors become one message."""
    progress = StreamlitProgress()
    try:
        report = job(resources.knowledge_base(collection), progress)
    except UserError as exc:
        progress.finish()
        show_error(exc)
        return
    progress.finish()
    show_report(report)


def documents_section(collection: str) -> None:
    settings = resources.settings()
    kb = resources.knowledge_base(collection)
    counts = chunk_counts(kb.store)
    st.subheader(f"文档 Documents ({len(counts)})")
    if not counts:
        st.caption("还没有文档 No documents yet.")
        return
    rows = [
        {"文档 document": source, "片段 chunks": count} for source, count in sorted(counts.items())
    ]
    st.dataframe(rows, hide_index=True, width="stretch")  # a grid: text is never HTML
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    source = left.selectbox("删除文档 Delete a document", sorted(counts), key="delete_choice")
    if right.button("删除 Delete", key="delete_doc", type="secondary"):
        try:
            removed_file = delete_upload(settings, collection, source)
            removed = delete_source(kb, source)
        except UserError as exc:
            show_error(exc)
            return
        st.session_state["notice"] = f"已删除 deleted {source} ({removed} chunks)"
        if not removed_file and locate_source(settings, collection, source):
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
        run_ingest(lambda kb, progress: reindex(kb, progress=progress), collection)
    documents_section(collection)
