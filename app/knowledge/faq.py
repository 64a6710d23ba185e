"""The FAQ of a knowledge base, as the chat page, the HTTP API and `zhiku faq` change it:
one service, so an entry added through any door is checked, embedded and stored the same
way (and the answering chain matches it on the next question, in any process).

Every call names the knowledge base and checks it exists; an entry id is looked up in
that knowledge base only, so an id from another one is "not found".
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.faq.importing import parse_sheet
from app.faq.matching import embed_entries, embed_questions
from app.faq.store import (
    FaqDraft,
    FaqDuplicate,
    FaqEntry,
    FaqError,
    FaqNotFound,
    duplicate,
    open_faq_store,
)
from app.models.embeddings import embedding_id, make_embeddings
from app.settings import Settings, validate_collection_name
from app.store.knowledge_bases import list_collections

__all__ = [
    "FaqDraft",
    "FaqDuplicate",
    "FaqEntry",
    "FaqError",
    "FaqImport",
    "FaqNotFound",
    "FaqService",
]

IMPORT_BATCH = 256  # rows embedded together and written in one transaction (memory bound)


@dataclass(frozen=True)
class FaqImport:
    """An import's outcome: entries added, one line per row left out, seconds taken."""

    added: int
    errors: list[str]
    seconds: float


class FaqService:
    """Reads and writes the FAQ entries of the knowledge bases these settings name."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = open_faq_store(settings)

    def _kb(self, name: str) -> str:
        name = validate_collection_name(name)
        if name not in list_collections(self.settings):
            raise FaqNotFound(f"no knowledge base named {name!r}")
        return name

    def _embed(self, texts: list[str]) -> tuple[np.ndarray, str]:
        embeddings = make_embeddings(self.settings)
        return embed_questions(embeddings, texts), embedding_id(embeddings)

    def list(self, knowledge_base: str, query: str = "") -> list[FaqEntry]:
        """Newest first; `query` keeps entries whose question or answer contains it."""
        return self.store.entries(self._kb(knowledge_base), query.strip())

    def every_entry(self) -> builtins.list[FaqEntry]:
        """Every knowledge base's entries (an export of the team's corrections)."""
        return self.store.every_entry()

    def get(self, knowledge_base: str, entry_id: int) -> FaqEntry:
        return self.store.get(self._kb(knowledge_base), entry_id)

    def add(self, knowledge_base: str, draft: FaqDraft, author: str) -> FaqEntry:
        """A new entry; a question already there is refused with the entry to edit."""
        name, draft = self._kb(knowledge_base), draft.checked()
        existing = self.store.find(name, draft.question)
        if existing is not None:  # before embedding: say so at once
            raise duplicate(draft.question, existing.id)
        vectors, model = self._embed([draft.question, *draft.phrasings])
        return self.store.add(name, draft, author.strip() or "anonymous", vectors, model)

    def update(self, knowledge_base: str, entry_id: int, draft: FaqDraft, author: str) -> FaqEntry:
        name, draft = self._kb(knowledge_base), draft.checked()
        self.store.get(name, entry_id)  # not found: said before embedding
        vectors, model = self._embed([draft.question, *draft.phrasings])
        return self.store.update(
            name, entry_id, draft, author.strip() or "anonymous", vectors, model
        )

    def save_answer(self, knowledge_base: str, question: str, answer: str, author: str) -> FaqEntry:
        """The right answer to a question (from the chat, under a 👎): a new entry, or
        the existing entry of that question with this answer."""
        name = self._kb(knowledge_base)
        existing = self.store.find(name, question)
        if existing is None:
            return self.add(name, FaqDraft(question, answer), author)
        draft = FaqDraft(existing.question, answer, existing.phrasings, existing.source)
        return self.update(name, existing.id, draft, author)

    def delete(self, knowledge_base: str, entry_id: int) -> None:
        self.store.delete(self._kb(knowledge_base), entry_id)

    def check_sheet(self, knowledge_base: str, filename: str, data: bytes) -> int:
        """The rows a file would add (no model, a few seconds for 10,000): an unreadable
        file or unknown knowledge base is refused before any import job is queued."""
        name = self._kb(knowledge_base)
        return len(parse_sheet(filename, data, self.store.existing_keys(name)).drafts)

    def import_file(
        self,
        knowledge_base: str,
        filename: str,
        data: bytes,
        author: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> FaqImport:
        """The good rows of a csv/xlsx file added, each bad one a line in `errors`;
        `progress(added, to_add)` after each batch. A batch of rows is embedded together
        (a few model calls, not one per question) and written in one transaction."""
        started, name = time.perf_counter(), self._kb(knowledge_base)
        parsed = parse_sheet(filename, data, self.store.existing_keys(name))
        embeddings, added = make_embeddings(self.settings), 0
        for start in range(0, len(parsed.drafts), IMPORT_BATCH):
            batch = parsed.drafts[start : start + IMPORT_BATCH]
            blocks = embed_entries(embeddings, [[d.question, *d.phrasings] for d in batch])
            added += self.store.add_many(
                name, batch, author.strip() or "import", blocks, embedding_id(embeddings)
            )
            if progress is not None:
                progress(added, len(parsed.drafts))
        return FaqImport(added, parsed.errors, round(time.perf_counter() - started, 3))
