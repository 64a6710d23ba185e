"""Find the files to ingest below the paths a user gives, without following symlinked folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES


@dataclass(frozen=True)
class Candidate:
    """A file to ingest; `source` is its path relative to the ingest root, in POSIX form."""

    path: Path
    source: str


def discover(paths: list[Path]) -> tuple[list[Candidate], int]:
    """Supported files below `paths`, sorted, and how many other files were ignored.

    A path that is a file is taken whatever its type (the loader then says if it cannot
    read it); inside folders, hidden entries and unsupported types are ignored, and
    symlinked folders are not followed (a symlink loop cannot trap the walk).
    """
    found: dict[str, Candidate] = {}
    ignored = 0
    for given in paths:
        if given.is_dir():
            for path in _walk(given):
                if path.suffix.lower() in SUPPORTED_SUFFIXES:
                    source = path.relative_to(given).as_posix()
                    found.setdefault(source, Candidate(path, source))
                else:
                    ignored += 1
        else:
            found.setdefault(given.name, Candidate(given, given.name))
    return sorted(found.values(), key=lambda c: c.source), ignored


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name
