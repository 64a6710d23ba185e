"""Uploads of the issue-25 formats: an oversized image is refused at once, in one line."""

from __future__ import annotations

import io

import pytest

from ingest.uploads import UploadError, save_upload


def test_an_image_over_the_pixel_limit_is_refused_before_it_is_written(make_settings) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (8000, 7000)).save(buffer, "PNG")  # 56 megapixels in a few KB
    settings = make_settings()
    with pytest.raises(UploadError, match=r"poster\.png: .*56 megapixels.*50") as info:
        save_upload(settings, "docs", "poster.png", buffer.getvalue())
    assert "\n" not in str(info.value)
    small = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(small, "PNG")
    assert save_upload(settings, "docs", "note.png", small.getvalue()).is_file()
