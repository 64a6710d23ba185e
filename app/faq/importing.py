"""Reading an FAQ spreadsheet: csv (the csv module) or xlsx (openpyxl, read-only, so a
10,000-row sheet streams row by row). Columns 问题 and 答案 (or question and answer),
optional 相似问题 (alternative phrasings, one per line or separated by | or ；) and 来源.

Each bad row is one line naming its row number (empty cell, a question already in the
file or in the knowledge base, too long); the good rows are kept. HTML in an answer is
text like any other: it is stored as written and every surface shows it as text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

from app.faq.store import FaqDraft, FaqError
from app.faq.text import question_key

MAX_ROWS = 10_000
MAX_FILE_MB = 20
HEADERS = {
    "question": ("问题", "question", "questions", "标准问题"),
    "answer": ("答案", "answer", "answers", "回答"),
    "phrasings": ("相似问题", "phrasings", "similar questions", "alternatives", "相似问法"),
    "source": ("来源", "source"),
}
_SPLIT_PHRASINGS = re.compile(r"[\n|；;]+")


@dataclass(frozen=True)
class ParsedSheet:
    """The rows to add (drafts, checked) and one line per row left out."""

    drafts: list[FaqDraft] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_sheet(filename: str, data: bytes, existing: Iterable[str] = ()) -> ParsedSheet:
    """The drafts of a csv or xlsx file; `existing` are the questions (normalised, as
    `question_key` makes them) already in the knowledge base."""
    if len(data) > MAX_FILE_MB * 1024 * 1024:
        raise FaqError(f"{filename}: larger than {MAX_FILE_MB} MB")
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(data, filename)
    elif suffix == ".xlsx":
        rows = _xlsx_rows(data, filename)
    else:
        raise FaqError(f"{filename}: an FAQ is imported from a .csv or .xlsx file")
    return _drafts(rows, set(existing), filename)


def _csv_rows(data: bytes, filename: str) -> Iterator[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves csv as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FaqError(f"{filename}: not UTF-8 or GBK text")
    yield from csv.reader(io.StringIO(text, newline=""))


def _xlsx_rows(data: bytes, filename: str) -> Iterator[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FaqError(f"{filename}: not a readable xlsx file ({exc})") from None
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield ["" if v is None else str(v) for v in values]
    finally:
        book.close()


def _columns(header: list[str], filename: str) -> dict[str, int]:
    """Which column holds what; a missing question or answer column is the one error."""
    names = [h.strip().lower() for h in header]
    found = {
        key: next((names.index(a) for a in aliases if a in names), -1)
        for key, aliases in HEADERS.items()
    }
    if found["question"] < 0 or found["answer"] < 0:
        raise FaqError(
            f"{filename}: the first row must name the columns 问题 and 答案 "
            f"(or question and answer); it has {', '.join(h for h in header if h) or 'none'}"
        )
    return found


def _drafts(rows: Iterator[list[str]], existing: set[str], filename: str) -> ParsedSheet:
    header = next(rows, None)
    if header is None:
        raise FaqError(f"{filename}: the file is empty")
    columns = _columns(header, filename)
    parsed, seen = ParsedSheet(), dict.fromkeys(existing, 0)
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines between blocks are not errors
        if len(parsed.drafts) + len(parsed.errors) >= MAX_ROWS:
            parsed.errors.append(f"row {number} and after: more than {MAX_ROWS} rows; left out")
            break
        try:
            draft = _draft(row, columns).checked()
        except FaqError as exc:
            parsed.errors.append(f"row {number}: {exc}")
            continue
        key = question_key(draft.question)
        if key in seen:
            where = f"row {seen[key]}" if seen[key] else "the FAQ already"
            parsed.errors.append(f"row {number}: the question is a duplicate of {where}")
            continue
        seen[key] = number
        parsed.drafts.append(draft)
    return parsed


def _draft(row: list[str], columns: dict[str, int]) -> FaqDraft:
    def cell(key: str) -> str:
        at = columns[key]
        return row[at].strip() if 0 <= at < len(row) else ""

    phrasings = tuple(p.strip() for p in _SPLIT_PHRASINGS.split(cell("phrasings")) if p.strip())
    return FaqDraft(cell("question"), cell("answer"), phrasings, cell("source"))
