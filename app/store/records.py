"""The record-manager database: which chunks each collection holds, and a version number.

LangChain's `SQLRecordManager` keeps one row per chunk (its id, its source file, when it
was last written) on any SQLAlchemy URL: SQLite in the data folder by default,
PostgreSQL when several machines write into one Chroma server. Beside it, zhiku keeps
one row per collection with a version number that every writer bumps after a write, so
a process that holds a BM25 copy of the collection learns it changed with one small read
(`CollectionRecords.version`) instead of listing the collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    column,
    delete,
    func,
    select,
    table,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.errors import UserError
from app.once import once_per_arguments
from app.settings import Settings
from app.sql import create_tables, engine, make_sqlite_folder


class RecordsError(UserError, RuntimeError):
    """The record-manager database cannot be used; the message says which and why."""


@contextmanager
def reachable(url: str) -> Iterator[None]:
    """Turn "no such driver", "bad URL" and "cannot connect" into one line without the
    password (the URL comes from the environment and may carry one)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

    try:
        yield
    except (ArgumentError, NoSuchModuleError, ModuleNotFoundError) as exc:
        raise RecordsError(
            f"ZHIKU_RECORD_MANAGER_URL is not a usable SQLAlchemy URL ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:120]}); e.g. postgresql+psycopg://user@host/db"
        ) from None
    except (OperationalError, InterfaceError) as exc:
        try:
            shown = make_url(url).render_as_string(hide_password=True)
        except ArgumentError:
            shown = "ZHIKU_RECORD_MANAGER_URL"
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()
        raise RecordsError(
            f"cannot use the record-manager database {shown} ({reason[0][:160] if reason else ''}"
            "); start it or fix ZHIKU_RECORD_MANAGER_URL"
        ) from None


_metadata = MetaData()
versions = Table(
    "zhiku_collection_version",
    _metadata,
    Column("namespace", String(600), primary_key=True),
    Column("version", BigInteger, nullable=False),
)


def namespace(settings: Settings, collection: str) -> str:
    """A collection's name in the database: the Chroma location plus the collection, so
    an embedded and a served collection of the same name never share records."""
    return f"{settings.storage.chroma_server_url or 'embedded'}/{collection}"


@once_per_arguments(maxsize=64)
def record_manager(url: str, space: str):
    """One record manager per database and namespace, its schema created once: two
    sessions opening a new knowledge base together would both run CREATE TABLE."""
    from langchain_classic.indexes import SQLRecordManager

    with reachable(url):
        manager = SQLRecordManager(namespace=space, engine=engine(url))
        try:
            manager.create_schema()
        except DBAPIError as exc:  # another process created it between check and create
            if "already exists" not in str(exc) and "duplicate key" not in str(exc):
                raise
        create_tables(url, _metadata)
    return manager


@dataclass(frozen=True)
class CollectionRecords:
    """One collection's rows in the record-manager database."""

    url: str
    namespace: str

    @classmethod
    def of(cls, settings: Settings, collection: str) -> CollectionRecords:
        make_sqlite_folder(settings.storage.record_manager_db_url)
        return cls(settings.storage.record_manager_db_url, namespace(settings, collection))

    @property
    def manager(self):
        return record_manager(self.url, self.namespace)

    def keys(self) -> list[str]:
        """Every chunk id the collection holds (the record manager's keys are Chroma ids).

        A plain SELECT on the manager's table: `list_keys()` builds an ORM object per
        row, several times slower on a 100k-chunk collection (docs/benchmarks.md)."""
        self.manager  # noqa: B018
        records = table("upsertion_record", column("key"), column("namespace"))
        with engine(self.url).connect() as conn:
            query = select(records.c.key).where(records.c.namespace == self.namespace)
            return list(conn.execute(query).scalars())

    def version(self) -> int:
        """The collection's version: bumped by every write; 0 before the first."""
        self.manager  # noqa: B018 - makes the tables on first use
        with engine(self.url).connect() as conn:
            found = conn.execute(
                select(versions.c.version).where(versions.c.namespace == self.namespace)
            ).scalar()
        return int(found or 0)

    def bump(self) -> int:
        """Mark the collection changed (after the change is in Chroma and the records)."""
        self.manager  # noqa: B018
        for _ in range(3):
            with engine(self.url).begin() as conn:
                done = conn.execute(
                    update(versions)
                    .where(versions.c.namespace == self.namespace)
                    .values(version=versions.c.version + 1)
                )
                if done.rowcount:
                    break
            try:
                with engine(self.url).begin() as conn:
                    conn.execute(versions.insert().values(namespace=self.namespace, version=1))
                break
            except IntegrityError:  # another writer inserted it first: update again
                continue
        return self.version()


_records = table("upsertion_record", column("key"), column("namespace"))


def move_records(settings: Settings, old: str, new: str) -> None:
    """A renamed knowledge base's rows follow it: its chunks' records and its version.

    One transaction, and a no-op once done (the rows are no longer under `old`), so a
    rename a crash interrupted is finished by running it again. Rows a deleted knowledge
    base of the new name left are dropped first; the version moves past both, so every
    process's BM25 copy and Chroma follower sees a change."""
    source = CollectionRecords.of(settings, old)
    target = namespace(settings, new)
    source.manager  # noqa: B018 - makes the tables on first use
    with engine(source.url).begin() as conn:
        held = select(func.count()).select_from(_records)
        if conn.execute(held.where(_records.c.namespace == source.namespace)).scalar():
            conn.execute(delete(_records).where(_records.c.namespace == target))
            conn.execute(
                update(_records)
                .where(_records.c.namespace == source.namespace)
                .values(namespace=target)
            )
        of = versions.c.namespace
        found = conn.execute(select(versions.c.version).where(of == source.namespace)).scalar()
        if found is not None:
            left = conn.execute(select(versions.c.version).where(of == target)).scalar() or 0
            conn.execute(delete(versions).where(of == target))
            conn.execute(
                update(versions)
                .where(of == source.namespace)
                .values(namespace=target, version=max(int(found), int(left)) + 1)
            )


def drop_records(settings: Settings, collection: str) -> None:
    """A deleted knowledge base's chunk records go; its version row stays, bumped, so a
    new knowledge base of the same name counts on from it and no process mistakes the
    new one's first versions for the old one's."""
    records = CollectionRecords.of(settings, collection)
    records.manager  # noqa: B018
    with engine(records.url).begin() as conn:
        conn.execute(delete(_records).where(_records.c.namespace == records.namespace))
    if records.version():
        records.bump()
