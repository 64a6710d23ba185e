"""The source viewer's service (issue 25): a cited chunk opened at its place, with the real
OCR model, PDFium, real Chroma and the default embedder; a source that is not the knowledge
base's, or a path out of its folders, is refused in one line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app.knowledge.service import KnowledgeBases
from app.knowledge.sources import SourceError
from ingest.page_images import HIGHLIGHT
from tests.document_files import image_pdf, price_xlsx, render_page

PDF_QUOTE = "The pump must be serviced every 500 hours."

SCAN_LINES = ["设备巡检通知", "三号车间的空压机每周二上午进行巡检。", "联系电话：分机 4417。"]
QUOTE = "三号车间的空压机每周二上午进行巡检"
LINE_TOP = 120 + 64  # render_page draws line n at y = 120 + 64 n, 32 px high


def highlight_pixels(png: bytes, box: tuple[int, int, int, int] | None = None) -> int:
    """How many pixels have the outline's exact colour (inside `box` if given)."""
    import numpy as np
    from PIL import Image

    picture = Image.open(io.BytesIO(png)).convert("RGB")
    if box:
        picture = picture.crop(box)
    return int((np.asarray(picture) == HIGHLIGHT).all(axis=2).sum())


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    from app.settings import load_settings

    folder = tmp_path_factory.mktemp("viewer-docs")
    image_pdf(folder / "scan.pdf", [render_page(None, SCAN_LINES, (1240, 600))])
    render_page(folder / "notice.png", SCAN_LINES, (1240, 600))  # a photo of the notice
    (folder / "notes.md").write_text(
        "# 说明\n\n" + "前言。" * 400 + "\n\n知库的维护窗口是每月第一个周六。\n", encoding="utf-8"
    )
    price_xlsx(folder / "price.xlsx")
    text_pdf(folder / "manual.pdf")
    other = tmp_path_factory.mktemp("viewer-other")
    (other / "secret.txt").write_text("另一个知识库的秘密：口令是蓝鲸。", encoding="utf-8")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("viewer-data"),
        cache_dir=embedding_cache_root,
        collection="viewer",
    )
    kbs = KnowledgeBases(settings)
    kbs.create("viewer")
    assert kbs.ingest_paths("viewer", [folder]).ok
    kbs.create("other")
    assert kbs.ingest_paths("other", [other]).ok
    return kbs


def text_pdf(path: Path) -> None:
    """Two pages with a text layer; the quote on the second, below a first paragraph."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=14)
    pdf.add_page()
    pdf.multi_cell(0, 10, "Page one is about the warranty, which lasts two years.")
    pdf.add_page()
    pdf.multi_cell(0, 10, "Maintenance schedule for the X200 pump.")
    pdf.ln(60)
    pdf.multi_cell(0, 10, PDF_QUOTE + " Use the oil named in the table.")
    pdf.output(str(path))


def chunk_of(kbs: KnowledgeBases, name: str, source: str, containing: str) -> str:
    found = kbs._open(name).store.get(where={"source": source}, include=["documents"])
    for chunk_id, text in zip(found["ids"], found["documents"], strict=True):
        if containing in text:
            return str(chunk_id)
    raise AssertionError(f"no chunk of {source} holds {containing!r}")


def test_a_scanned_page_is_its_picture_with_the_ocr_box_round_the_quote(service) -> None:
    chunk = chunk_of(service, "viewer", "scan.pdf", QUOTE)
    view = service.open_source("viewer", "scan.pdf", chunk, QUOTE)
    assert view.kind == "page" and view.page == 1 and view.highlighted
    assert view.image is not None
    line = (0, LINE_TOP - 30, 1240, LINE_TOP + 75)  # the quoted line, with the outline
    inside = highlight_pixels(view.image, line)
    assert inside > 1000  # a 4-pixel outline round a line of ~600 px
    assert highlight_pixels(view.image) == inside  # nothing boxed elsewhere


def test_an_image_file_is_shown_with_the_box_round_the_quote(service) -> None:
    chunk = chunk_of(service, "viewer", "notice.png", QUOTE)
    view = service.open_source("viewer", "notice.png", chunk, QUOTE)
    assert view.kind == "page" and view.page == 1 and view.highlighted
    assert view.image is not None
    line = (0, LINE_TOP - 30, 1240, LINE_TOP + 75)
    assert highlight_pixels(view.image, line) == highlight_pixels(view.image) > 1000


def test_a_pdf_page_with_text_is_rendered_with_the_quote_boxed(service) -> None:
    chunk = chunk_of(service, "viewer", "manual.pdf", "500 hours")
    view = service.open_source("viewer", "manual.pdf", chunk, PDF_QUOTE)
    assert view.kind == "page" and view.page == 2 and view.highlighted
    assert view.image is not None
    # at 144 dpi the page is 1190 px wide; the quote is some 80 mm (450 px) down
    assert highlight_pixels(view.image, (0, 300, 1191, 700)) > 500
    assert highlight_pixels(view.image) == highlight_pixels(view.image, (0, 300, 1191, 700))


def test_a_markdown_source_starts_near_the_quote_and_holds_it(service) -> None:
    quote = "知库的维护窗口是每月第一个周六"
    chunk = chunk_of(service, "viewer", "notes.md", quote)
    view = service.open_source("viewer", "notes.md", chunk, quote)
    assert view.kind == "text" and quote in view.text
    assert view.before > 0 and view.text.index(quote) <= 600


def test_a_spreadsheet_row_comes_with_its_column_names(service) -> None:
    chunk = chunk_of(service, "viewer", "price.xlsx", "X300")
    view = service.open_source("viewer", "price.xlsx", chunk, "型号: X300")
    assert view.kind == "row"
    assert dict(zip(view.header, view.values, strict=True)) == {
        "类别": "水泵", "型号": "X300", "功率": "2.2 kW", "价格": "4100"
    }  # fmt: skip


def test_a_source_of_another_knowledge_base_or_outside_its_folders_is_refused(service) -> None:
    theirs = chunk_of(service, "other", "secret.txt", "蓝鲸")
    with pytest.raises(SourceError, match="not a document of the knowledge base viewer"):
        service.open_source("viewer", "secret.txt", theirs)
    with pytest.raises(SourceError, match="not a document"):
        service.open_source("viewer", "../../../../../../etc/passwd", theirs)
    with pytest.raises(SourceError, match="not a document"):
        service.open_source("viewer", "/etc/passwd", "")
    with pytest.raises(SourceError, match="no knowledge base"):
        service.open_source("nowhere", "scan.pdf", "")
