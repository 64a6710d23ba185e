"""A chunk's `source` finds its file only inside the folders the knowledge base was built
from: the source viewer and delete never read or name a file out of them."""

from __future__ import annotations

import json

from ingest.page_images import ocr_boxes
from ingest.roots import locate_source, remember_roots
from ingest.tables import format_row, parse_row


def test_a_source_resolves_only_inside_a_remembered_folder(make_settings, tmp_path) -> None:
    settings = make_settings()
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("secret", encoding="utf-8")
    remember_roots(settings, "notes", [folder])
    assert locate_source(settings, "notes", "sub/a.txt") == folder / "sub" / "a.txt"
    assert locate_source(settings, "notes", "../outside.txt") is None
    assert locate_source(settings, "notes", "sub/../../outside.txt") is None
    assert locate_source(settings, "notes", str(tmp_path / "outside.txt")) is None
    assert locate_source(settings, "notes", "../../../../../../etc/passwd") is None
    (folder / "link.txt").symlink_to(tmp_path / "outside.txt")
    assert locate_source(settings, "notes", "link.txt") is None


def test_the_ocr_boxes_of_a_quote_are_the_lines_it_overlaps() -> None:
    rows = [[0, 6, 0, 90, 120, 400, 152], [7, 25, 0, 90, 184, 700, 216], [26, 40, 1, 9, 9, 99, 30]]
    value = json.dumps(rows)
    assert ocr_boxes(value, 8, 12) == (0, [(90, 184, 700, 216)])
    assert ocr_boxes(value, 3, 10) == (0, [(90, 120, 400, 152), (90, 184, 700, 216)])
    assert ocr_boxes(value, 30, 31) == (1, [(9, 9, 99, 30)])
    assert ocr_boxes(value, 41, 50) == (0, [])
    assert ocr_boxes("not json", 0, 5) == (0, [])


def test_a_row_line_reads_back_as_its_header_and_values() -> None:
    header = ["型号", "功率", "备注"]
    line = format_row(header, ["X200", "1.5 kW", "备注"])
    assert parse_row(line) == (["型号", "功率", "备注"], ["X200", "1.5 kW", "备注"])
