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


def _roots_file(settings: Settings, collection: str) -> Path:
    return settings.storage.data_dir / "roots" / f"{validate_collection_name(collection)}.json"


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
        if root.is_dir():
            candidate = root / source
            if candidate.resolve().is_relative_to(root.resolve()) and candidate.is_file():
                return candidate
        elif root.name == source and root.is_file():
            return root
    return None
