"""Rename or delete the knowledge base shown on the Knowledge bases page (admins; everyone
with accounts off). Both go through the knowledge-base service, which moves or removes
everything kept under the name, grants and keys included; this module asks first, and
then makes the session follow: the picker, and the open conversation.
"""

from __future__ import annotations

import streamlit as st

from app.errors import UserError
from app.ui import conversations, permissions, resources, state
from app.ui.i18n import _
from app.ui.safe_text import show_error


def render(collection: str) -> None:
    """Two closed boxes under the knowledge base's name: nothing happens by one click."""
    if not permissions.may("admin", collection) or not resources.knowledge().exists(collection):
        return  # the picker's default before it is made: nothing to rename yet
    # keyed: it stays open across the reruns its own widgets cause
    with st.expander(_("Rename or delete this knowledge base"), key=f"kb_manage_{collection}"):
        rename_form(collection)
        st.divider()
        delete_form(collection)


def rename_form(collection: str) -> None:
    with st.form(f"rename_kb_{collection}"):
        new = st.text_input(
            _("New name"),
            value=collection,
            key=f"rename_kb_name_{collection}",
            help=_("Chinese characters, letters, digits, . _ -"),
        )
        if st.form_submit_button(_("Rename"), key="rename_kb") and new.strip() != collection:
            rename(collection, new)


def rename(collection: str, new: str) -> None:
    try:
        renamed = resources.knowledge().rename(collection, new)
    except UserError as exc:
        show_error(exc)
        return
    permissions.audit("kb.rename", collection, renamed.name)
    for message in st.session_state.get("messages", []):  # the open conversation follows
        if message.get("knowledge_base") == collection:
            message["knowledge_base"] = renamed.name
    state.switch_knowledge_base(renamed.name)
    st.session_state["notice"] = _("Renamed {old} to {new}.", old=collection, new=renamed.name)
    st.rerun()


def delete_form(collection: str) -> None:
    """Deleted only when the name is typed: one form, so typing and the click are one
    step (no rerun in between to lose either)."""
    with st.form(f"delete_kb_{collection}"):
        st.caption(
            _(
                "Deleting removes its documents, uploaded files, FAQ entries and access grants."
                " Conversations stay readable. It cannot be undone."
            )
        )
        typed = st.text_input(
            _("Type {name} to confirm", name=collection), key=f"delete_kb_confirm_{collection}"
        )
        if st.form_submit_button(_("Delete knowledge base"), key="delete_kb", type="primary"):
            if typed.strip() == collection:
                delete(collection)
            else:
                st.warning(_("Type the name exactly as shown to delete it."))


def delete(collection: str) -> None:
    knowledge = resources.knowledge()
    try:
        knowledge.delete(collection)
    except UserError as exc:
        show_error(exc)
        return
    permissions.audit("kb.delete", collection)
    used = {m.get("knowledge_base") for m in st.session_state.get("messages", [])}
    if collection in used:  # the open conversation was on it: start afresh
        conversations.start_new()
    left = permissions.askable(knowledge.names())
    state.switch_knowledge_base(left[0] if left else resources.settings().knowledge.collection)
    st.session_state["notice"] = _("Deleted knowledge base {name}.", name=collection)
    st.rerun()
