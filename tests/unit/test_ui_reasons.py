"""Every reason ingest gives for a file it did not index, and every reason the conversation
store gives, has a message in both languages (app/ui/reasons.py), with the params the
raising code passes; the common ones are raised for real from real files."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from app.conversations.store import ERROR_CODES, ConversationStore, ConversationStoreError
from app.ui import i18n, reasons
from ingest.documents import REASON_CODES, LoadError
from ingest.loaders import load_file

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def language(monkeypatch: pytest.MonkeyPatch):
    def choose(code: str) -> None:
        monkeypatch.setattr(i18n, "current_language", lambda: code)

    return choose


def test_every_reason_code_has_a_message_in_both_languages() -> None:
    assert set(reasons.FILE_REASONS) == set(REASON_CODES)
    assert set(reasons.CONVERSATION_REASONS) == set(ERROR_CODES)
    chinese = i18n.translations("zh")
    for msgid in [*reasons.FILE_REASONS.values(), *reasons.CONVERSATION_REASONS.values()]:
        assert HAN.search(chinese[msgid]), msgid
        assert not HAN.search(msgid), msgid


def placeholders(text: str) -> set[str]:
    return {f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f}


def raised(path: Path, data: bytes, **limits) -> LoadError:
    path.write_bytes(data)
    with pytest.raises(LoadError) as caught:
        load_file(path, limits.pop("max_bytes", 10_000_000), **limits)
    return caught.value


def real_problems(tmp_path: Path) -> list[LoadError]:
    return [
        raised(tmp_path / "empty.txt", b""),
        raised(tmp_path / "big.txt", b"x" * 5000, max_bytes=1000),
        raised(tmp_path / "tool.exe", b"MZ\x00\x01"),
        raised(tmp_path / "bin.txt", b"\x00\xd8\x00\x00" * 400),
        raised(tmp_path / "broken.pdf", b"%PDF-1.4 not really"),
        raised(tmp_path / "broken.docx", b"PK not a zip", max_unpacked_bytes=10**8),
        raised(tmp_path / "blank.md", b"   \n\n  "),
    ]


def test_real_problems_carry_their_code_and_its_params(tmp_path: Path) -> None:
    codes = []
    for problem in real_problems(tmp_path):
        assert problem.code in REASON_CODES, problem
        msgid = reasons.FILE_REASONS[problem.code]
        assert placeholders(msgid) <= set(problem.params), (problem.code, problem.params)
        codes.append(problem.code)
    assert codes == [
        "empty", "too_large", "unsupported_type", "binary", "corrupt", "corrupt", "no_text",
    ]  # fmt: skip


def test_in_chinese_a_problem_reads_in_chinese(tmp_path: Path, language) -> None:
    language("zh")
    for problem in real_problems(tmp_path):
        shown = reasons.file_reason(problem.code, problem.params, str(problem))
        assert HAN.search(shown), shown
        for value in problem.params.values():  # sizes, types: shown as they are
            shown = shown.replace(str(value), "")
        for name in ("UTF-8", "Word", "PNG", "JPEG"):  # names of formats stay as they are
            shown = shown.replace(name, "")
        assert not re.search(r"[A-Za-z]{4,}", shown), shown
    language("en")
    empty = real_problems(tmp_path)[0]
    assert reasons.file_reason(empty.code, {}, str(empty)).startswith("the file is empty")


def test_an_unknown_code_keeps_its_english_under_a_translated_heading(language) -> None:
    language("zh")
    assert reasons.file_reason("new_kind", {}, "odd thing") == "无法索引：odd thing"


def test_a_corrupt_conversation_database_says_so_in_chinese(tmp_path: Path, language) -> None:
    broken = tmp_path / "c.sqlite"
    broken.write_bytes(b"\x00garbage, not SQLite\x00" * 200)
    with pytest.raises(ConversationStoreError) as caught:
        ConversationStore(f"sqlite:///{broken}").list(None)
    assert caught.value.code == "corrupt"
    assert "cannot be saved" in str(caught.value)  # the API's and the log's English
    language("zh")
    assert reasons.conversation_reason(caught.value.code) == "对话记录无法保存：数据库文件已损坏。"
