from pathlib import Path

import pytest

from ingest.loaders import LoadError, decode_text, load_file
from tests.files import CHINESE, bad_files, good_files

LIMIT = 1_000_000


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return good_files(tmp_path_factory.mktemp("good"))


def text_of(path: Path) -> str:
    return "\n".join(section.text for section in load_file(path, LIMIT).sections)


@pytest.mark.parametrize("name", ["utf8.txt", "gbk 中文.txt", "utf16.txt"])
def test_text_encodings_decode_to_the_same_chinese(good: dict[str, Path], name: str) -> None:
    assert CHINESE in text_of(good[name])


def test_gb18030_and_utf8_bom() -> None:
    assert decode_text("中文，𠀀".encode("gb18030")) == "中文，𠀀"
    assert decode_text("\ufeff知库".encode()) == "知库"


def test_markdown_sections_carry_heading_path(good: dict[str, Path]) -> None:
    loaded = load_file(good["notes.md"], LIMIT)
    assert loaded.title == "知库笔记"
    headings = [s.metadata.get("headings") for s in loaded.sections]
    assert "知库笔记 > 检索 > 融合" in headings
    source = good["notes.md"].read_text(encoding="utf-8")
    for section in loaded.sections:  # offsets point into the file
        assert source[section.offset : section.offset + len(section.text)] == section.text


def test_html_drops_scripts_and_keeps_title(good: dict[str, Path]) -> None:
    loaded = load_file(good["page.html"], LIMIT)
    assert loaded.title == "网页标题"
    text = loaded.sections[0].text
    assert "正文第一段" in text and "正文第二段" in text
    assert "do-not-index" not in text


def test_csv_rows_become_labelled_records(good: dict[str, Path]) -> None:
    # issue 25: one row = one line that repeats the column names
    assert "术语: 分块；解释: 把长文档切成小段" in text_of(good["table.csv"])


def test_pdf_pages_are_numbered(good: dict[str, Path]) -> None:
    loaded = load_file(good["report.pdf"], LIMIT)
    assert [s.metadata["page"] for s in loaded.sections] == [1, 2]
    assert "BM25" in loaded.sections[1].text
    assert loaded.title == "report title"


def test_docx_paragraphs_and_tables(good: dict[str, Path]) -> None:
    loaded = load_file(good["memo.docx"], LIMIT)
    assert loaded.title == "DOCX title"
    text = "".join(section.text for section in loaded.sections)  # tables: their own sections
    assert "第二段：离线运行。" in text and "检索增强生成" in text


def test_bad_files_raise_one_line_reasons(tmp_path: Path) -> None:
    expected = bad_files(tmp_path)
    for name, word in expected.items():
        with pytest.raises(LoadError) as info:
            load_file(tmp_path / name, LIMIT)
        reason = str(info.value)
        assert word in reason, (name, reason)
        assert "\n" not in reason and len(reason) < 200


def test_policy_refusals_are_skips_not_failures(tmp_path: Path) -> None:
    bad_files(tmp_path)
    skipped = {}
    for name in ["empty.txt", "huge.txt", "random.txt", "truncated.pdf"]:
        with pytest.raises(LoadError) as info:
            load_file(tmp_path / name, LIMIT)
        skipped[name] = info.value.skipped
    assert skipped == {
        "empty.txt": True,
        "huge.txt": True,
        "random.txt": False,
        "truncated.pdf": False,
    }


@pytest.mark.skipif(__import__("os").geteuid() == 0, reason="root can read any file")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("秘密")
    path.chmod(0)
    with pytest.raises(LoadError, match="permission denied"):
        load_file(path, LIMIT)
