"""Saved conversations in the chat: the list in the sidebar (open, rename, delete, export),
saving each answer, and 👍/👎 with a comment under every saved answer.

The database can fail (locked, read-only, corrupt): every call goes through `_safely`,
which turns `ConversationStoreError` into one line in the sidebar, and the chat goes on
answering without saving.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import streamlit as st

from app.conversations.export import to_markdown
from app.conversations.store import (
    Conversation,
    ConversationStore,
    ConversationStoreError,
    ConversationSummary,
    open_conversation_store,
)
from app.knowledge.service import KnowledgeBases
from app.models.chat import chat_backend
from app.schema import AnswerResult
from app.settings import Settings
from app.ui import faq_panel, permissions, resources, state
from app.ui.browser import browser_id
from app.ui.errors import message
from app.ui.i18n import _
from app.ui.safe_text import escape_markdown, file_name_from_title

T = TypeVar("T")
ERROR_KEY = "conversation_error"


def _store() -> ConversationStore:
    return open_conversation_store(resources.settings())


def _owner(settings: Settings) -> str | None:
    """None lists every conversation (shared history); else the signed-in account's, or
    with accounts off this browser's."""
    if (account := permissions.owner()) is not None:
        return account
    return None if settings.conversations.shared_history else browser_id()


def _safely(action: Callable[[], T], fallback: T) -> T:
    try:
        return action()
    except ConversationStoreError as exc:
        st.session_state[ERROR_KEY] = message(exc)
        return fallback


def start_new() -> None:
    st.session_state.conversation_id = None
    st.session_state.messages = []


def open_conversation(conversation_id: str) -> None:
    """Show a saved conversation (its follow-ups see its history) on its knowledge base."""
    settings = resources.settings()
    conversation = _safely(lambda: _store().get(conversation_id, _owner(settings)), None)
    if conversation is None:
        return
    st.session_state.conversation_id = conversation.id
    st.session_state.messages = _as_messages(conversation)
    if conversation.knowledge_base in KnowledgeBases(settings).names():
        state.switch_knowledge_base(conversation.knowledge_base)


def _as_messages(conversation: Conversation) -> list[dict]:
    return [
        {"role": m.role, "content": m.content, "result": m.result, "message_id": m.id,
         "rating": m.rating, "comment": m.comment, "knowledge_base": m.knowledge_base}
        for m in conversation.messages
    ]  # fmt: skip


def save_exchange(question: str, result: AnswerResult, choice: dict) -> int | None:
    """Save a question and its answer in the open conversation (made on the first one);
    the answer's id, or None when the database cannot be written."""
    settings = resources.settings()
    model = chat_backend(settings, choice["backend"]).display_name

    def save() -> int:
        store = _store()
        if not st.session_state.get("conversation_id"):
            owner = permissions.owner() or browser_id()
            st.session_state.conversation_id = store.create(owner, question, choice["collection"])
        return store.add_exchange(
            st.session_state.conversation_id, question, result, choice["collection"], model
        )

    return _safely(save, None)


def feedback(message: dict) -> None:
    """👍/👎 under a saved answer, and a comment box once it is rated."""
    message_id = message.get("message_id")
    if message_id is None:
        return
    rating = st.feedback(
        "thumbs",
        key=f"rating-{message_id}",
        default=message.get("rating"),
        on_change=_rate,
        args=(message,),
    )
    if rating is None:
        return
    st.caption(_("You rated this answer {mark}. Thank you!", mark="👍" if rating else "👎"))
    st.text_input(
        _("Comment (optional, Enter saves)"),
        value=message.get("comment") or "",
        key=f"comment-{message_id}",
        on_change=_rate,
        args=(message,),
    )
    if message.get("comment"):
        st.caption("✓ " + _("Comment saved."))
    if permissions.may("write", st.session_state["kb"]):  # an FAQ entry is an editor's
        faq_panel.write_right_answer(message)  # under a 👎: the answer it should have been


def _rate(message: dict) -> None:
    message_id = message["message_id"]
    rating = st.session_state[f"rating-{message_id}"]
    comment = st.session_state.get(f"comment-{message_id}", "") if rating is not None else ""
    _safely(lambda: _store().rate(message_id, rating, comment), None)
    message["rating"], message["comment"] = rating, comment


def sidebar(settings: Settings) -> None:
    """New conversation, the list newest first, and what to do with the open one
    (drawn where the caller is: the top of the sidebar)."""
    st.subheader(_("Conversations"))
    st.button("➕ " + _("New conversation"), key="new", on_click=start_new)
    current = st.session_state.get("conversation_id")
    none: list[ConversationSummary] = []
    summaries = _safely(lambda: _store().list(_owner(settings)), none)
    if len(summaries) > 3:
        st.text_input(
            _("Search conversations"), key="conversation_search", label_visibility="collapsed",
            placeholder="🔍 " + _("Search conversations"),
        )  # fmt: skip
    for summary in matching(summaries, st.session_state.get("conversation_search", "")):
        conversation_button(summary, summary.id == current)
    if current:
        _manage(current, settings)
    if st.session_state.get(ERROR_KEY):
        st.warning(escape_markdown(st.session_state.pop(ERROR_KEY)), icon="⚠️")


def matching(summaries: list[ConversationSummary], search: str) -> list[ConversationSummary]:
    words = search.casefold().split()
    return [s for s in summaries if all(w in s.title.casefold() for w in words)]


def conversation_button(summary: ConversationSummary, is_open: bool) -> None:
    """Title and time on one line, so two of the same title differ; the open one is
    marked and framed, the others plain (never red: red reads as an error)."""
    when = datetime.fromtimestamp(summary.updated_at).strftime("%m-%d %H:%M")
    st.button(
        f"{'▸ ' if is_open else ''}{escape_markdown(summary.title)} :gray[· {when}]",
        key=f"open-{summary.id}",
        help=_("Knowledge base: {name}", name=summary.knowledge_base),
        type="secondary" if is_open else "tertiary",
        width="stretch",
        on_click=open_conversation,
        args=(summary.id,),
    )


def _manage(conversation_id: str, settings: Settings) -> None:
    conversation = _safely(lambda: _store().get(conversation_id, _owner(settings)), None)
    if conversation is None:
        return
    with st.expander(_("This conversation"), expanded=False):
        st.text_input(_("Title"), value=conversation.title, key=f"title-{conversation_id}")
        st.button(_("Rename"), key="rename", on_click=_rename, args=(conversation_id,))
        st.download_button(
            _("Export as Markdown"),
            data=to_markdown(conversation),
            file_name=file_name_from_title(conversation.title),
            mime="text/markdown",
            key="export",
        )
        with st.popover("🗑 " + _("Delete")):
            st.caption(_("A deleted conversation cannot be restored."))
            st.button(
                _("Delete this conversation"), key="delete", on_click=_delete,
                args=(conversation_id,),
            )  # fmt: skip


def _rename(conversation_id: str) -> None:
    title = st.session_state.get(f"title-{conversation_id}", "")
    _safely(lambda: _store().rename(conversation_id, title), None)


def _delete(conversation_id: str) -> None:
    _safely(lambda: _store().delete(conversation_id), None)
    start_new()


def missing_knowledge_base_note(settings: Settings) -> str | None:
    """A note when the open conversation used a knowledge base that has been deleted."""
    used = {m["knowledge_base"] for m in st.session_state.get("messages", [])
            if m.get("knowledge_base")}  # fmt: skip
    gone = sorted(used - set(KnowledgeBases(settings).names()))
    if not gone:
        return None
    return _(
        "The knowledge base {names} of this conversation was deleted: the conversation stays"
        " readable, and new questions use the knowledge base selected now.",
        names=", ".join(gone),
    )
