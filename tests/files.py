"""Build real test documents of every supported type, and bad ones."""

from __future__ import annotations

import os
from pathlib import Path

CHINESE = (
    "知库是一个离线优先的中文知识库问答系统。它把文档切分成小段，用多语言模型生成向量，"
    "保存在 Chroma 向量数据库中。提问时，它同时使用向量检索和 BM25 关键词检索，"
    "再把找到的段落交给本地大语言模型生成带引用的回答。"
)


def make_pdf(path: Path, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(path.stem + " title")
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def make_docx(path: Path, paragraphs: list[str]) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "DOCX title"
    for text in paragraphs:
        document.add_paragraph(text)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "术语"
    table.rows[0].cells[1].text = "检索增强生成"
    document.save(str(path))
    return path


def good_files(folder: Path) -> dict[str, Path]:
    """One readable file of each supported type (and encodings), keyed by source name."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "utf8.txt": folder / "utf8.txt",
        "gbk 中文.txt": folder / "gbk 中文.txt",
        "utf16.txt": folder / "utf16.txt",
        "notes.md": folder / "notes.md",
        "page.html": folder / "page.html",
        "table.csv": folder / "table.csv",
        "report.pdf": folder / "report.pdf",
        "memo.docx": folder / "memo.docx",
    }
    files["utf8.txt"].write_text("UTF-8 文本。" + CHINESE, encoding="utf-8")
    files["gbk 中文.txt"].write_bytes(("GBK 编码的文件。" + CHINESE).encode("gbk"))
    files["utf16.txt"].write_bytes(("UTF-16 编码。" + CHINESE).encode("utf-16"))
    files["notes.md"].write_text(
        "# 知库笔记\n\n前言段落。\n\n## 检索\n\nBM25 适合专有名词。\n\n"
        "### 融合\n\n倒数排名融合。\n",
        encoding="utf-8",
    )
    files["page.html"].write_text(
        "<html><head><title>网页标题</title><style>p{}</style></head><body>"
        "<script>var secret = 'do-not-index';</script><p>正文第一段：向量检索。</p>"
        "<p>正文第二段：关键词检索。</p></body></html>",
        encoding="utf-8",
    )
    files["table.csv"].write_text(
        "术语,解释\n分块,把长文档切成小段\n嵌入,用向量表示文字\n", encoding="utf-8"
    )
    make_pdf(files["report.pdf"], ["First page about retrieval.", "Second page about BM25."])
    make_docx(files["memo.docx"], ["第一段：知库的设计。", "第二段：离线运行。"])
    return files


def bad_files(folder: Path) -> dict[str, str]:
    """Files ingest must refuse, keyed by source name, with a word the reason must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "random.txt").write_bytes(os.urandom(4096))
    pdf = make_pdf(folder / "whole.pdf", ["A page that will be cut."])
    data = pdf.read_bytes()
    (folder / "truncated.pdf").write_bytes(data[: len(data) // 2])
    pdf.unlink()
    (folder / "huge.txt").write_text("大" * 400_000, encoding="utf-8")  # 1.2 MB
    os.symlink("loop.txt", folder / "loop.txt")
    os.symlink("does-not-exist.md", folder / "dangling.md")
    return {
        "empty.txt": "empty",
        "random.txt": "binary",
        "truncated.pdf": "PDF",
        "huge.txt": "too large",
        "loop.txt": "cannot read",
        "dangling.md": "cannot read",
    }
