"""Process-wide objects for the UI, created once (st.cache_resource): a rerun loads nothing."""

from __future__ import annotations

import streamlit as st

from app.answering.chain import RagChain, build_rag_chain
from app.settings import Settings, get_settings
from ingest.indexing import KnowledgeBase, open_knowledge_base


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner=False)
def first_start_done() -> list[str]:
    """Collections the first-start check has seen filled (once per process)."""
    return []


@st.cache_resource(show_spinner=False, max_entries=32)
def knowledge_base(collection: str) -> KnowledgeBase:
    """The writable side of a knowledge base (ingest, delete, re-index)."""
    return open_knowledge_base(settings(), collection)


@st.cache_resource(show_spinner="Loading the model and the knowledge base…", max_entries=16)
def chain(
    collection: str,
    strategy: str,
    k: int,
    backend: str,
    base_url: str,
    model: str,
    temperature: float,
) -> RagChain:
    """One chain per choice of sidebar options; models inside are shared (lru caches)."""
    base = settings()
    overrides = {"temperature": temperature, "hosted_base_url": base_url, "hosted_model": model}
    return build_rag_chain(
        base.model_copy(update=overrides),
        collection=collection,
        strategy=strategy,
        k=k,
        backend=backend,
    )
