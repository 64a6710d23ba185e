"""A knowledge base's description: one short text a person writes so that others know
what it holds (shown on the chat's start screen and the knowledge-base list).

One small file per knowledge base in the data folder (`descriptions/<name>.txt`),
replaced atomically: Chroma collection metadata would also work embedded, but a Chroma
server's metadata is shared by every client and changes with its version.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.settings import Settings, validate_collection_name

MAX_CHARS = 500


def description_path(settings: Settings, name: str) -> Path:
    return settings.storage.data_dir / "descriptions" / f"{validate_collection_name(name)}.txt"


def read_description(settings: Settings, name: str) -> str:
    try:
        return description_path(settings, name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def write_description(settings: Settings, name: str, text: str) -> str:
    """Keep `text` (stripped, at most MAX_CHARS); an empty text removes the description."""
    text = " ".join(text.split())[:MAX_CHARS]
    path = description_path(settings, name)
    if not text:
        path.unlink(missing_ok=True)
        return ""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return text
