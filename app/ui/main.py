"""Streamlit entry point: `zhiku chat` runs `streamlit run app/ui/main.py`.

The pages share one sidebar: the chat, the knowledge-base manager, curation, and for a
signed-in admin (`ZHIKU_AUTH=local`) the admin page.
"""

from __future__ import annotations

import streamlit as st

from app.errors import UserError
from app.ui import first_start, permissions, resources, state
from app.ui.i18n import _, init_language
from app.ui.safe_text import show_error
from app.ui.sidebar import knowledge_base_picker, language_switch
from app.ui.sign_in import require_sign_in

st.set_page_config(page_title="zhiku", page_icon="📚", layout="wide")
try:
    settings = resources.settings()
    init_language(settings.serving.language)
    language_switch()
    require_sign_in(settings)  # ZHIKU_AUTH=local: nothing below runs until sign-in
except UserError as exc:  # bad .env, the accounts database unreachable
    show_error(exc)
    st.stop()
views = [
    st.Page("views/chat.py", title=_("Chat"), icon="💬", default=True),
    st.Page("views/knowledge.py", title=_("Knowledge bases"), icon="📚"),
    st.Page("views/curate.py", title=_("Curate"), icon="🛠️"),  # issue 28
]
if permissions.is_admin():  # not even listed for anyone else; the page checks again
    views.append(st.Page("views/admin.py", title=_("Admin"), icon="🔑"))
pages = st.navigation(views)
try:
    state.init_choices(settings)
    first_start.ingest_samples_if_empty(settings)
    knowledge_base_picker(settings)
except UserError as exc:  # bad .env, Chroma server down, …
    show_error(exc)
    st.stop()
pages.run()
