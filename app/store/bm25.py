"""A collection's BM25 index, saved beside the collection and kept in step with it.

The index is segmented (bm25_segments.py; one segment is bm25_index.py): a write costs
its own chunks, not the collection. Every process keeps its copy in step the same way:
the record-manager database holds the collection's version, bumped by every writer
(app/store/records.py); when it differs from the version the local index reflects, the
record manager's keys are compared with the index's ids, the new chunks are fetched by
id from Chroma and added as a segment, and the missing ones become tombstones. So the
writer itself, another process on the same data folder (the chat while the CLI
ingests) and another machine sharing the Chroma server all converge, with one small
database read per query when nothing changed.

Crash safety: a writer holds a STALE marker (a shared flock on a file beside the index)
while it writes. A marker that nobody holds any more is a writer that died between
writing Chroma and updating the index; the next reader or writer then rebuilds the index
from Chroma's chunks, as every write did before the index was segmented.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.settings import Settings
from app.store.bm25_index import BM25Index, CorpusStats  # noqa: F401 - re-exported
from app.store.bm25_segments import MANIFEST, CompactionPolicy, SegmentedIndex, published
from app.store.records import CollectionRecords

STALE_MARKER = "STALE"
POLICY = CompactionPolicy()


def index_dir(settings: Settings, collection: str) -> Path:
    """Where a collection's BM25 index lives: beside the collection, per Chroma location."""
    url = settings.chroma_server_url
    location = "embedded" if not url else "server-" + hashlib.sha1(url.encode()).hexdigest()[:10]
    return settings.data_dir / "bm25" / location / collection


def all_chunks(store) -> tuple[list[str], list[str]]:
    """Every (id, text) of a Chroma-backed LangChain store."""
    from app.store.chroma import iter_pages

    ids: list[str] = []
    texts: list[str] = []
    for page in iter_pages(store, ["documents"]):
        ids.extend(page["ids"])
        texts.extend(page["documents"] or [])
    return ids, texts


def texts_by_id(store, ids: list[str], batch: int = 1000) -> dict[str, str]:
    """The texts of the chunks that exist among `ids` (one Chroma get per batch)."""
    found: dict[str, str] = {}
    for start in range(0, len(ids), batch):
        page = store.get(ids=ids[start : start + batch], include=["documents"])
        found.update(zip(page["ids"], page["documents"] or [], strict=True))
    return found


# --- the STALE marker ----------------------------------------------------------------
def _marker(folder: Path) -> Path:
    return folder.with_name(folder.name + "." + STALE_MARKER)


def mark_stale(folder: Path) -> None:
    """Leave the marker a dead writer leaves: the next load rebuilds from Chroma."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    _marker(folder).touch()


def clear_stale(folder: Path) -> None:
    _marker(folder).unlink(missing_ok=True)


def is_stale(folder: Path) -> bool:
    """Nothing published yet, or a marker no live writer holds."""
    if not published(folder):
        return True
    try:
        handle = open(_marker(folder))  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a writer is at work: its own update will follow
        return True


@contextmanager
def writing(folder: Path) -> Iterator[None]:
    """Hold the marker (shared by every writer on this data folder) around a write."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(_marker(folder), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        yield
    with open(_marker(folder), "a") as handle:  # the last writer out removes it
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        clear_stale(folder)


@contextmanager
def _updating(folder: Path) -> Iterator[None]:
    """One process at a time rebuilds or extends an index (others wait, then reuse it)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# --- keeping the index in step ---------------------------------------------------------
def rebuild(store, folder: Path, version: int = 0) -> SegmentedIndex:
    """One fresh segment from the collection's current chunks; clears the stale marker."""
    with _updating(folder):
        return _rebuild(store, folder, version)


def _rebuild(store, folder: Path, version: int) -> SegmentedIndex:
    index = SegmentedIndex.create(folder, *all_chunks(store), version=version)
    if is_stale(folder):
        clear_stale(folder)
    return _remember(folder, index)


def sync(
    store, folder: Path, records: CollectionRecords | None, *, rebuild: bool = False
) -> SegmentedIndex:
    """Bring the published index up to the collection's current version.

    Rebuilt from Chroma when stale (or asked to); else the record manager's keys against
    the index's ids: new ones are fetched from Chroma by id, vanished ones checked there
    and dropped.
    """
    with _updating(folder):
        version = records.version() if records is not None else 0  # before reading keys
        if rebuild or is_stale(folder):
            return _rebuild(store, folder, version)
        index = _current(folder)
        if records is None or version == index.version:
            return index
        keys = set(records.keys())
        new = [k for k in keys if k not in index]
        if len(new) > POLICY.max_share * len(keys):  # far behind: compaction anyway
            return _rebuild(store, folder, version)
        maybe_gone = [i for i in index.ids if i not in keys]
        still_there = set(texts_by_id(store, maybe_gone)) if maybe_gone else set()
        gone = [i for i in maybe_gone if i not in still_there]
        updated = index.apply(
            texts_by_id(store, new),
            gone,
            version,
            texts_of=lambda ids: texts_by_id(store, ids),
            everything=lambda: all_chunks(store),
            policy=POLICY,
        )
        return _remember(folder, updated)


# This process's copy of each index, with the manifest it was read from: a query
# reuses it until another process publishes, and a sync extends it without reading the
# (at 100k chunks, 190 MB) segments from disk again.
_loaded: dict[Path, tuple[tuple[int, int, int], SegmentedIndex]] = {}
_lock = threading.Lock()


def _stamp(folder: Path) -> tuple[int, int, int]:
    """Which manifest is on disk: each publish writes a new file (a new inode), and two
    publishes can share an mtime (file times tick in milliseconds)."""
    found = os.stat(folder / MANIFEST)
    return found.st_ino, found.st_mtime_ns, found.st_size


def _current(folder: Path) -> SegmentedIndex:
    """The published index, from this process's copy when that is still the one on disk."""
    stamp = _stamp(folder)  # read first: a newer publish only makes the next call reload
    cached = _loaded.get(folder)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    return _remember(folder, SegmentedIndex.open(folder), stamp)


def _remember(
    folder: Path, index: SegmentedIndex, stamp: tuple[int, int, int] | None = None
) -> SegmentedIndex:
    _loaded[folder] = (_stamp(folder) if stamp is None else stamp, index)
    return index


def load_current(store, folder: Path, records: CollectionRecords | None = None) -> SegmentedIndex:
    """The index for queries: loaded once per process, reloaded when another process
    published a new one, brought up to date when the collection's version moved (one
    small database read per call), rebuilt when a dead writer left it stale."""
    with _lock:
        if is_stale(folder):
            return sync(store, folder, records)
        index = _current(folder)
        if records is not None and records.version() != index.version:
            index = sync(store, folder, records)
        return index
