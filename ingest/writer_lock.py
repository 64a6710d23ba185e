"""Who may write into a knowledge base at the same time.

The lock lives in the record-manager database, so it holds across processes and
machines that share a Chroma server: an ingest takes its collection *shared* and each
folder it reads *exclusive*, so ingests of different folders (the chat's uploads, the
CLI, a second machine) run at once, while two ingests of the same folder cannot
interleave their replace-the-old-chunks steps. A re-index or `--prune` deletes every
chunk it did not see, including the other writers' fresh ones, so it takes the
collection exclusive. Each writer's chunks are distinct records (the indexing API
upserts by content hash), so shared writers cannot duplicate or lose each other's.

PostgreSQL: session advisory locks (the server frees them when a killed writer's
connection drops). Any other database (SQLite by default): one row per holder, taken
under a serialising update; a row whose process on this host is gone is ignored.

Embedded Chroma adds a file lock on the data folder: its files do not survive two
writer processes, whatever the database says.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table, text
from sqlalchemy.exc import IntegrityError

from app.errors import UserError
from app.settings import Settings
from app.sql import create_tables, engine
from app.store.records import namespace, reachable


class IngestBusyError(UserError, RuntimeError):
    """Another writer holds what this one needs; the message says who and what to do."""


@dataclass(frozen=True)
class Claim:
    name: str
    exclusive: bool
    busy: str  # the message when someone else holds it


def claims(settings: Settings, collection: str, roots: Sequence[str], whole: bool) -> list[Claim]:
    """The collection (shared, or exclusive when `whole`), then each root folder."""
    space = namespace(settings, collection)
    if whole:
        busy = f"another writer is using knowledge base {collection!r}, which a re-index "
        return [Claim(f"kb:{space}", True, busy + "needs to itself; wait for it to finish")]
    found = [
        Claim(
            f"kb:{space}",
            False,
            f"knowledge base {collection!r} is being re-indexed; wait for it to finish",
        )
    ]
    for root in sorted(set(roots)):
        busy = f"another ingest of {root} into {collection!r} is running; wait for it to finish"
        found.append(Claim(f"kb:{space}|{root}", True, busy))
    return found


@contextmanager
def writer_lock(
    settings: Settings,
    collection: str | None = None,
    *,
    roots: Sequence[str] = (),
    whole: bool = False,
    also: Sequence[str] = (),
) -> Iterator[None]:
    """Hold what a write into `collection` needs, or raise IngestBusyError at once;
    `also`: other knowledge bases held whole with it (a rename holds its new name)."""
    with ExitStack() as stack:
        if not settings.storage.chroma_server_url:
            stack.enter_context(_data_folder_lock(settings))
        if collection is not None:
            holder = _holder(settings.storage.record_manager_db_url)
            stack.callback(holder.release)
            wanted = claims(settings, collection, roots, whole)
            for other in also:
                wanted += claims(settings, other, (), True)
            for claim in wanted:
                if not holder.take(claim.name, claim.exclusive):
                    raise IngestBusyError(claim.busy)
        yield


def wait_for_writer(
    settings: Settings, collection: str | None = None, timeout: float = 600.0
) -> bool:
    """Block until no writer uses the collection (True), or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with writer_lock(settings, collection or settings.knowledge.collection, whole=True):
                return True
        except IngestBusyError:
            time.sleep(0.5)
    return False


@contextmanager
def _data_folder_lock(settings: Settings) -> Iterator[None]:
    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.storage.data_dir / ".ingest.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestBusyError(
                f"another ingest is writing to {settings.storage.data_dir}; embedded Chroma allows "
                "one writer process per data folder (a Chroma server, ZHIKU_CHROMA_SERVER_URL, "
                "allows several): wait for it to finish"
            ) from None
        yield


def _holder(url: str):
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with reachable(url):
        return _AdvisoryLocks(url) if url.startswith("postgresql") else _LockRows(url)


class _AdvisoryLocks:
    """PostgreSQL session advisory locks on one connection kept for the write."""

    def __init__(self, url: str) -> None:
        self.connection = engine(url).connect().execution_options(isolation_level="AUTOCOMMIT")

    def take(self, name: str, exclusive: bool) -> bool:
        function = "pg_try_advisory_lock" if exclusive else "pg_try_advisory_lock_shared"
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        return bool(
            self.connection.execute(text(f"SELECT {function}(:key)"), {"key": key}).scalar()
        )

    def release(self) -> None:
        try:
            self.connection.execute(text("SELECT pg_advisory_unlock_all()"))
        finally:
            self.connection.close()


_tables = MetaData()
_rows = Table(
    "zhiku_writer_lock",
    _tables,
    Column("name", String(700), primary_key=True),
    Column("holder", String(40), primary_key=True),
    Column("exclusive", Boolean, nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("taken_at", Float, nullable=False),
)
_mutex = Table("zhiku_writer_lock_mutex", _tables, Column("id", Integer, primary_key=True))


class _LockRows:
    """A row per holder; takers are serialised by first writing the one mutex row."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.holder = uuid.uuid4().hex
        create_tables(url, _tables)
        try:
            with engine(url).begin() as conn:
                conn.execute(_mutex.insert().values(id=1))
        except IntegrityError:
            pass

    def take(self, name: str, exclusive: bool) -> bool:
        with engine(self.url).begin() as conn:
            conn.execute(_mutex.update().values(id=1))  # write first: one taker at a time
            held = conn.execute(_rows.select().where(_rows.c.name == name)).all()
            for row in held:
                if row.host == socket.gethostname() and not _alive(row.pid):
                    conn.execute(_rows.delete().where(_rows.c.holder == row.holder))
            held = [r for r in held if r.host != socket.gethostname() or _alive(r.pid)]
            if any(r.exclusive for r in held) or (exclusive and held):
                return False
            conn.execute(
                _rows.insert().values(
                    name=name,
                    holder=self.holder,
                    exclusive=exclusive,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    taken_at=time.time(),
                )
            )
            return True

    def release(self) -> None:
        with engine(self.url).begin() as conn:
            conn.execute(_rows.delete().where(_rows.c.holder == self.holder))


def _alive(pid: int) -> bool:
    """Whether a process runs (a killed one not yet reaped by its parent does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
