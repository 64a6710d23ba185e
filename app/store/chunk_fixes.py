"""Curated fixes to chunks (issue 28): the current state of each fixed chunk and a log of
every change, in the record-manager database beside the collection's records.

A fixed chunk keeps its id: the record manager still holds the key the indexing API
derived from the file's text, so a re-index of an unchanged file skips it and the fix
stays. The row keeps the chunk as the file made it (`original_text`, its metadata), so a
disabled or deleted chunk can come back and a dropped fix can be undone.

`revision` makes concurrent editors safe without locks held across a user's think time:
each change names the revision it started from, and `claim` refuses it when the row
moved on since (optimistic concurrency, as in WeKnora's chunk revisions).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from app.errors import UserError
from app.once import once_per_arguments
from app.settings import Settings
from app.sql import create_tables, engine, make_sqlite_folder
from app.store.records import namespace, reachable

ORIGINAL, EDITED, DISABLED, DELETED = "original", "edited", "disabled", "deleted"

_metadata = MetaData()
fixes = Table(
    "zhiku_chunk_fix",
    _metadata,
    Column("namespace", String(600), primary_key=True),
    Column("chunk_id", String(128), primary_key=True),
    Column("source", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("text", Text, nullable=False),  # the text retrieval sees (edited or original)
    Column("original_text", Text, nullable=False),
    Column("original_metadata", Text, nullable=False),  # JSON, as Chroma held it
    Column("changed_by", String(200), nullable=False),
    Column("changed_at", Float, nullable=False),
)
changes = Table(
    "zhiku_chunk_change",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("namespace", String(600), nullable=False, index=True),
    Column("chunk_id", String(128), nullable=False),
    Column("source", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # edit, disable, enable, delete, dropped
    Column("who", String(200), nullable=False),
    Column("at", Float, nullable=False),
    Column("before", Text),
    Column("after", Text),
    Column("note", Text, nullable=False, default=""),
)


@once_per_arguments(maxsize=16)
def _tables(url: str) -> None:
    """The two tables, made once per process and database (an ingest asks per file)."""
    with reachable(url):
        create_tables(url, _metadata)


class ChunkConflict(UserError):
    """Someone else changed the chunk since the editor opened it; nothing was saved."""


@dataclass(frozen=True)
class FixRow:
    chunk_id: str
    source: str
    state: str
    revision: int
    text: str
    original_text: str
    original_metadata: dict
    changed_by: str
    changed_at: float


@dataclass(frozen=True)
class ChangeRow:
    chunk_id: str
    source: str
    kind: str
    who: str
    at: float
    before: str | None
    after: str | None
    note: str


@dataclass(frozen=True)
class ChunkFixes:
    """One collection's fixes and change log."""

    url: str
    namespace: str

    @classmethod
    def of(cls, settings: Settings, collection: str) -> ChunkFixes:
        url = settings.storage.record_manager_db_url
        make_sqlite_folder(url)
        _tables(url)
        return cls(url, namespace(settings, collection))

    def get(self, chunk_id: str) -> FixRow | None:
        with engine(self.url).connect() as conn:
            row = conn.execute(select(fixes).where(*self._key(chunk_id))).first()
        return _fix(row) if row else None

    def active(self, source: str | None = None) -> list[FixRow]:
        """The fixes in force (edited, disabled, deleted), of one source or all."""
        query = select(fixes).where(fixes.c.namespace == self.namespace, fixes.c.state != ORIGINAL)
        if source is not None:
            query = query.where(fixes.c.source == source)
        with engine(self.url).connect() as conn:
            return [_fix(row) for row in conn.execute(query)]

    def of_source(self, source: str) -> list[FixRow]:
        """Every row of one source's chunks (revisions of restored ones included)."""
        query = select(fixes).where(fixes.c.namespace == self.namespace, fixes.c.source == source)
        with engine(self.url).connect() as conn:
            return [_fix(row) for row in conn.execute(query)]

    def log(self, source: str | None = None, limit: int = 200) -> list[ChangeRow]:
        """The latest changes, newest first."""
        query = select(changes).where(changes.c.namespace == self.namespace)
        if source is not None:
            query = query.where(changes.c.source == source)
        query = query.order_by(changes.c.id.desc()).limit(limit)
        with engine(self.url).connect() as conn:
            return [_change(row) for row in conn.execute(query)]

    @contextmanager
    def claim(
        self, original: FixRow, expected: int, state: str, text: str, who: str, kind: str
    ) -> Iterator[FixRow]:
        """Move the chunk to `state` if its revision is still `expected`, log it, and yield
        the new row; the caller writes Chroma inside the block, so a failed write leaves
        no row and no log line (the transaction rolls back). Raises ChunkConflict naming
        who changed it and when.

        The revision is checked twice: first to name who moved it, then in the UPDATE's
        WHERE (or the INSERT's primary key), which is what makes the check atomic."""
        now = time.time()
        values = {"state": state, "text": text, "changed_by": who, "changed_at": now}
        chunk_id = original.chunk_id
        try:
            with engine(self.url).begin() as conn:
                before = self._current(conn, chunk_id)
                if (before.revision if before else 0) != expected:
                    raise _conflict(before)
                if before is None:
                    _insert(conn, self.namespace, original, values)
                elif not conn.execute(
                    update(fixes)
                    .where(*self._key(chunk_id), fixes.c.revision == expected)
                    .values(revision=expected + 1, **values)
                ).rowcount:
                    raise _conflict(self._current(conn, chunk_id))
                shown = before.text if before else original.text
                out_of_search = state in (DISABLED, DELETED) and kind != "edit"
                after = None if out_of_search else text
                self._log(conn, original, kind, who, now, shown, after)
                yield _fix(conn.execute(select(fixes).where(*self._key(chunk_id))).one())
        except IntegrityError:  # another editor's first change of this chunk won the race
            raise _conflict(self.get(chunk_id)) from None

    def drop(self, row: FixRow, note: str) -> None:
        """Put the chunk back to the file's text in the table and log why (the caller
        restores Chroma); used when the file changed or was deleted."""
        now = time.time()
        with engine(self.url).begin() as conn:
            conn.execute(
                update(fixes)
                .where(*self._key(row.chunk_id))
                .values(
                    state=ORIGINAL,
                    text=row.original_text,
                    revision=fixes.c.revision + 1,
                    changed_by="zhiku",
                    changed_at=now,
                )
            )
            self._log(conn, row, "dropped", "zhiku", now, row.text, None, note)

    # --- private ---------------------------------------------------------------
    def _key(self, chunk_id: str) -> tuple:
        return fixes.c.namespace == self.namespace, fixes.c.chunk_id == chunk_id

    def _current(self, conn: Connection, chunk_id: str) -> FixRow | None:
        row = conn.execute(select(fixes).where(*self._key(chunk_id))).first()
        return _fix(row) if row else None

    def _log(
        self,
        conn: Connection,
        row: FixRow,
        kind: str,
        who: str,
        at: float,
        before: str | None,
        after: str | None,
        note: str = "",
    ) -> None:
        conn.execute(
            insert(changes).values(
                namespace=self.namespace,
                chunk_id=row.chunk_id,
                source=row.source,
                kind=kind,
                who=who,
                at=at,
                before=before,
                after=after,
                note=note,
            )
        )


def move_fixes(settings: Settings, old: str, new: str) -> None:
    """A renamed knowledge base keeps its curated fixes and change log (one transaction,
    a no-op once done; a deleted knowledge base's leftovers under the new name go)."""
    book = ChunkFixes.of(settings, old)
    target = namespace(settings, new)
    with engine(book.url).begin() as conn:
        mine = fixes.c.namespace == book.namespace
        if conn.execute(select(func.count()).select_from(fixes).where(mine)).scalar():
            conn.execute(delete(fixes).where(fixes.c.namespace == target))
            conn.execute(update(fixes).where(mine).values(namespace=target))
        conn.execute(
            update(changes).where(changes.c.namespace == book.namespace).values(namespace=target)
        )


def drop_all_fixes(settings: Settings, collection: str) -> None:
    """A deleted knowledge base's fixes and change log."""
    book = ChunkFixes.of(settings, collection)
    with engine(book.url).begin() as conn:
        conn.execute(delete(fixes).where(fixes.c.namespace == book.namespace))
        conn.execute(delete(changes).where(changes.c.namespace == book.namespace))


def _insert(conn: Connection, space: str, original: FixRow, values: dict) -> None:
    """The chunk's first fix (an IntegrityError if another editor's first one won)."""
    conn.execute(
        insert(fixes).values(
            namespace=space,
            chunk_id=original.chunk_id,
            source=original.source,
            revision=1,
            original_text=original.original_text,
            original_metadata=json.dumps(original.original_metadata, ensure_ascii=False),
            **values,
        )
    )


def _conflict(now: FixRow | None) -> ChunkConflict:
    if now is None:
        return ChunkConflict("the chunk changed since you opened it; reload it and edit again")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now.changed_at))
    return ChunkConflict(
        f"changed by {now.changed_by} at {when} since you opened it (now revision "
        f"{now.revision}); reload it, your text was not saved"
    )


def _fix(row) -> FixRow:
    return FixRow(
        chunk_id=row.chunk_id,
        source=row.source,
        state=row.state,
        revision=row.revision,
        text=row.text,
        original_text=row.original_text,
        original_metadata=json.loads(row.original_metadata),
        changed_by=row.changed_by,
        changed_at=row.changed_at,
    )


def _change(row) -> ChangeRow:
    return ChangeRow(
        chunk_id=row.chunk_id,
        source=row.source,
        kind=row.kind,
        who=row.who,
        at=row.at,
        before=row.before,
        after=row.after,
        note=row.note or "",
    )
