"""Real files of the issue-25 formats, written by the libraries that read them (and
Pillow with the CJK font the setup installs), for the loader and ingest tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
PRICE_ROWS = [
    ("水泵", "X200", "1.5 kW", 3200),
    ("水泵", "X300", "2.2 kW", 4100),
    ("风机", "F10", "0.75 kW", 1800),
]


def render_page(path: Path | None, lines: list[str], size: tuple[int, int] = (1240, 1754)):
    """A white page with these lines in Noto Sans CJK; saved when `path` is given."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(CJK_FONT, 32, index=2)  # index 2: the SC face
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    for n, line in enumerate(lines):
        draw.text((90, 120 + n * 64), line, font=font, fill="black")
    if path is not None:
        page.save(path)
    return page


def image_pdf(path: Path, pages: list) -> Path:
    """An image-only PDF: one page image per page, no text layer (a scan)."""
    pages[0].save(path, "PDF", resolution=150, save_all=True, append_images=pages[1:])
    return path


def mixed_pdf(path: Path, text: str, scan_png: Path) -> Path:
    """Page 1 has a text layer, page 2 is only an image."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, text)
    pdf.add_page()
    pdf.image(str(scan_png), x=0, y=0, w=210)
    pdf.output(str(path))
    return path


def encrypted_pdf(path: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    writer.write(str(path))
    return path


def price_xlsx(path: Path) -> Path:
    """A price list: category cells merged down, a total computed by a formula (with
    the value Excel would have saved), a second sheet of FAQ rows."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("价格表")
    sheet.write_row(0, 0, ["类别", "型号", "功率", "价格"])
    sheet.merge_range("A2:A3", "水泵")
    for n, (_, model, power, price) in enumerate(PRICE_ROWS, start=1):
        sheet.write_row(n, 1, [model, power, price])
    sheet.write(3, 0, "风机")
    sheet.write(5, 1, "合计")
    sheet.write_formula(5, 3, "=SUM(D2:D4)", None, 9100)
    faq = book.add_worksheet("常见问题")
    faq.write_row(0, 0, ["问题", "回答"])
    faq.write_row(1, 0, ["保修期多长", "整机保修两年，电机保修三年"])
    book.close()
    return path


def empty_rows_xlsx(path: Path, rows: int = 1_000_000) -> Path:
    """Two rows of data, then `rows` formatted-but-empty rows: how a sheet someone once
    formatted down to row 1,048,576 looks inside."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["型号", "价格"])
    sheet.append(["E1", 99])
    book.save(path)
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    name = "xl/worksheets/sheet1.xml"
    empty = "".join(f'<row r="{n}"><c r="A{n}" s="0"/></row>' for n in range(3, rows + 3))
    parts[name] = parts[name].replace(b"</sheetData>", empty.encode() + b"</sheetData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for part, data in parts.items():
            out.writestr(part, data)
    return path


def product_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph("产品手册：以下为本季度的电机参数。")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [("型号", "转速", "重量"), ("M7", "2900 rpm", "12 kg"), ("M9", "1450 rpm", "20 kg")]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("如有疑问请联系售后。")
    document.save(str(path))
    return path


def table_html(path: Path) -> Path:
    path.write_text(
        "<html><head><title>网关参数</title></head><body><h1>网关参数</h1><p>下表列出网关的接口。</p>"
        "<table><tr><th>型号</th><th>网口</th><th>串口</th></tr>"
        "<tr><td>G1</td><td>4</td><td>2</td></tr><tr><td>G2</td><td>8</td><td>4</td></tr>"
        "</table><p>表后的说明文字。</p></body></html>",
        encoding="utf-8",
    )
    return path


def deck_pptx(path: Path) -> Path:
    from pptx import Presentation

    deck = Presentation()
    for title, body, notes in [
        ("季度回顾", "销售额增长百分之十二", "重点讲华东区"),
        ("下季度计划", "推出 X400 水泵\n扩充售后网点", "X400 预计六月上市"),
    ]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        slide.notes_slide.notes_text_frame.text = notes
    deck.save(str(path))
    return path
