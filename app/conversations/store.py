"""The conversation store: SQLAlchemy over SQLite in the data folder (any SQLAlchemy URL
through `ZHIKU_CONVERSATIONS_URL`).

Why our own two tables rather than LangChain's `SQLChatMessageHistory`: that class keeps
one message per row as a JSON blob with no title, owner, rename, feedback or listing of
sessions, which is most of what a chat with a conversation list needs.

Every failure of the database (locked, read-only, corrupt, missing folder) becomes one
`ConversationStoreError` line: the chat shows it and goes on answering without saving.
"""

from __future__ import annotations

import builtins
import json
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from app.errors import UserError
from app.once import once_per_arguments
from app.schema import AnswerResult
from app.settings import Settings
from app.sql import LazyTables, engine, first_line, make_sqlite_folder

TITLE_CHARS = 40
UP, DOWN = 1, 0  # st.feedback("thumbs") gives 1 for 👍 and 0 for 👎


# Why the database could not be used, as codes a page says in its language (app/ui).
ERROR_CODES = ("locked", "read_only", "corrupt", "unavailable", "missing", "no_answer")


class ConversationStoreError(UserError, RuntimeError):
    """The conversation database cannot be used; answers still work, unsaved. `code` is
    one of ERROR_CODES; the message is English (the API, the logs)."""

    def __init__(self, message: str, code: str = "unavailable") -> None:
        super().__init__(message)
        self.code = code


class _Base(DeclarativeBase):
    pass


class _Conversation(_Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    knowledge_base: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float, index=True)
    messages: Mapped[list[_Message]] = relationship(
        back_populates="conversation",
        cascade="all, delete-orphan",
        order_by="_Message.position",
    )


class _Message(_Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    # the chain's whole result (sources, citations, abstention, strategy, timings)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    knowledge_base: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[float] = mapped_column(Float)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    conversation: Mapped[_Conversation] = relationship(back_populates="messages")


@dataclass(frozen=True)
class Message:
    id: int
    role: str
    content: str
    result: AnswerResult | None  # the chain's whole result, for answers
    knowledge_base: str
    model: str
    created_at: float
    rating: int | None
    comment: str


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    knowledge_base: str
    updated_at: float


@dataclass(frozen=True)
class Conversation(ConversationSummary):
    created_at: float = 0.0
    messages: list[Message] = field(default_factory=list)

    def history(self) -> list[dict]:
        """The turns as the chain takes them for a follow-up question."""
        return [{"role": m.role, "content": m.content} for m in self.messages]


@dataclass(frozen=True)
class RatedAnswer:
    """An answer with the user's rating and the question that led to it."""

    message_id: int
    conversation_id: str
    question: str
    answer: str
    result: AnswerResult
    knowledge_base: str
    model: str
    rating: int
    comment: str
    rated_at: float


def title_for(question: str) -> str:
    """A conversation's default title: its first question, on one line, shortened."""
    line = " ".join(question.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


class ConversationStore:
    """Reads and writes conversations; each call is one short transaction."""

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
        except SQLAlchemyError as exc:
            reason = first_line(exc)
            raise ConversationStoreError(
                f"conversations cannot be saved: {reason}", _code(reason)
            ) from None

    def create(self, owner: str, title: str, knowledge_base: str) -> str:
        now = time.time()
        conversation_id = uuid.uuid4().hex
        with self._session() as session:
            session.add(
                _Conversation(
                    id=conversation_id,
                    owner=owner,
                    title=title_for(title) or "新对话",
                    knowledge_base=knowledge_base,
                    created_at=now,
                    updated_at=now,
                )
            )
        return conversation_id

    def list(self, owner: str | None) -> list[ConversationSummary]:
        """Newest first; `owner=None` lists everyone's (shared history)."""
        query = select(_Conversation).order_by(_Conversation.updated_at.desc())
        if owner is not None:
            query = query.where(_Conversation.owner == owner)
        with self._session() as session:
            return [_summary(row) for row in session.scalars(query)]

    def get(self, conversation_id: str, owner: str | None = None) -> Conversation | None:
        """The conversation with its messages, or None (also when another owner's)."""
        with self._session() as session:
            row = session.get(_Conversation, conversation_id)
            if row is None or (owner is not None and row.owner != owner):
                return None
            return Conversation(
                id=row.id,
                title=row.title,
                knowledge_base=row.knowledge_base,
                updated_at=row.updated_at,
                created_at=row.created_at,
                messages=[_message(m) for m in row.messages],
            )

    def add_exchange(
        self,
        conversation_id: str,
        question: str,
        result: AnswerResult,
        knowledge_base: str,
        model: str,
    ) -> int:
        """Append a question and its answer (one transaction); the answer's message id."""
        now = time.time()
        with self._session() as session:
            row = session.get(_Conversation, conversation_id)
            if row is None:
                raise ConversationStoreError(
                    f"conversation {conversation_id} no longer exists", "missing"
                )
            position = (
                session.scalar(
                    select(func.count()).where(_Message.conversation_id == conversation_id)
                )
                or 0
            )
            common = {"knowledge_base": knowledge_base, "model": model, "created_at": now}
            session.add(
                _Message(
                    conversation_id=conversation_id,
                    position=position,
                    role="user",
                    content=question,
                    **common,
                )
            )
            answer = _Message(
                conversation_id=conversation_id,
                position=position + 1,
                role="assistant",
                content=result.get("answer", ""),
                result=_jsonable(result),
                **common,
            )
            session.add(answer)
            row.updated_at = now
            row.knowledge_base = knowledge_base
            session.flush()
            return answer.id

    def rename(self, conversation_id: str, title: str) -> None:
        with self._session() as session:
            row = session.get(_Conversation, conversation_id)
            if row is not None:
                row.title = " ".join(title.split())[:200] or row.title

    def delete(self, conversation_id: str) -> None:
        with self._session() as session:
            row = session.get(_Conversation, conversation_id)
            if row is not None:
                session.delete(row)

    def rename_knowledge_base(self, old: str, new: str) -> None:
        """Conversations held on a renamed knowledge base are labelled with its new name,
        and opening one selects it (a deleted one's keep its name: see the chat's note)."""
        with self._session() as session:
            for model in (_Conversation, _Message):
                session.execute(
                    update(model).where(model.knowledge_base == old).values(knowledge_base=new)
                )

    def rate(self, message_id: int, rating: int | None, comment: str = "") -> None:
        """👍 (1) / 👎 (0) and an optional comment on an answer; None clears the rating."""
        with self._session() as session:
            row = session.get(_Message, message_id)
            if row is None or row.role != "assistant":
                raise ConversationStoreError(f"no answer with id {message_id}", "no_answer")
            row.rating = rating
            row.comment = comment.strip()
            row.rated_at = time.time() if rating is not None else None

    def rated_answers(self) -> builtins.list[RatedAnswer]:
        """Every rated answer, oldest rating first, with the question asked before it."""
        query = select(_Message).where(_Message.rating.is_not(None)).order_by(_Message.rated_at)
        with self._session() as session:
            rated = []
            for answer in session.scalars(query):
                question = session.scalar(
                    select(_Message.content).where(
                        _Message.conversation_id == answer.conversation_id,
                        _Message.position == answer.position - 1,
                    )
                )
                rated.append(
                    RatedAnswer(
                        message_id=answer.id,
                        conversation_id=answer.conversation_id,
                        question=question or "",
                        answer=answer.content,
                        result=cast(AnswerResult, answer.result or {}),
                        knowledge_base=answer.knowledge_base,
                        model=answer.model,
                        rating=answer.rating or 0,  # rated: never None here
                        comment=answer.comment,
                        rated_at=answer.rated_at or 0.0,
                    )
                )
            return rated


def conversations_url(settings: Settings) -> str:
    return (
        settings.conversations.conversations_url
        or f"sqlite:///{settings.storage.data_dir / 'conversations.sqlite'}"
    )


def open_conversation_store(settings: Settings) -> ConversationStore:
    """The store for these settings, one per process and URL (its engine is shared)."""
    return _store(conversations_url(settings), settings.conversations.conversations_timeout_s)


@once_per_arguments(maxsize=8)
def _store(url: str, timeout_s: float) -> ConversationStore:
    make_sqlite_folder(url)
    return ConversationStore(url, timeout_s)


def _code(reason: str) -> str:
    """The database's one line (SQLite's or PostgreSQL's wording) as one of ERROR_CODES."""
    low = reason.lower()
    if "locked" in low or "could not obtain lock" in low:
        return "locked"
    if "readonly" in low or "read-only" in low or "read only" in low:
        return "read_only"
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return "corrupt"
    return "unavailable"


def _jsonable(result: Mapping[str, Any]) -> dict[str, Any]:
    """The result as plain JSON (a streamed result carries an `event` key; drop it)."""
    return json.loads(json.dumps({k: v for k, v in result.items() if k != "event"}, default=str))


def _summary(row: _Conversation) -> ConversationSummary:
    return ConversationSummary(row.id, row.title, row.knowledge_base, row.updated_at)


def _message(row: _Message) -> Message:
    return Message(
        id=row.id,
        role=row.role,
        content=row.content,
        result=cast("AnswerResult | None", row.result),
        knowledge_base=row.knowledge_base,
        model=row.model,
        created_at=row.created_at,
        rating=row.rating,
        comment=row.comment,
    )
