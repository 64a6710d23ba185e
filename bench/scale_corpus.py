"""Synthetic big knowledge bases made from the shared corpora, for `python -m bench scale`.

The shared corpora hold about 400,000 characters (~900 chunks); a 100k-chunk collection
needs ~22 million. Passage `n` is built by a random generator seeded with `n`: it takes
a run of one or two consecutive sentences from a random paragraph of the shared corpora,
then another run from another random paragraph, and so on until it has 200 characters
(cut at 280), and starts with its number ("〔n〕"). So every passage is distinct text
made of real Chinese (and English) sentences, and no two share their wording wholesale
(runs from the same few hundred paragraphs would repeat every ~30th passage). Passages are
written 20 to a file, separated by blank lines: zhiku's splitter (300 characters) keeps
each passage as exactly one chunk, since two never fit together.

Passage `n` does not depend on the size asked for, so the 10k collection is a subset of
the 30k one, which is a subset of the 100k one (and their embeddings are shared).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

MIN_CHARS = 200
MAX_CHARS = 280
MIN_PARAGRAPH = 20
PER_FILE = 20
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a source file, already split into sentences."""

    sentences: tuple[str, ...]


def read_paragraphs(folders: list[Path]) -> list[Paragraph]:
    """Every paragraph (of at least MIN_PARAGRAPH characters) of the .txt/.md files below
    `folders`, in a stable order."""
    paragraphs: list[Paragraph] = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix not in (".txt", ".md") or not path.is_file():
                continue
            paragraphs.extend(split_paragraphs(path.read_text(encoding="utf-8")))
    if not paragraphs:
        raise ValueError(f"no paragraph of {MIN_PARAGRAPH}+ characters under {folders}")
    return paragraphs


def split_paragraphs(text: str) -> list[Paragraph]:
    """Paragraphs (one per line) of MIN_PARAGRAPH+ characters, as sentences."""
    found = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if len(line) >= MIN_PARAGRAPH:
            sentences = (s.strip() for s in _SENTENCE_END.split(line))
            found.append(Paragraph(tuple(s for s in sentences if s)))
    return found


def passage_runs(n: int, paragraphs: list[Paragraph]) -> list[tuple[str, ...]]:
    """The sentence runs passage `n` is made of (before its number and the cut)."""
    rng = random.Random(n)
    runs: list[tuple[str, ...]] = []
    length = len(_prefix(n))
    while length < MIN_CHARS:
        sentences = paragraphs[rng.randrange(len(paragraphs))].sentences
        start = rng.randrange(len(sentences))
        run = sentences[start : start + rng.randint(1, 2)]
        runs.append(run)
        length += sum(map(len, run))
    return runs


def passage(n: int, paragraphs: list[Paragraph]) -> str:
    """Passage number `n`: deterministic, MIN_CHARS..MAX_CHARS characters, unique by
    its number."""
    text = _prefix(n) + "".join(s for run in passage_runs(n, paragraphs) for s in run)
    return text[:MAX_CHARS]


def _prefix(n: int) -> str:
    return f"〔{n}〕"


def write_corpus(folder: Path, chunks: int, paragraphs: list[Paragraph]) -> int:
    """Write passages 0..chunks-1 as files of PER_FILE passages; returns the file count.

    Files already present with the right content are left alone (a second run over the
    same folder changes nothing, so an interrupted build resumes)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = 0
    for first in range(0, chunks, PER_FILE):
        numbers = range(first, min(first + PER_FILE, chunks))
        text = "\n\n".join(passage(n, paragraphs) for n in numbers) + "\n"
        path = folder / f"scale-{first // PER_FILE:05d}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        files += 1
    return files
