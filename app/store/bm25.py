"""Chinese BM25 over a collection's chunks, with bm25s, saved beside the collection.

Tokens: character unigrams + bigrams for Chinese (measured on CMRC as slightly better
than jieba words, and it needs no dictionary: see docs/benchmarks.md), Latin and digit
runs kept whole and lower-cased, punctuation and spaces dropped, after NFKC so full-
width "ＧＰＴ－１" and "GPT-1" match. Whitespace tokenisation, bm25s' default, scores
Chinese text near zero.

bm25s cannot update an index in place, so ingest rebuilds it from Chroma after any
change (milliseconds for thousands of chunks); queries only load it. A STALE marker
written before every ingest write makes a crash leave an index that is rebuilt next time.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.settings import Settings
from app.text import tokenize

STALE_MARKER = "STALE"


def index_dir(settings: Settings, collection: str) -> Path:
    """Where a collection's BM25 index lives: beside the collection, per Chroma location."""
    url = settings.chroma_server_url
    location = "embedded" if not url else "server-" + hashlib.sha1(url.encode()).hexdigest()[:10]
    return settings.data_dir / "bm25" / location / collection


@dataclass
class BM25Index:
    """A bm25s retriever plus the Chroma ids of the chunks it indexes, in order."""

    ids: list[str]
    retriever: object | None  # bm25s.BM25; None for an empty collection

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> BM25Index:
        import bm25s

        if not ids:
            return cls([], None)
        retriever = bm25s.BM25()
        retriever.index([tokenize(t) for t in texts], show_progress=False)
        return cls(list(ids), retriever)

    def search(
        self, query: str, k: int, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, score) with a positive score, optionally only `allowed` ids."""
        if self.retriever is None or k <= 0:
            return []
        tokens = tokenize(query)
        if not tokens:
            return []
        mask = None
        if allowed is not None:
            mask = np.fromiter((i in allowed for i in self.ids), dtype=np.float32)
        k = min(k, len(self.ids))
        rows, scores = self.retriever.retrieve(
            [tokens], k=k, show_progress=False, weight_mask=mask, n_threads=1
        )
        return [
            (self.ids[int(row)], float(score))
            for row, score in zip(rows[0], scores[0], strict=True)
            if score > 0
        ]

    def save(self, folder: Path) -> None:
        """Write atomically: a reader never sees half an index."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        (tmp / "ids.json").write_text(json.dumps(self.ids))
        if self.retriever is not None:
            self.retriever.save(str(tmp / "bm25s"), show_progress=False)
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        import bm25s

        ids = json.loads((folder / "ids.json").read_text())
        if not ids:
            return cls([], None)
        retriever = bm25s.BM25.load(str(folder / "bm25s"), show_progress=False, verbosity=0)
        return cls(ids, retriever)


def all_chunks(store) -> tuple[list[str], list[str]]:
    """Every (id, text) of a Chroma-backed LangChain store."""
    from app.store.chroma import iter_pages

    ids: list[str] = []
    texts: list[str] = []
    for page in iter_pages(store, ["documents"]):
        ids.extend(page["ids"])
        texts.extend(page["documents"] or [])
    return ids, texts


def mark_stale(folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.with_name(folder.name + "." + STALE_MARKER).touch()


def clear_stale(folder: Path) -> None:
    folder.with_name(folder.name + "." + STALE_MARKER).unlink(missing_ok=True)


def is_stale(folder: Path) -> bool:
    return folder.with_name(folder.name + "." + STALE_MARKER).exists() or not folder.exists()


def rebuild(store, folder: Path) -> BM25Index:
    """Build from the collection's current chunks, save, clear the stale marker."""
    ids, texts = all_chunks(store)
    index = BM25Index.build(ids, texts)
    index.save(folder)
    clear_stale(folder)
    return index


_loaded: dict[Path, tuple[float, BM25Index]] = {}
_lock = threading.Lock()


def load_current(store, folder: Path) -> BM25Index:
    """The index for queries: loaded once per process, reloaded when ingest rewrote it,
    rebuilt when an interrupted ingest left it stale."""
    with _lock:
        if is_stale(folder):
            index = rebuild(store, folder)
            _loaded[folder] = (folder.stat().st_mtime, index)
            return index
        mtime = folder.stat().st_mtime
        cached = _loaded.get(folder)
        if cached is None or cached[0] != mtime:
            cached = (mtime, BM25Index.load(folder))
            _loaded[folder] = cached
        return cached[1]
