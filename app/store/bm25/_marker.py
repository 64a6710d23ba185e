"""The files beside an index that make it crash-safe and one-updater-at-a-time.

A writer holds the STALE marker (a shared flock on a file beside the index) while it
writes. A marker that nobody holds any more is a writer that died between writing Chroma
and updating the index: the next reader or writer then rebuilds the index from Chroma.
A second lock file lets one process at a time rebuild or extend the index.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.store.bm25._segments import published

STALE_MARKER = "STALE"


def _marker(folder: Path) -> Path:
    return folder.with_name(folder.name + "." + STALE_MARKER)


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
def writer_holds_marker(folder: Path) -> Iterator[None]:
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
def one_updater(folder: Path) -> Iterator[None]:
    """One process at a time rebuilds or extends an index (others wait, then reuse it)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
