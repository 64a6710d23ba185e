"""The FAQ store: curated question/answer entries per knowledge base, in SQL (SQLite in
the data folder by default, any SQLAlchemy URL through `ZHIKU_FAQ_URL`).

Each row keeps its question vectors (the question and every alternative phrasing,
float32, embedded by the model retrieval uses) beside the text, in the same transaction:
an entry and its vectors can never disagree, and the FAQ of a team on PostgreSQL needs no
Chroma server. Why not a Chroma collection per knowledge base: it would be listed as one
more knowledge base, and kept in step with these rows by hand; an FAQ is small (10,000
entries x 3 phrasings x 384 floats = 46 MB at most), so exact cosine over all of them
in numpy takes milliseconds (`app.faq.matching`).

Questions are unique per knowledge base after normalising (case, width, spacing,
punctuation), so "什么是RAG？" and "什么是 rag" are one entry: adding it again is refused
with the id of the entry to edit instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from sqlalchemy import (
    JSON,
    Float,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from app.errors import UserError
from app.faq.text import question_key
from app.once import once_per_arguments
from app.settings import Settings
from app.sql import LazyTables, engine, first_line, make_sqlite_folder

MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 20_000
MAX_PHRASINGS = 20


class FaqError(UserError, ValueError):
    """A bad FAQ entry (empty, too long, a duplicate) or an unusable FAQ database."""


class FaqNotFound(FaqError, LookupError):
    """No such entry in this knowledge base."""


class FaqDuplicate(FaqError):
    """The question is already an entry of this knowledge base (names the entry)."""


class _Base(DeclarativeBase):
    pass


class _Entry(_Base):
    __tablename__ = "faq_entries"
    __table_args__ = (UniqueConstraint("knowledge_base", "question_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    knowledge_base: Mapped[str] = mapped_column(String(200), index=True)
    question: Mapped[str] = mapped_column(Text)
    question_key: Mapped[str] = mapped_column(String(MAX_QUESTION_CHARS))
    phrasings: Mapped[list] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float, index=True)
    # float32 rows, one per question text (the question, then each phrasing)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    dim: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[str] = mapped_column(String(200))  # the model that made them


@dataclass(frozen=True)
class FaqEntry:
    """One curated answer, as every caller sees it."""

    id: int
    knowledge_base: str
    question: str
    phrasings: tuple[str, ...]
    answer: str
    source: str
    author: str
    created_at: float
    updated_at: float

    def questions(self) -> list[str]:
        """The question and its phrasings, in the order their vectors are stored."""
        return [self.question, *self.phrasings]


@dataclass(frozen=True)
class FaqDraft:
    """What a person writes: checked by `checked()` before anything is stored."""

    question: str
    answer: str
    phrasings: tuple[str, ...] = ()
    source: str = ""

    def checked(self) -> FaqDraft:
        """Trimmed, with empty and repeated phrasings dropped; a one-line error if bad."""
        question, answer = " ".join(self.question.split()), self.answer.strip()
        if not question:
            raise FaqError("the question is empty")
        if not answer:
            raise FaqError(f"the answer to {question[:60]!r} is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise FaqError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        if len(answer) > MAX_ANSWER_CHARS:
            raise FaqError(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
        seen, phrasings = {question_key(question)}, []
        for text in (" ".join(p.split()) for p in self.phrasings):
            if text and question_key(text) not in seen and len(text) <= MAX_QUESTION_CHARS:
                seen.add(question_key(text))
                phrasings.append(text)
        if len(phrasings) > MAX_PHRASINGS:
            raise FaqError(f"more than {MAX_PHRASINGS} alternative phrasings")
        return FaqDraft(question, answer, tuple(phrasings), self.source.strip())


@dataclass(frozen=True)
class FaqVectors:
    """A knowledge base's question vectors as one matrix, and whose row is whose."""

    matrix: np.ndarray  # (rows, dim) float32, unit length
    entry_ids: np.ndarray  # (rows,) the entry of each row
    version: tuple[int, float]  # (entries, last change): what a cache follows


class FaqStore:
    """Reads and writes FAQ entries; each call is one short transaction."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self._engine = engine(url, timeout_s)
        self._tables = LazyTables(url, _Base.metadata, timeout_s)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            self._tables.ensure()
            with Session(self._engine, expire_on_commit=False) as session, session.begin():
                yield session
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise FaqError(f"FAQ database cannot be used: {first_line(exc)}") from None

    # Reads

    def entries(self, knowledge_base: str, query: str = "") -> list[FaqEntry]:
        """Newest first; `query` keeps entries whose question or answer contains it."""
        stmt = select(_Entry).where(_Entry.knowledge_base == knowledge_base)
        if query:
            like = f"%{query}%"
            stmt = stmt.where(_Entry.question.like(like) | _Entry.answer.like(like))
        with self._session() as session:
            return [_entry(row) for row in session.scalars(stmt.order_by(_Entry.id.desc()))]

    def every_entry(self) -> list[FaqEntry]:
        """Every entry of every knowledge base, oldest first (what an export writes)."""
        stmt = select(_Entry).order_by(_Entry.knowledge_base, _Entry.id)
        with self._session() as session:
            return [_entry(row) for row in session.scalars(stmt)]

    def get(self, knowledge_base: str, entry_id: int) -> FaqEntry:
        with self._session() as session:
            return _entry(self._row(session, knowledge_base, entry_id))

    def find(self, knowledge_base: str, question: str) -> FaqEntry | None:
        """The entry whose question is this one (after normalising), if any."""
        stmt = select(_Entry).where(
            _Entry.knowledge_base == knowledge_base,
            _Entry.question_key == question_key(question),
        )
        with self._session() as session:
            row = session.scalars(stmt).first()
            return _entry(row) if row else None

    def version(self, knowledge_base: str) -> tuple[int, float]:
        """(entries, last change): changes with every add, edit and delete."""
        stmt = select(func.count(), func.max(_Entry.updated_at)).where(
            _Entry.knowledge_base == knowledge_base
        )
        with self._session() as session:
            count, last = session.execute(stmt).one()
            return int(count or 0), float(last or 0.0)

    def vectors(self, knowledge_base: str, embedding: str) -> tuple[FaqVectors, list[int]]:
        """The question vectors made by `embedding`, and the entries whose vectors were
        made by another model (to embed again)."""
        stmt = select(_Entry.id, _Entry.vectors, _Entry.dim, _Entry.embedding).where(
            _Entry.knowledge_base == knowledge_base
        )
        version = self.version(knowledge_base)
        blocks, ids, stale = [], [], []
        with self._session() as session:
            for entry_id, blob, dim, model in session.execute(stmt):
                if model != embedding:
                    stale.append(entry_id)
                    continue
                block = np.frombuffer(blob, dtype=np.float32).reshape(-1, dim)
                blocks.append(block)
                ids.append(np.full(len(block), entry_id))
        matrix = np.vstack(blocks) if blocks else np.zeros((0, 1), np.float32)
        entry_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        return FaqVectors(matrix, entry_ids, version), stale

    # Writes

    def add(
        self, knowledge_base: str, draft: FaqDraft, author: str, vectors: np.ndarray, embedding: str
    ) -> FaqEntry:
        """A new entry; a question already in the knowledge base is refused, naming it."""
        draft = draft.checked()
        now = time.time()
        row = _Entry(
            knowledge_base=knowledge_base,
            question=draft.question,
            question_key=question_key(draft.question),
            phrasings=list(draft.phrasings),
            answer=draft.answer,
            source=draft.source,
            author=author,
            created_at=now,
            updated_at=now,
            **_vector_columns(vectors, embedding),
        )
        try:
            with self._session() as session:
                session.add(row)
                session.flush()
                return _entry(row)
        except IntegrityError:
            raise self._duplicate(knowledge_base, draft.question) from None

    def update(
        self,
        knowledge_base: str,
        entry_id: int,
        draft: FaqDraft,
        author: str,
        vectors: np.ndarray,
        embedding: str,
    ) -> FaqEntry:
        """The entry rewritten (its creation time kept); the editor becomes its author."""
        draft = draft.checked()
        try:
            with self._session() as session:
                row = self._row(session, knowledge_base, entry_id)
                row.question, row.question_key = draft.question, question_key(draft.question)
                row.phrasings, row.answer = list(draft.phrasings), draft.answer
                row.source, row.author = draft.source, author
                row.updated_at = max(time.time(), row.updated_at + 1e-6)
                for key, value in _vector_columns(vectors, embedding).items():
                    setattr(row, key, value)
                session.flush()
                return _entry(row)
        except IntegrityError:
            raise self._duplicate(knowledge_base, draft.question) from None

    def set_vectors(
        self, knowledge_base: str, vectors: Mapping[int, np.ndarray], embedding: str
    ) -> None:
        """Entries' vectors made again by another embedding model, in one transaction;
        the entries are otherwise unchanged (one deleted meanwhile is skipped)."""
        with self._session() as session:
            for entry_id, block in vectors.items():
                row = session.get(_Entry, entry_id)
                if row is None or row.knowledge_base != knowledge_base:
                    continue
                for key, value in _vector_columns(block, embedding).items():
                    setattr(row, key, value)

    def delete(self, knowledge_base: str, entry_id: int) -> None:
        with self._session() as session:
            session.delete(self._row(session, knowledge_base, entry_id))

    def delete_all(self, knowledge_base: str) -> int:
        """Every entry of a knowledge base (when it is deleted); how many there were."""
        with self._session() as session:
            stmt = select(_Entry).where(_Entry.knowledge_base == knowledge_base)
            rows = list(session.scalars(stmt))
            for row in rows:
                session.delete(row)
            return len(rows)

    def rename_knowledge_base(self, old: str, new: str) -> int:
        """A renamed knowledge base keeps its entries (a no-op once done); how many moved."""
        with self._session() as session:
            rows = list(session.scalars(select(_Entry).where(_Entry.knowledge_base == old)))
            for row in rows:
                row.knowledge_base = new
            return len(rows)

    def existing_keys(self, knowledge_base: str) -> set[str]:
        """The normalised questions already stored (an import checks its rows against them)."""
        stmt = select(_Entry.question_key).where(_Entry.knowledge_base == knowledge_base)
        with self._session() as session:
            return set(session.scalars(stmt))

    def add_many(
        self,
        knowledge_base: str,
        drafts: Sequence[FaqDraft],
        author: str,
        vectors: Sequence[np.ndarray],
        embedding: str,
    ) -> int:
        """Checked, de-duplicated drafts in one transaction (an import); how many."""
        now = time.time()
        rows = [
            _Entry(
                knowledge_base=knowledge_base,
                question=draft.question,
                question_key=question_key(draft.question),
                phrasings=list(draft.phrasings),
                answer=draft.answer,
                source=draft.source,
                author=author,
                created_at=now,
                updated_at=now,
                **_vector_columns(block, embedding),
            )
            for draft, block in zip(drafts, vectors, strict=True)
        ]
        try:
            with self._session() as session:
                session.add_all(rows)
        except IntegrityError:  # another writer added one of these questions meanwhile
            raise FaqError(
                "another import or edit added some of these questions meanwhile; import again"
            ) from None
        return len(rows)

    def _row(self, session: Session, knowledge_base: str, entry_id: int) -> _Entry:
        row = session.get(_Entry, entry_id)
        if row is None or row.knowledge_base != knowledge_base:
            raise FaqNotFound(f"no FAQ entry {entry_id} in knowledge base {knowledge_base!r}")
        return row

    def _duplicate(self, knowledge_base: str, question: str) -> FaqError:
        existing = self.find(knowledge_base, question)
        return duplicate(question, existing.id if existing else None)


def duplicate(question: str, entry_id: int | None) -> FaqDuplicate:
    """The one wording of "already there", naming the entry to edit instead."""
    where = f" (entry {entry_id}: edit it instead)" if entry_id is not None else ""
    return FaqDuplicate(f"the question {question[:60]!r} is already in the FAQ{where}")


def _vector_columns(vectors: np.ndarray, embedding: str) -> dict[str, object]:
    block = np.asarray(vectors, dtype=np.float32)
    return {"vectors": block.tobytes(), "dim": int(block.shape[1]), "embedding": embedding}


def _entry(row: _Entry) -> FaqEntry:
    return FaqEntry(
        id=row.id,
        knowledge_base=row.knowledge_base,
        question=row.question,
        phrasings=tuple(row.phrasings or ()),
        answer=row.answer,
        source=row.source,
        author=row.author,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def faq_url(settings: Settings) -> str:
    return settings.faq.faq_url or f"sqlite:///{settings.storage.data_dir / 'faq.sqlite'}"


def open_faq_store(settings: Settings) -> FaqStore:
    """The store for these settings, one per process and URL (its engine is shared)."""
    return _store(faq_url(settings), settings.conversations.conversations_timeout_s)


@once_per_arguments(maxsize=8)
def _store(url: str, timeout_s: float) -> FaqStore:
    make_sqlite_folder(url)
    return FaqStore(url, timeout_s)
