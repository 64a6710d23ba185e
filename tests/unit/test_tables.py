"""Tables as records (issue 25): row formatting, row packing, spreadsheet bounds."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from ingest.loaders import LoadedFile, LoadError, load_file
from ingest.splitting import make_splitter, split_file
from ingest.tables import SectionBuilder, cell_text, format_row, header_names
from tests.document_files import empty_rows_xlsx, price_xlsx


def test_a_row_repeats_its_column_names_and_skips_empty_cells() -> None:
    header = header_names(["型号", "功率", None, "价格"])
    assert header == ["型号", "功率", "列3", "价格"]
    row = format_row(header, ["X200", "1.5 kW", None, 3200.0])
    assert row == "型号: X200；功率: 1.5 kW；价格: 3200"


def test_cells_read_as_a_person_would_type_them() -> None:
    assert cell_text(2.5) == "2.5" and cell_text(7.0) == "7"
    assert cell_text(dt.datetime(2024, 5, 1)) == "2024-05-01"
    assert cell_text("  多行\n文字 ") == "多行 文字"
    assert cell_text(None) == ""


def _chunks(rows: list[list[str]], size: int) -> list[str]:
    builder = SectionBuilder()
    builder.text("表格之前的一段说明文字，介绍了这一季度各型号水泵的价格和功率参数。")
    builder.table(rows, {"sheet": "价格表"})
    loaded = LoadedFile("t", builder.sections)
    return [c.page_content for c in split_file(loaded, "t.xlsx", make_splitter(size, 20))]


def test_rows_are_packed_whole_and_never_cut() -> None:
    rows = [["型号", "说明"]] + [[f"X{n:03d}", "一台很可靠的水泵，" * 3] for n in range(40)]
    chunks = _chunks(rows, 200)
    table_chunks = [c for c in chunks if "型号: X" in c]
    assert len(table_chunks) > 5
    for chunk in table_chunks:
        for line in chunk.splitlines():
            if line.startswith("型号: X"):  # every row whole: name, value and its end
                assert line.endswith("一台很可靠的水泵，" * 3), chunk
    rows_seen = sum(c.count("型号: X") for c in chunks)
    assert rows_seen == 40


def test_a_small_table_stays_in_one_chunk() -> None:
    rows = [["型号", "价格"], ["X200", "3200"], ["X300", "4100"], ["F10", "1800"]]
    chunks = _chunks(rows, 300)
    assert (
        sum("型号: X200；价格: 3200\n型号: X300；价格: 4100\n型号: F10" in c for c in chunks) == 1
    )


def test_xlsx_merged_cells_and_formula_values(tmp_path: Path) -> None:
    loaded = load_file(price_xlsx(tmp_path / "price.xlsx"), 10**8)
    lines = [s.text.strip() for s in loaded.sections]
    assert "类别: 水泵；型号: X300；功率: 2.2 kW；价格: 4100" in lines  # merged down
    assert "型号: 合计；价格: 9100" in lines  # the formula's saved value
    assert {s.metadata["sheet"] for s in loaded.sections} == {"价格表", "常见问题"}


def test_a_million_empty_rows_are_refused_or_cut_quickly(tmp_path: Path) -> None:
    path = empty_rows_xlsx(tmp_path / "formatted.xlsx")
    try:
        load_file(path, 10**8, max_unpacked_bytes=20_000_000)
        raise AssertionError("the unpacked-size limit should refuse 44 MB of XML")
    except LoadError as exc:
        assert "ZHIKU_MAX_UNPACKED_MB" in str(exc) and "\n" not in str(exc)
    started = time.process_time()
    loaded = load_file(path, 10**8, max_unpacked_bytes=10**9, max_sheet_rows=2_000_000)
    assert [s.text for s in loaded.sections] == ["型号: E1；价格: 99\n"]
    assert time.process_time() - started < 5  # stops after the run of empty rows
