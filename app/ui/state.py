"""Session choices that survive page switches and reruns.

Streamlit forgets a widget's value when a run does not draw that widget (e.g. the
chat's strategy radio while the knowledge-base page is shown). Re-assigning each
choice at the start of every run turns it into plain session state, which persists;
defaults are set once, so widgets are created without a `value`/`index` (no warning).
"""

from __future__ import annotations

import streamlit as st

from app.models.hosted import hosted_endpoints
from app.settings import Settings

CHOICES = ("kb", "strategy", "k", "backend", "base_url", "temperature")
_PENDING_KB = "kb_pending"


def init_choices(settings: Settings) -> None:
    defaults = {
        "kb": settings.knowledge.collection,
        "strategy": settings.answering.strategy,
        "k": settings.retrieval.top_k,
        "backend": settings.chat_model.backend,
        "base_url": (hosted_endpoints(settings) or [""])[0],
        "temperature": settings.chat_model.temperature,
    }
    for key in CHOICES:
        st.session_state[key] = st.session_state.get(key, defaults[key])
    if _PENDING_KB in st.session_state:
        st.session_state["kb"] = st.session_state.pop(_PENDING_KB)


def switch_knowledge_base(name: str) -> None:
    """Select `name` in the picker on the next run (a drawn widget cannot be changed)."""
    st.session_state[_PENDING_KB] = name


def choices() -> dict:
    return {key: st.session_state[key] for key in CHOICES}
