"""The files and folders a knowledge base was built from, so it can be re-indexed.

Chunks only know their path relative to the folder they were ingested from; to read
the documents again ("re-index" in the chat, after files changed on disk) zhiku keeps
the list of those folders beside the index, one small JSON file per knowledge base.
"""

from __future__ import annotations

import fcntl
import json
import tempfile
from pathlib import Path

from app.settings import Settings, validate_collection_name

# What is kept per knowledge base in the roots folder, by file suffix: its folders (here),
# its web pages (ingest/web.py) and the last state of each document (ingest/status.py).
ROOTS, URLS, STATUS = ".json", ".urls.json", ".status.json"


def kb_file(settings: Settings, collection: str, suffix: str) -> Path:
    """One of a knowledge base's files in the roots folder."""
    return settings.storage.data_dir / "roots" / f"{validate_collection_name(collection)}{suffix}"


def _roots_file(settings: Settings, collection: str) -> Path:
    return kb_file(settings, collection, ROOTS)


def move_roots(settings: Settings, old: str, new: str, moved: dict[Path, Path]) -> None:
    """A renamed knowledge base's files here follow it; a remembered folder that moved
    with it (its uploads folder: `moved`, old path to new) is remembered at its new place.
    Each file is written under its new name before the old one goes: run again after a
    crash, it finishes."""
    for suffix in (ROOTS, URLS, STATUS):
        source, target = kb_file(settings, old, suffix), kb_file(settings, new, suffix)
        if not source.exists():
            continue
        text = source.read_text(encoding="utf-8")
        if suffix == ROOTS:
            paths = [Path(p) for p in json.loads(text or "[]")]
            text = json.dumps([str(moved.get(p, p)) for p in paths], ensure_ascii=False)
        partial = target.with_name(f".{target.name}.part")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
        source.unlink()


def forget_roots(settings: Settings, collection: str) -> None:
    """A deleted knowledge base's files here (the folders they name are left alone)."""
    for suffix in (ROOTS, URLS, STATUS):
        kb_file(settings, collection, suffix).unlink(missing_ok=True)


def remembered_roots(settings: Settings, collection: str) -> list[Path]:
    """The folders and files ingested into `collection`, oldest first."""
    path = _roots_file(settings, collection)
    try:
        return [Path(p) for p in json.loads(path.read_text(encoding="utf-8"))]
    except (FileNotFoundError, ValueError):
        return []


def remember_roots(settings: Settings, collection: str, paths: list[Path]) -> None:
    """Add `paths` (made absolute) to the knowledge base's list; written atomically.

    Two sessions (or processes) may start an ingest at the same moment, before the writer
    lock decides which one runs: the read-modify-write holds a file lock, and each writer
    uses its own temporary file, so neither a root nor the file is lost."""
    target = _roots_file(settings, collection)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        roots = remembered_roots(settings, collection)
        for path in paths:
            absolute = path.expanduser().absolute()
            if absolute not in roots:
                roots.append(absolute)
        with tempfile.NamedTemporaryFile(
            "w", dir=target.parent, suffix=".part", delete=False, encoding="utf-8"
        ) as partial:
            partial.write(json.dumps([str(p) for p in roots], ensure_ascii=False))
        Path(partial.name).replace(target)


def locate_source(settings: Settings, collection: str, source: str) -> Path | None:
    """The file on disk a chunk's `source` came from, if it is still there.

    Only a file inside a remembered folder (or a remembered file itself) is found: a
    `source` like `../../etc/passwd` or an absolute path names nothing."""
    for root in remembered_roots(settings, collection):
        try:
            if root.is_dir():
                candidate = root / source
                if candidate.resolve().is_relative_to(root.resolve()) and candidate.is_file():
                    return candidate
            elif root.name == source and root.is_file():
                return root
        except (OSError, RuntimeError):  # a symlink loop, a file gone unreadable: not there
            continue
    return None
