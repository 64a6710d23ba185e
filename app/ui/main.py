"""Streamlit entry point: `zhiku chat` runs `streamlit run app/ui/main.py`.

Two pages share one sidebar: the chat, and the knowledge-base manager.
"""

from __future__ import annotations

import streamlit as st

from app.errors import UserError
from app.ui import first_start, resources, state
from app.ui.i18n import _, init_language
from app.ui.safe_text import show_error
from app.ui.sidebar import knowledge_base_picker, language_switch

st.set_page_config(page_title="zhiku", page_icon="📚", layout="wide")
try:
    settings = resources.settings()
except UserError as exc:  # bad .env
    show_error(exc)
    st.stop()
init_language(settings.serving.language)
language_switch()
pages = st.navigation(
    [
        st.Page("views/chat.py", title=_("Chat"), icon="💬", default=True),
        st.Page("views/knowledge.py", title=_("Knowledge bases"), icon="📚"),
    ]
)
try:
    state.init_choices(settings)
    first_start.ingest_samples_if_empty(settings)
    knowledge_base_picker(settings)
except UserError as exc:  # bad .env, Chroma server down, …
    show_error(exc)
    st.stop()
pages.run()
