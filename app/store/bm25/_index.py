"""`BM25Index`: a collection's BM25 index, saved beside the collection and kept in step.

The index is segmented (_segments.py): a write costs its own chunks, not the collection.
Every process keeps its copy in step the same way: the record-manager database holds
the collection's version, bumped by every writer (app/store/records.py); when it differs
from the version the local index reflects, the record manager's keys are compared with
the index's ids, the new chunks are fetched by id from Chroma and added as a segment,
and the missing ones become tombstones (`BM25Index.follow`). So the writer itself,
another process on the same data folder (the chat while the CLI ingests) and another
machine sharing the Chroma server all converge, with one small database read per query
when nothing changed.

Crash safety (_marker.py): a writer holds the STALE marker while it writes; a marker
nobody holds is a writer that died between writing Chroma and updating the index, and
the next reader or writer rebuilds the index from Chroma's chunks.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import Settings
from app.store.bm25._marker import clear_stale, is_stale, one_updater, writer_holds_marker
from app.store.bm25._segments import MANIFEST, CompactionPolicy, SegmentedIndex
from app.store.records import CollectionRecords

if TYPE_CHECKING:
    from langchain_chroma import Chroma


def index_dir(settings: Settings, collection: str) -> Path:
    """Where a collection's BM25 index lives: beside the collection, per Chroma location."""
    url = settings.storage.chroma_server_url
    location = "embedded" if not url else "server-" + hashlib.sha1(url.encode()).hexdigest()[:10]
    return settings.storage.data_dir / "bm25" / location / collection


class BM25Index:
    """One collection's BM25 index in `folder`, following `records`' version (without
    records it follows nothing: it is rebuilt only when stale)."""

    policy = CompactionPolicy()  # when deltas are merged and the index compacted

    def __init__(self, folder: Path, store: Chroma, records: CollectionRecords | None = None):
        self.folder = folder
        self.store = store
        self.records = records

    @classmethod
    def open(
        cls,
        settings: Settings,
        collection: str,
        store: Chroma,
        records: CollectionRecords | None = None,
    ) -> BM25Index:
        """The index of `collection` in the configured data folder (nothing is read yet)."""
        return cls(index_dir(settings, collection), store, records)

    def search(
        self, query: str, k: int, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, score) with a positive score, optionally only `allowed` ids;
        first brought up to the collection's current version."""
        return self._current().search(query, k, allowed)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Keep the index in step with the writes made inside the block.

        The block bumps the collection's version after each write; on the way out (Ctrl-C
        included) the index takes in every change since its version, this writer's and
        any other's, in a small segment. The writer holds the STALE marker meanwhile: a
        SIGKILL leaves it unheld, and the next reader or writer rebuilds the index from
        Chroma; an index a dead writer left stale is rebuilt here too.
        """
        was_stale = is_stale(self.folder)
        with writer_holds_marker(self.folder):
            try:
                yield
            finally:
                self.follow(rebuild=was_stale)

    def follow(self, *, rebuild: bool = False) -> None:
        """Bring the published index up to the collection's current version.

        Rebuilt from Chroma (one fresh segment) when stale, asked to, or far behind. Else the
        record manager's keys against the index's ids: added chunks (keys the index lacks)
        are fetched from Chroma by id into one new segment; deleted ones (ids no key has
        any more, and no longer in Chroma) become tombstones in their segments.
        """
        with one_updater(self.folder):
            self._follow(rebuild)

    def refresh(self, ids: list[str]) -> None:
        """Take in chunks whose text changed, or that left Chroma, under ids the record
        manager still holds (a curated edit, a disabled chunk): `follow` compares ids, not
        texts, so it cannot see them. Called inside `writing()`, after the version bump."""
        with one_updater(self.folder):
            index = self._follow(rebuild=False)
            updated = index.apply(
                texts_by_id(self.store, ids),
                ids,
                index.version,
                texts_of=lambda found: texts_by_id(self.store, found),
                everything=lambda: all_chunks(self.store),
                policy=self.policy,
            )
            _remember(self.folder, updated)

    # --- private ---------------------------------------------------------------
    def _follow(self, rebuild: bool) -> SegmentedIndex:
        folder, store, records = self.folder, self.store, self.records
        version = records.version() if records is not None else 0  # before reading keys
        if rebuild or is_stale(folder):
            return self._rebuild(version)
        index = _published(folder)
        if records is None or version == index.version:
            return index
        keys = set(records.keys())
        added = [k for k in keys if k not in index]
        if len(added) > self.policy.max_share * len(keys):  # far behind: compaction anyway
            return self._rebuild(version)
        maybe_gone = [i for i in index.ids if i not in keys]
        still_there = set(texts_by_id(store, maybe_gone)) if maybe_gone else set()
        deleted = [i for i in maybe_gone if i not in still_there]
        updated = index.apply(
            texts_by_id(store, added),
            deleted,
            version,
            texts_of=lambda ids: texts_by_id(store, ids),
            everything=lambda: all_chunks(store),
            policy=self.policy,
        )
        return _remember(folder, updated)

    def _rebuild(self, version: int) -> SegmentedIndex:
        index = SegmentedIndex.create(self.folder, *all_chunks(self.store), version=version)
        if is_stale(self.folder):
            clear_stale(self.folder)
        return _remember(self.folder, index)

    def _current(self) -> SegmentedIndex:
        """The index for queries: loaded once per process, reloaded when another process
        published a new one, brought up to date when the collection's version moved (one
        small database read per call), rebuilt when a dead writer left it stale."""
        with _lock:
            if is_stale(self.folder):
                with one_updater(self.folder):
                    return self._follow(rebuild=False)
            index = _published(self.folder)
            if self.records is not None and self.records.version() != index.version:
                with one_updater(self.folder):
                    index = self._follow(rebuild=False)
            return index


def all_chunks(store: Chroma) -> tuple[list[str], list[str]]:
    """Every (id, text) of a Chroma-backed LangChain store."""
    from app.store.chroma import iter_pages

    ids: list[str] = []
    texts: list[str] = []
    for page in iter_pages(store, ["documents"]):
        ids.extend(page["ids"])
        texts.extend(page["documents"] or [])
    return ids, texts


def texts_by_id(store: Chroma, ids: list[str], batch: int = 1000) -> dict[str, str]:
    """The texts of the chunks that exist among `ids` (one Chroma get per batch)."""
    found: dict[str, str] = {}
    for start in range(0, len(ids), batch):
        page = store.get(ids=ids[start : start + batch], include=["documents"])
        found.update(zip(page["ids"], page["documents"] or [], strict=True))
    return found


# This process's copy of each index, with the manifest it was read from: a query
# reuses it until another process publishes, and a follow extends it without reading
# the (at 100k chunks, 190 MB) segments from disk again.
_loaded: dict[Path, tuple[tuple[int, int, int], SegmentedIndex]] = {}
_lock = threading.Lock()


def _stamp(folder: Path) -> tuple[int, int, int]:
    """Which manifest is on disk: each publish writes a new file (a new inode), and two
    publishes can share an mtime (file times tick in milliseconds)."""
    found = os.stat(folder / MANIFEST)
    return found.st_ino, found.st_mtime_ns, found.st_size


def _published(folder: Path) -> SegmentedIndex:
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
