"""Tables as records: each row becomes one line that repeats its column names.

A row of a price list is a fact about one thing ("型号: X200；功率: 1.5 kW；价格: 3200");
flattened into a run of cells its header is far from its values and retrieval cannot
match "X200 多少钱" to the row. Rows are `Section(row=True)`: the splitter packs whole
rows into chunks and never cuts one, so a small table stays in one chunk.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ingest.documents import LoadedFile, LoadError, Section, decode_text

log = logging.getLogger(__name__)

MAX_COLUMNS = 256
# A sheet ends after this many empty rows in a row: formatted-but-empty rows are how
# a 1,000,000-row sheet with 20 rows of data usually looks.
EMPTY_RUN = 1000
DEFAULT_MAX_SHEET_ROWS = 100_000
FIELD_SEPARATOR = "；"


def cell_text(value: Any) -> str:
    """A cell as a reader would type it: 3.0 → "3", dates without midnight, no padding."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return re.sub(r"\s+", " ", str(value)).strip()


def header_names(header: Sequence[Any]) -> list[str]:
    """Column names; an unnamed column is 列N (its 1-based position)."""
    return [cell_text(h) or f"列{n}" for n, h in enumerate(header, start=1)]


def format_row(header: Sequence[str], row: Sequence[Any]) -> str:
    """ "name: value" pairs of the non-empty cells, joined with ；."""
    pairs = []
    for n, value in enumerate(row):
        text = cell_text(value)
        if text:
            name = header[n] if n < len(header) else f"列{n + 1}"
            pairs.append(text if name == text else f"{name}: {text}")
    return FIELD_SEPARATOR.join(pairs)


def row_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The first non-empty row is the header; every later non-empty row one line.
    A table of only a header row is that row."""
    header: list[str] | None = None
    for row in rows:
        if not any(cell_text(v) for v in row):
            continue
        if header is None:
            header = header_names(row)
            continue
        yield format_row(header, row)


class SectionBuilder:
    """Sections with contiguous offsets: text runs and table rows in document order."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.offset = 0

    def text(self, text: str, metadata: dict[str, str | int] | None = None) -> None:
        if text.strip():
            self._add(Section(text + "\n\n", dict(metadata or {}), self.offset))

    def table(self, rows: Iterable[Sequence[Any]], metadata: dict[str, str | int]) -> int:
        """Add a table's rows; returns how many rows it had."""
        count = 0
        for line in _with_lonely_header(rows):
            self._add(Section(line + "\n", dict(metadata), self.offset, row=True))
            count += 1
        return count

    def _add(self, section: Section) -> None:
        self.sections.append(section)
        self.offset += len(section.text)


def _with_lonely_header(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """row_lines, but a one-row table yields that row rather than nothing."""
    first: Sequence[Any] | None = None
    produced = False

    def remember(seq: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        nonlocal first
        for row in seq:
            if first is None and any(cell_text(v) for v in row):
                first = row
            yield row

    for line in row_lines(remember(rows)):
        produced = True
        yield line
    if not produced and first is not None:
        yield FIELD_SEPARATOR.join(t for t in map(cell_text, first) if t)


# --- spreadsheets ---------------------------------------------------------------


def load_xlsx(path: Path, max_rows: int = DEFAULT_MAX_SHEET_ROWS) -> LoadedFile:
    """Each sheet a table. read_only streams rows (a big sheet is not held in memory);
    data_only gives formulas' values as last saved by Excel, not their source."""
    import zipfile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise LoadError(
            f"corrupt spreadsheet ({str(exc)[:120]})", code="corrupt", format="XLSX"
        ) from None
    builder = SectionBuilder()
    try:
        for sheet in workbook.worksheets:
            merges = _merged_ranges(workbook, sheet)
            rows = _sheet_rows(sheet, merges, max_rows, path.name)
            builder.table(rows, {"sheet": sheet.title})
    finally:
        workbook.close()
    title = workbook.properties.title or path.stem
    return LoadedFile(title=title, sections=builder.sections)


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


def _merged_ranges(workbook: Any, sheet: Any) -> list[tuple[int, int, int, int]]:
    """Merged ranges as (min_col, min_row, max_col, max_row). read_only mode does not
    parse them, so they are found in the sheet's XML (its size is bounded by
    ZHIKU_MAX_UNPACKED_MB before the file is opened)."""
    from openpyxl.utils.cell import range_boundaries

    try:
        with workbook._archive.open(sheet._worksheet_path) as part:
            xml = part.read()
    except (AttributeError, KeyError, OSError):
        return []
    return [range_boundaries(m.decode()) for m in _MERGE.findall(xml)[:10000]]


def _sheet_rows(
    sheet: Any, merges: list[tuple[int, int, int, int]], max_rows: int, name: str
) -> Iterator[list[Any]]:
    """Rows with merged cells filled from their top-left cell, trailing empties cut;
    stops at `max_rows` or after EMPTY_RUN empty rows in a row (with a note)."""
    anchors: dict[tuple[int, int], Any] = {}
    empty_run = 0
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > max_rows:
            log.warning(
                "%s / %s: stopped at row %d (ZHIKU_MAX_SHEET_ROWS)", name, sheet.title, max_rows
            )
            return
        row = list(values[:MAX_COLUMNS])
        for min_col, min_row, max_col, max_row in merges:
            if min_row <= number <= max_row:
                if number == min_row:
                    anchors[(min_row, min_col)] = row[min_col - 1] if min_col <= len(row) else None
                value = anchors.get((min_row, min_col))
                last = min(max_col, MAX_COLUMNS)
                row.extend([None] * (last - len(row)))
                for col in range(min_col, last + 1):
                    row[col - 1] = value
        if any(v is not None and cell_text(v) for v in row):
            empty_run = 0
            yield row
        else:
            empty_run += 1
            if empty_run >= EMPTY_RUN:
                log.warning(
                    "%s / %s: %d empty rows from row %d, the rest of the sheet skipped",
                    name,
                    sheet.title,
                    EMPTY_RUN,
                    number - EMPTY_RUN + 1,
                )
                return


def load_csv(path: Path) -> LoadedFile:
    """A CSV (dialect sniffed, any encoding decode_text reads) as one table."""
    text = decode_text(path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    builder = SectionBuilder()
    builder.table(csv.reader(io.StringIO(text), dialect), {})
    return LoadedFile(title=path.stem, sections=builder.sections)


# --- tables inside documents ------------------------------------------------------


def docx_sections(document: Any) -> list[Section]:
    """Paragraphs and tables in document order; a horizontally merged cell repeats its
    text in each column it spans (python-docx returns it once per grid column)."""
    from docx.table import Table

    builder = SectionBuilder()
    paragraphs: list[str] = []
    tables = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            builder.text("\n\n".join(paragraphs))
            paragraphs = []
            tables += 1
            rows = ([cell.text.strip() for cell in row.cells] for row in block.rows)
            builder.table(rows, {"table": tables})
        else:
            paragraphs.append(block.text)
    builder.text("\n\n".join(paragraphs))
    return builder.sections


_TABLE_MARK = re.compile("\ue000(\\d+)\ue000")


def html_sections(body: Any) -> list[Section]:
    """The text of an HTML body with each outermost <table> as rows, in document order.
    Each table is swapped for a private-use marker before the text is taken, so the
    text around it keeps its place."""
    tables = [t for t in body.find_all("table") if t.find_parent("table") is None]
    parsed = []
    for number, table in enumerate(tables, start=1):
        parsed.append(_html_rows(table))
        table.replace_with(f"\n\ue000{number}\ue000\n")
    lines = [line.strip() for line in body.get_text("\n").splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    builder = SectionBuilder()
    pos = 0
    for match in _TABLE_MARK.finditer(text):
        builder.text(text[pos : match.start()].strip())
        number = int(match.group(1))
        builder.table(parsed[number - 1], {"table": number})
        pos = match.end()
    builder.text(text[pos:].strip())
    return builder.sections


def _html_rows(table: Any) -> list[list[str]]:
    rows = []
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        row: list[str] = []
        for cell in tr.find_all(["th", "td"], recursive=False):
            span = _int(cell.get("colspan"), 1)
            row.extend([cell.get_text(" ", strip=True)] * min(max(span, 1), MAX_COLUMNS))
        rows.append(row[:MAX_COLUMNS])
    return rows


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def parse_row(line: str) -> tuple[list[str], list[str]]:
    """A row line (`format_row`'s "name: value；…") back as its column names and values,
    for the source viewer; a cell shown without a name (its value equals the column
    name) keeps that text as both."""
    names, values = [], []
    for pair in line.strip().split(FIELD_SEPARATOR):
        if not pair:
            continue
        name, sep, value = pair.partition(": ")
        names.append(name if sep else pair)
        values.append(value if sep else pair)
    return names, values
