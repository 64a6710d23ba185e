"""Sidebar widgets; their values live in session state (see app.ui.state).

A newcomer sees the language, the knowledge base and the conversations; the answer
settings a developer tunes (strategy, top-k, temperature) wait in a closed "Advanced"
box. Where answers are generated (backend, endpoint) is the operator's choice, made in
the environment, and never shown to visitors.
"""

from __future__ import annotations

import streamlit as st

from app.knowledge.service import KnowledgeBases
from app.settings import Settings
from app.ui import conversations, permissions
from app.ui.i18n import LANGUAGE_KEY, LANGUAGES, N_, _

STRATEGIES = {
    "grounded": N_("Answer from quoted sentences"),
    "zero-shot": N_("Answer directly"),
    "few-shot": N_("Answer after examples"),
    "cot": N_("Reason step by step"),
    "extractive": N_("Quote the passages only"),
}


def language_switch() -> None:
    """中文 / English, each written in its own language; drawn on every page."""
    with st.sidebar:
        st.radio(
            _("Language"),
            list(LANGUAGES),
            key=LANGUAGE_KEY,
            format_func=LANGUAGES.get,
            horizontal=True,
            label_visibility="collapsed",
        )


def knowledge_base_picker(settings: Settings) -> None:
    """The knowledge base both pages work on, with its size. Choosing another one starts
    a new, empty conversation: the open one stays in the saved list."""
    knowledge = KnowledgeBases(settings)
    names = permissions.askable(knowledge.names())
    # accounts on: only what is granted (an admin has every one, and may have none yet:
    # they create the first, as with accounts off)
    if permissions.principal() is not None and not permissions.is_admin():
        if not names:
            st.info(_("No knowledge base is shared with you yet: ask an admin for access."))
            st.stop()
        if st.session_state["kb"] not in names:
            st.session_state["kb"] = names[0]
    current = st.session_state["kb"]
    if current not in names:
        names = sorted([*names, current])
    with st.sidebar:
        st.selectbox(_("Knowledge base"), names, key="kb", on_change=conversations.start_new)
        size = knowledge.size(st.session_state["kb"])
        st.caption(_("{count} chunks", count=size))


def answer_options(settings: Settings) -> None:
    """Strategy, top-k and temperature, in a closed box under the conversations."""
    labels = {strategy: _(label) for strategy, label in STRATEGIES.items()}  # drawn now
    with st.sidebar.expander(_("Advanced"), expanded=False):
        st.radio(_("How to answer"), list(STRATEGIES), key="strategy", format_func=labels.get)
        st.slider(_("Passages to read"), 1, 10, key="k")
        st.slider(_("Temperature (0 = most predictable)"), 0.0, 1.0, step=0.05, key="temperature")
