"""Process-wide objects for the UI, created once (st.cache_resource): a rerun loads nothing."""

from __future__ import annotations

import streamlit as st

from app.answering.chain import RagChain, build_rag_chain
from app.knowledge.service import KnowledgeBases
from app.models.backend import ChatModelError
from app.models.chat import chat_backend, offered_backends
from app.settings import Settings, get_settings


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner=False)
def first_start_done() -> list[str]:
    """Collections the first-start check has seen filled (once per process)."""
    return []


@st.cache_resource(show_spinner=False)
def knowledge() -> KnowledgeBases:
    """The knowledge-base service (create, upload, delete, re-index; the API's too)."""
    return KnowledgeBases(settings())


@st.cache_resource(show_spinner=False, max_entries=16)  # the chat shows its own status
def chain(
    collection: str,
    strategy: str,
    k: int,
    backend: str,
    base_url: str,
    temperature: float,
    identity: str = "",
) -> RagChain:
    """One chain per choice of sidebar options (and collection id: a knowledge base
    renamed, or deleted and made again, under a name gets a chain of its own). All of
    them share one model per file (app.models.chat): the temperature is passed with
    each call, so 16 chains hold one copy of the weights. The backend and endpoint are
    checked against what the operator configured, the key sent only to its own
    endpoint."""
    base = settings()
    if backend not in offered_backends(base):
        raise ChatModelError(f"the {backend} backend is not configured here")
    chosen = base.updated(**{"temperature": temperature})
    chat = chat_backend(chosen, backend).at_endpoint(base_url)
    return build_rag_chain(
        chat.settings, collection=collection, strategy=strategy, k=k, backend=chat
    )
