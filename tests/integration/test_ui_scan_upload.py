"""A scanned PDF uploaded on the Knowledge bases page is OCR'd with its pages counted in
the progress bar (issue 25), driven by streamlit.testing with the real OCR model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.document_files import image_pdf, render_page
from tests.helpers import MODELS_DIR, open_chat_app


@pytest.fixture
def scan_settings(tmp_path: Path, embedding_cache_root: Path):
    from app.settings import load_settings

    empty = tmp_path / "no-samples"
    empty.mkdir()
    return load_settings(
        data_dir=tmp_path / "data",
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        language="en",  # the page's texts below are the English ones
        embedding_backend="use",
        collection="scans",
        sample_corpus=empty,
    )


def test_a_scanned_upload_is_read_page_by_page(scan_settings, tmp_path, monkeypatch) -> None:
    pages = [render_page(None, [f"第{n}页：消防演练记录。"], (1240, 300)) for n in (1, 2, 3)]
    data = image_pdf(tmp_path / "scan.pdf", pages).read_bytes()
    app = open_chat_app(scan_settings, monkeypatch)
    app.switch_page("views/knowledge.py").run()
    app.file_uploader[0].set_value([("scan.pdf", data, "application/pdf")]).run()
    app.button(key="ingest_uploads").click().run()
    assert not app.exception, app.exception
    assert any("indexed 1" in s.value for s in app.success), [s.value for s in app.success]
    app.run()
    documents = next(d.value for d in app.dataframe if d.value.columns[0] == "Document")
    assert list(documents.iloc[:, 1]) == [3]  # one chunk per OCR'd page
