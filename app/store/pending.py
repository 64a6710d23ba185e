"""Knowledge-base renames and deletes in progress: one small file each, written before the
first step and removed after the last, so a crash in between is seen and finished.

A rename or delete moves or removes a dozen things keyed by the name (the collection, its
records, the BM25 folder, uploads, FAQ, grants…) that no one transaction spans. While its
file exists, every name it touches is hidden from the list of knowledge bases
(`app.store.knowledge_bases.list_collections`): nobody sees a knowledge base half renamed
or half deleted, and the next run of `app.knowledge` finishes it (every step is a no-op
once done).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.settings import Settings


@dataclass(frozen=True)
class PendingOperation:
    """`rename` (`name` → `new`) or `delete` (`name`), recorded at `path`."""

    op: Literal["rename", "delete"]
    name: str
    new: str = ""
    path: Path = Path()

    @property
    def names(self) -> set[str]:
        return {self.name, self.new} - {""}


def _folder(settings: Settings) -> Path:
    return settings.storage.data_dir / "pending"


def begin(settings: Settings, op: Literal["rename", "delete"], name: str, new: str = "") -> Path:
    """Record the operation (atomically, before any of its steps)."""
    folder = _folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.json"
    partial = path.with_suffix(".part")
    partial.write_text(
        json.dumps({"op": op, "name": name, "new": new}, ensure_ascii=False), encoding="utf-8"
    )
    os.replace(partial, path)
    return path


def finished(path: Path) -> None:
    path.unlink(missing_ok=True)


def pending(settings: Settings) -> list[PendingOperation]:
    """The operations a crash (or a writer now) left unfinished, oldest first."""
    try:
        paths = sorted(_folder(settings).glob("*.json"), key=lambda p: p.stat().st_mtime)
    except FileNotFoundError:
        return []
    found = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found.append(PendingOperation(data["op"], data["name"], data.get("new", ""), path))
        except (OSError, ValueError, KeyError):
            continue  # finished meanwhile, or not ours
    return found


def hidden(settings: Settings) -> set[str]:
    """Every knowledge-base name an unfinished operation touches."""
    return {name for operation in pending(settings) for name in operation.names}
