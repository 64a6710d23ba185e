"""OCR boxes in reading order, and images refused before they are decoded (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoadError, load_file
from ingest.ocr import reading_order


def box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def test_boxes_read_top_to_bottom_then_left_to_right() -> None:
    boxes = [
        (box(400, 102, 500, 130), "价格"),  # same line as 型号, a little lower
        (box(50, 100, 150, 128), "型号"),
        (box(50, 160, 150, 188), "X200"),
        (box(400, 158, 500, 186), "3200"),
        (box(50, 20, 600, 50), "产品价格表"),
    ]
    assert reading_order(boxes) == "产品价格表\n型号 价格\nX200 3200"


def test_adjacent_boxes_join_without_a_space() -> None:
    assert (
        reading_order([(box(0, 0, 100, 30), "知库"), (box(102, 1, 200, 31), "手册")]) == "知库手册"
    )


def test_huge_and_fake_images_are_one_line_refusals(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("1", (8000, 7000)).save(tmp_path / "poster.png")  # 56 megapixels, small file
    (tmp_path / "photo.png").write_bytes(b"not an image at all\n" * 50)
    with pytest.raises(LoadError, match=r"56 megapixels .*ZHIKU_MAX_IMAGE_MEGAPIXELS") as big:
        load_file(tmp_path / "poster.png", 10**8, max_image_pixels=50_000_000)
    assert big.value.skipped
    with pytest.raises(LoadError, match="not an image"):
        load_file(tmp_path / "photo.png", 10**8)
