"""A collection's BM25 index as segments, so a change costs the change, not the collection.

Like Lucene: a base segment plus small delta segments, one per change; a deleted chunk
stays in its segment as a tombstone (masked at query time); a query scores every
segment and keeps the best. A delta's weights use the whole collection's statistics
(documents, length, each token's document frequency summed over the segments, deleted
chunks included, as Lucene counts them until a merge), so its chunks score as they
would in one index. The statistics the older segments were weighted with drift as the
collection grows; compaction (one fresh segment from the collection's chunks) runs when
deltas and tombstones pass `CompactionPolicy.max_share` of the collection, and deltas
are merged into one when there are more than `max_deltas`: so an index grown by small
changes ranks like a fresh build (tests/unit/test_bm25_segments.py), and compaction is
paid once per `max_share` of the collection changed.

On disk: one folder per segment, never changed once written, and `manifest.json`
(the segments, their tombstones, the collection version the index reflects), replaced
atomically; a reader therefore sees the old set or the new one, never half of one.
Segments no longer listed are removed after the swap; a reader that loses the race
reads the manifest again.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.store.bm25._scoring import Bm25sIndex, CorpusStats, top_k
from app.text import tokenize

MANIFEST = "manifest.json"
FORMAT = 2

TextsOf = Callable[[list[str]], dict[str, str]]  # chunk ids -> their texts (missing: gone)
Everything = Callable[[], tuple[list[str], list[str]]]  # every (id, text) of the collection


@dataclass(frozen=True)
class CompactionPolicy:
    max_share: float = 0.1  # deltas + tombstones, as a share of live chunks, before compaction
    max_deltas: int = 8  # delta segments before they are merged into one
    rebuild_below: int = 2000  # chunks under which a whole rebuild costs milliseconds anyway


@dataclass
class Segment:
    name: str
    index: Bm25sIndex
    deleted: frozenset[str] = frozenset()
    live: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.live = np.fromiter((i not in self.deleted for i in self.index.ids), dtype=np.float32)


@dataclass
class SegmentedIndex:
    """The segments of one collection's index, as last published in `folder`."""

    folder: Path
    segments: list[Segment]
    version: int = 0  # the collection version (app.store.records) this index reflects

    def __post_init__(self) -> None:
        self._all_ids = [i for s in self.segments for i in s.index.ids]
        self._where = {
            chunk_id: n
            for n, s in enumerate(self.segments)
            for chunk_id in s.index.ids
            if chunk_id not in s.deleted
        }

    @property
    def ids(self) -> list[str]:
        """The live chunk ids."""
        return list(self._where)

    def __contains__(self, chunk_id: str) -> bool:
        return chunk_id in self._where

    def __len__(self) -> int:
        return len(self._where)

    @property
    def dead_weight(self) -> int:
        """Chunks in deltas plus tombstones: what compaction would fold away."""
        deltas = sum(len(s.index.ids) for s in self.segments[1:])
        return deltas + sum(len(s.deleted) for s in self.segments)

    def search(
        self, query: str, k: int, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, score) over every segment, optionally only `allowed` ids."""
        tokens = tokenize(query)
        if not tokens or not self._where:
            return []
        parts = []
        for segment in self.segments:
            mask = segment.live
            if allowed is not None:
                mask = mask * np.fromiter((i in allowed for i in segment.index.ids), np.float32)
            parts.append(segment.index.scores(tokens, mask))
        return top_k(self._all_ids, np.concatenate(parts), k)

    # --- building --------------------------------------------------------------
    @classmethod
    def create(
        cls, folder: Path, ids: list[str], texts: list[str], version: int = 0
    ) -> SegmentedIndex:
        """One fresh segment over the given chunks (a first build or a compaction)."""
        if folder.exists() and not published(folder):
            shutil.rmtree(folder)  # an index of the unsegmented format, or never finished
        index = cls(folder, [Segment(_new_name(), Bm25sIndex.build(ids, texts))], version)
        index._publish(fresh=index.segments)
        return index

    def apply(
        self,
        added: dict[str, str],
        deleted: Iterable[str],
        version: int,
        texts_of: TextsOf,
        everything: Everything,
        policy: CompactionPolicy | None = None,
    ) -> SegmentedIndex:
        """The index with `added` chunks (id -> text) in and `deleted` ids out, published.

        Costs the change: one small segment and a new manifest; or, when the policy says
        so, a merge of the deltas (`texts_of`) or a compaction (`everything`).
        """
        policy = policy or CompactionPolicy()
        gone = {i for i in deleted if i in self._where}
        # an id both deleted and added is a chunk whose text changed (a curated edit)
        added = {i: t for i, t in added.items() if i not in self._where or i in gone}
        if not added and not gone:
            if version != self.version:
                self.version = version
                self._publish(fresh=[])
            return self
        live_after = len(self) + len(added) - len(gone)
        if live_after < policy.rebuild_below or (
            self.dead_weight + len(added) + len(gone) > policy.max_share * live_after
        ):
            return SegmentedIndex.create(self.folder, *everything(), version=version)
        segments = self._with_tombstones(gone)
        if len(segments) > policy.max_deltas:  # merge the deltas with the new chunks
            keep = [i for s in segments[1:] for i, m in zip(s.index.ids, s.live, strict=True) if m]
            added = {**texts_of(keep), **added}
            segments = segments[:1]
        fresh = []
        if added:  # a delete alone only writes tombstones
            ids = list(added)
            tokens = [tokenize(added[i]) for i in ids]
            stats = _stats(segments, tokens)
            fresh = [Segment(_new_name(), Bm25sIndex.from_tokens(ids, tokens, stats))]
        result = SegmentedIndex(self.folder, [*segments, *fresh], version)
        result._publish(fresh=fresh)
        return result

    def _with_tombstones(self, gone: set[str]) -> list[Segment]:
        """The segments with `gone` ids marked deleted (the segment files stay as they are)."""
        by_segment: dict[int, set[str]] = {}
        for chunk_id in gone:
            by_segment.setdefault(self._where[chunk_id], set()).add(chunk_id)
        return [
            Segment(s.name, s.index, s.deleted | by_segment[n]) if n in by_segment else s
            for n, s in enumerate(self.segments)
        ]

    def _publish(self, fresh: list[Segment]) -> None:
        """Write new segments, then swap the manifest, then drop unlisted segments."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for segment in fresh:
            segment.index.save(self.folder / segment.name)
        manifest = {
            "format": FORMAT,
            "version": self.version,
            "segments": [{"name": s.name, "deleted": sorted(s.deleted)} for s in self.segments],
        }
        tmp = self.folder / f"{MANIFEST}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(manifest))
        os.replace(tmp, self.folder / MANIFEST)
        listed = {s.name for s in self.segments}
        for child in self.folder.iterdir():
            if child.is_dir() and child.name.startswith("seg-") and child.name not in listed:
                shutil.rmtree(child, ignore_errors=True)

    # --- reading ---------------------------------------------------------------
    @classmethod
    def open(cls, folder: Path, attempts: int = 5) -> SegmentedIndex:
        """The published index (FileNotFoundError if there is none)."""
        for attempt in range(attempts):
            manifest = json.loads((folder / MANIFEST).read_text())
            try:
                segments = [
                    Segment(
                        entry["name"],
                        Bm25sIndex.load(folder / entry["name"]),
                        frozenset(entry["deleted"]),
                    )
                    for entry in manifest["segments"]
                ]
                return cls(folder, segments, int(manifest["version"]))
            except FileNotFoundError:  # a writer replaced the set while we read it
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")


def published(folder: Path) -> bool:
    """Whether a segmented index was ever published in `folder`."""
    return (folder / MANIFEST).exists()


def _stats(segments: list[Segment], tokens: list[list[str]]) -> CorpusStats:
    """The collection's statistics with the new documents: theirs plus every segment's."""
    doc_freq = Counter(t for doc in tokens for t in set(doc))
    for segment in segments:
        for token in doc_freq:
            doc_freq[token] += segment.index.doc_freq(token)
    return CorpusStats(
        n_docs=len(tokens) + sum(len(s.index.ids) for s in segments),
        total_len=sum(map(len, tokens)) + sum(s.index.total_len for s in segments),
        doc_freq=dict(doc_freq),
    )


def _new_name() -> str:
    return f"seg-{uuid.uuid4().hex[:12]}"
