"""Scans, spreadsheets, slides and tables through the real parsers, the real OCR model,
real Chroma and the default embedder (issue 25); bad files are one line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.retrieval.hybrid import build_retriever
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.document_files import (
    deck_pptx,
    empty_rows_xlsx,
    encrypted_pdf,
    image_pdf,
    mixed_pdf,
    price_xlsx,
    product_docx,
    render_page,
    table_html,
)

SCAN_LINES = [
    "设备巡检通知",
    "三号车间的空压机每周二上午进行巡检。",
    "Contact: maintenance team, ext. 4417",
]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    from app.settings import load_settings

    folder = tmp_path_factory.mktemp("documents")
    price_xlsx(folder / "price.xlsx")
    product_docx(folder / "motors.docx")
    table_html(folder / "gateway.html")
    deck_pptx(folder / "review.pptx")
    (folder / "faq.csv").write_text("问题,回答\n退货期限,收货后七天内\n", encoding="utf-8")
    render_page(folder / "notice.png", SCAN_LINES, size=(1240, 500))
    image_pdf(
        folder / "scan.pdf",
        [
            render_page(None, ["第一页：合同编号 HT-2024-088。"], (1240, 400)),
            render_page(None, [], (1240, 400)),  # a blank page
            render_page(None, ["第三页：付款期限为三十天。"], (1240, 400)),
        ],
    )
    mixed_pdf(folder / "mixed.pdf", "Page one has a text layer about pumps.", folder / "notice.png")
    # bad input: each one line, the rest indexed
    from PIL import Image

    Image.new("1", (8000, 7000)).save(folder / "poster.png")
    (folder / "photo.jpg").write_bytes(b"<html>not a photo</html>" * 20)
    empty_rows_xlsx(folder / "formatted.xlsx")
    encrypted_pdf(folder / "secret.pdf")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("documents-data"),
        cache_dir=embedding_cache_root,
        collection="documents",
    )
    report = ingest_paths(open_knowledge_base(settings, "documents"), [folder])
    return settings, report


def test_bad_files_are_one_line_each_and_the_rest_is_indexed(documents) -> None:
    _, report = documents
    problems = {p.source.split("/")[-1]: p.reason for p in report.skipped + report.failed}
    assert set(problems) == {"poster.png", "photo.jpg", "formatted.xlsx", "secret.pdf"}, problems
    assert "ZHIKU_MAX_IMAGE_MEGAPIXELS" in problems["poster.png"]
    assert "not an image" in problems["photo.jpg"]
    assert "ZHIKU_MAX_UNPACKED_MB" in problems["formatted.xlsx"]
    assert "encrypted" in problems["secret.pdf"]
    assert all("\n" not in reason for reason in problems.values())
    assert report.files_indexed == 8


def _top(settings, question: str, k: int = 3):
    return build_retriever(settings, top_k=k).invoke(question)


def test_a_spreadsheet_row_is_retrieved_with_its_column_names(documents) -> None:
    settings, _ = documents
    docs = _top(settings, "X300 水泵的价格是多少？")
    row = next(d for d in docs if "X300" in d.page_content)
    assert "型号: X300；功率: 2.2 kW；价格: 4100" in row.page_content
    assert row.metadata["sheet"] == "价格表"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("M9 电机的重量", "型号: M9；转速: 1450 rpm；重量: 20 kg"),  # docx table
        ("G2 网关有几个网口", "型号: G2；网口: 8；串口: 4"),  # html table
        ("退货期限是多久", "问题: 退货期限；回答: 收货后七天内"),  # csv
    ],
)
def test_tables_in_documents_become_rows(documents, question: str, expected: str) -> None:
    settings, _ = documents
    assert any(expected in d.page_content for d in _top(settings, question))


def test_slides_are_pages_with_title_body_and_notes(documents) -> None:
    settings, _ = documents
    doc = next(d for d in _top(settings, "X400 什么时候上市") if "review" in d.metadata["source"])
    assert doc.metadata["page"] == 2
    assert "下季度计划" in doc.page_content and "X400 预计六月上市" in doc.page_content


def test_scans_are_ocrd_page_by_page_with_their_page(documents) -> None:
    settings, _ = documents
    store = open_knowledge_base(settings, "documents").store
    got = store.get(include=["metadatas", "documents"])
    by_source: dict[str, list[tuple[dict, str]]] = {}
    for meta, text in zip(got["metadatas"], got["documents"], strict=True):
        by_source.setdefault(meta["source"].split("/")[-1], []).append((meta, text))
    scan = sorted(by_source["scan.pdf"], key=lambda mt: mt[0]["page"])
    assert [m["page"] for m, _ in scan] == [1, 3]  # the blank page is a note, not a chunk
    assert all(m["ocr"] for m, _ in scan)
    assert "HT-2024-088" in scan[0][1] and "付款期限为三十天" in scan[1][1]
    notice = by_source["notice.png"]
    assert notice[0][0]["ocr"] and notice[0][0]["page"] == 1
    assert "三号车间的空压机每周二上午进行巡检" in notice[0][1]
    mixed = {m["page"]: (m, t) for m, t in by_source["mixed.pdf"]}
    assert "text layer about pumps" in mixed[1][1] and not mixed[1][0].get("ocr")
    assert mixed[2][0]["ocr"] and "空压机" in mixed[2][1]


def test_a_pdf_of_thousands_of_pages_is_one_line_in_bounded_time(make_settings, tmp_path) -> None:
    """Over ZHIKU_MAX_PDF_PAGES (2,000) a PDF is skipped by its page count before a page
    is read or OCR'd; the folder's other files are indexed."""
    import time

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(2_001):
        writer.add_blank_page(width=595, height=842)
    folder = tmp_path / "docs"
    folder.mkdir()
    with (folder / "manual.pdf").open("wb") as out:
        writer.write(out)
    (folder / "note.txt").write_text("巡检在每周二上午进行。", encoding="utf-8")
    settings = make_settings()
    started = time.monotonic()
    report = ingest_paths(open_knowledge_base(settings, "pages"), [folder])
    assert time.monotonic() - started < 120
    (skipped,) = report.skipped
    assert skipped.source.endswith("manual.pdf") and "2001 pages" in skipped.reason
    assert "ZHIKU_MAX_PDF_PAGES" in skipped.reason and "\n" not in skipped.reason
    assert report.files_indexed == 1
