"""Curate a knowledge base (issue 28): the retrieval test and a document's chunk fixes."""

import streamlit as st

from app.ui import chunks_panel, permissions, retrieval_test
from app.ui.i18n import _

collection = st.session_state["kb"]
st.title(_("Curate {name}", name=collection))
testing, fixing = st.tabs([_("Retrieval test"), _("Chunks")])
with testing:
    retrieval_test.render(collection)
with fixing:
    if permissions.may("write", collection):
        chunks_panel.render(collection)
    else:
        st.caption(_("An editor of this knowledge base fixes its chunks."))
