"""Tables inside PDFs become rows that repeat their header (pdfplumber finds them by their
ruling lines), and a long scan reports its OCR page by page (issue 25). Real files written
by fpdf2 and Pillow, the real OCR model, real Chroma, the default embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.knowledge.service import KnowledgeBases
from app.knowledge.types import Progress
from app.retrieval.hybrid import build_retriever
from tests.document_files import image_pdf, render_page

ROWS = [("Model", "Power", "Price"), ("X200", "1.5 kW", "3200"), ("X300", "2.2 kW", "4100")]


def table_pdf(path: Path) -> Path:
    """A page of text, a ruled table, more text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Pump price list of the workshop. Prices include tax.")
    pdf.ln(4)
    with pdf.table() as table:
        for row in ROWS:
            cells = table.row()
            for value in row:
                cells.cell(value)
    pdf.ln(4)
    pdf.multi_cell(0, 8, "These prices apply from January 2025 until further notice.")
    pdf.output(str(path))
    return path


class Pages(Progress):
    def __init__(self) -> None:
        self.pages: list[tuple[str, int, int]] = []

    def page_done(self, source: str, page: int, pages: int) -> None:
        self.pages.append((source, page, pages))


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    from app.settings import load_settings

    folder = tmp_path_factory.mktemp("pdf-tables")
    table_pdf(folder / "prices.pdf")
    scans = [render_page(None, [f"第{n}页：巡检记录第{n}条。"], (1240, 300)) for n in (1, 2, 3)]
    image_pdf(folder / "scan.pdf", scans)
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("pdf-tables-data"),
        cache_dir=embedding_cache_root,
        collection="tables",
    )
    kbs = KnowledgeBases(settings)
    kbs.create("tables")
    pages = Pages()
    report = kbs.ingest_paths("tables", [folder], progress=pages)
    assert report.ok and report.files_indexed == 2, report
    return settings, kbs, pages


def test_a_table_in_a_pdf_becomes_rows_that_repeat_the_header(indexed) -> None:
    settings, kbs, _ = indexed
    found = kbs._open("tables").store.get(where={"source": "prices.pdf"}, include=["documents"])
    text = "\n".join(found["documents"])
    assert "Model: X300；Power: 2.2 kW；Price: 4100" in text
    assert "Model: X200；Power: 1.5 kW；Price: 3200" in text
    assert "Prices include tax" in text and "until further notice" in text  # the text around
    top = build_retriever(settings, top_k=1).invoke("What is the price of the X300 pump?")
    assert "Price: 4100" in top[0].page_content
    assert top[0].metadata["page"] == 1 and top[0].metadata["table"] == 1


def test_a_pdf_table_row_opens_with_the_row_boxed_on_the_page(indexed) -> None:
    _, kbs, _ = indexed
    found = kbs._open("tables").store.get(where={"source": "prices.pdf"}, include=["documents"])
    chunk = next(i for i, t in zip(found["ids"], found["documents"], strict=True) if "X300" in t)
    view = kbs.open_source("tables", "prices.pdf", chunk, "Model: X300；Power: 2.2 kW；Price: 4100")
    assert view.kind == "page" and view.highlighted


def test_a_long_scan_reports_its_ocr_page_by_page(indexed) -> None:
    _, _, pages = indexed
    assert [p for p in pages.pages if p[0] == "scan.pdf"] == [
        ("scan.pdf", 1, 3), ("scan.pdf", 2, 3), ("scan.pdf", 3, 3)
    ]  # fmt: skip
