"""Reading FAQ spreadsheets: headers in Chinese or English, one line per bad row, HTML
kept as text, GBK csv, xlsx, and 10,000 rows in bounded time and memory."""

from __future__ import annotations

import io
import time
import tracemalloc

import pytest
from openpyxl import Workbook

from app.faq.importing import MAX_ROWS, parse_sheet
from app.faq.store import FaqError
from app.faq.text import question_key


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def test_chinese_headers_with_phrasings_and_source() -> None:
    data = _csv(
        "问题,答案,相似问题,来源\n什么是RAG？,先检索再生成。,RAG 是什么|检索增强生成是什么,rag.md\n"
    )
    parsed = parse_sheet("faq.csv", data)
    assert parsed.errors == []
    (draft,) = parsed.drafts
    assert draft.question == "什么是RAG？" and draft.answer == "先检索再生成。"
    assert draft.phrasings == ("RAG 是什么", "检索增强生成是什么") and draft.source == "rag.md"


def test_english_headers_in_any_case_and_order() -> None:
    parsed = parse_sheet("faq.csv", _csv("Answer,Question\nyes,is it?\n"))
    assert [(d.question, d.answer) for d in parsed.drafts] == [("is it?", "yes")]


def test_each_bad_row_is_one_line_naming_it() -> None:
    data = _csv(
        "问题,答案\n"
        "a?,1\n"
        ",2\n"  # row 3: no question
        "b?,\n"  # row 4: no answer
        "A？,3\n"  # row 5: the same question as row 2
        "\n"  # a blank line is not an error
        "c?,4\n"
        "old?,5\n"  # already in the knowledge base
    )
    parsed = parse_sheet("faq.csv", data, existing={question_key("old?")})
    assert [d.question for d in parsed.drafts] == ["a?", "c?"]
    assert parsed.errors == [
        "row 3: the question is empty",
        "row 4: the answer to 'b?' is empty",
        "row 5: the question is a duplicate of row 2",
        "row 8: the question is a duplicate of the FAQ already",
    ]
    assert all("\n" not in line for line in parsed.errors)


def test_html_in_an_answer_is_kept_as_written() -> None:
    parsed = parse_sheet("faq.csv", _csv('问题,答案\nq,"<script>alert(1)</script><b>x</b>"\n'))
    assert parsed.drafts[0].answer == "<script>alert(1)</script><b>x</b>"


def test_gbk_csv_from_excel() -> None:
    parsed = parse_sheet("faq.csv", _csv("问题,答案\n什么是分块？,切成小段。\n", "gb18030"))
    assert parsed.drafts[0].question == "什么是分块？"


def test_xlsx_first_sheet() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["问题", "答案", "来源"])
    sheet.append(["什么是嵌入？", "一串数字。", None])
    sheet.append(["空答案", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = parse_sheet("faq.xlsx", buffer.getvalue())
    assert [d.question for d in parsed.drafts] == ["什么是嵌入？"]
    assert parsed.errors == ["row 3: the answer to '空答案' is empty"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("faq.txt", b"q,a", "from a .csv or .xlsx file"),
        ("faq.csv", b"", "the file is empty"),
        ("faq.csv", "名字,内容\nx,y\n".encode(), "must name the columns 问题 and 答案"),
        ("faq.xlsx", b"not a zip", "not a readable xlsx file"),
        ("faq.csv", b"\xff\xfe\x00\xd8", "not UTF-8 or GBK"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_error(name: str, data: bytes, message: str) -> None:
    with pytest.raises(FaqError, match=message):
        parse_sheet(name, data)


def test_ten_thousand_rows_in_bounded_time_and_memory() -> None:
    rows = "".join(f"问题{i}：第{i}个问题是什么？,答案{i}<br>第二行\n" for i in range(MAX_ROWS + 5))
    data = _csv("问题,答案\n" + rows)
    tracemalloc.start()
    started = time.perf_counter()
    parsed = parse_sheet("big.csv", data)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(parsed.drafts) == MAX_ROWS
    assert parsed.errors == [f"row {MAX_ROWS + 2} and after: more than {MAX_ROWS} rows; left out"]
    assert seconds < 5, seconds
    assert peak < 60 * 2**20, peak / 2**20  # the file is ~0.5 MB
