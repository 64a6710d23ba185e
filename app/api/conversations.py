"""Conversations over the API: a request may name a saved conversation to continue, or
`"conversation_id": "new"` to start one; the exchange is saved in the same store as
the chat's (`app.conversations`), so the web chat can show it when history is shared.

A named conversation's stored turns are the history (the request's earlier messages are
then ignored: the store is the record). Conversations made over the API belong to the
key that made them (owner `api:<digest of the key>`; another key gets 404), or to the
owner "api" on a server without keys: with `ZHIKU_SHARED_HISTORY` off, a browser's
conversations stay its own.
A database that cannot be written is logged in one line and the answer still returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.auth import API_OWNER, key_owner
from app.conversations.store import ConversationStoreError, open_conversation_store
from app.schema import AnswerResult
from app.settings import Settings

log = logging.getLogger("zhiku.api")
NEW = "new"
__all__ = ["API_OWNER", "NEW", "Thread", "key_owner", "response_field"]


class UnknownConversation(LookupError):
    """The request names a conversation the store does not have (404)."""


@dataclass
class Thread:
    """The conversation one request belongs to: where its exchange is saved."""

    settings: Settings
    collection: str
    conversation_id: str  # NEW until the first save
    owner: str = API_OWNER  # the key's owner name (app.api.server)
    saved_id: str | None = None  # the conversation the exchange went to; None: not saved

    def history(self) -> list[dict] | None:
        """The stored turns; None for a new conversation, or when the database cannot be
        read (the request's own messages are used, and the answer is not saved)."""
        if self.conversation_id == NEW:
            return None
        store = open_conversation_store(self.settings)
        # shared history opens the keyless API's conversations to the chat, never a key's
        shared = self.settings.conversations.shared_history and self.owner == API_OWNER
        owner = None if shared else self.owner
        try:
            conversation = store.get(self.conversation_id, owner)
        except ConversationStoreError as exc:
            log.warning("conversation not read: %s", exc)
            return None
        if conversation is None:
            raise UnknownConversation(f"no conversation {self.conversation_id!r}")
        return conversation.history()

    def save(self, question: str, result: AnswerResult, model: str) -> str | None:
        """Append the exchange; the conversation's id (None when it could not be saved)."""
        store = open_conversation_store(self.settings)
        try:
            if self.conversation_id == NEW:
                self.conversation_id = store.create(self.owner, question, self.collection)
            store.add_exchange(self.conversation_id, question, result, self.collection, model)
        except ConversationStoreError as exc:
            log.warning("answer not saved: %s", exc)
            return None
        self.saved_id = self.conversation_id
        return self.saved_id


def response_field(thread: Thread | None) -> dict:
    """The response's `conversation_id` (null when the exchange could not be saved);
    nothing when the request named no conversation. Read after the result arrived."""
    return {} if thread is None else {"conversation_id": thread.saved_id}
