"""The errors a web visitor meets, in the chosen language: each raised for real by the
layer that raises it (the uploads check, the name rule, the model queue), then shown
through app.ui.errors. A changed message in a lower layer fails here, not on screen.

Integration only because the knowledge-base types pull in Chroma; no model is loaded.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from app.answering.admission import QueueFull
from app.auth import Access
from app.knowledge.types import IngestBusyError, UploadError
from app.settings import load_settings, validate_collection_name
from app.ui import errors, i18n
from ingest.uploads import save_upload

HAN = re.compile(r"[\u4e00-\u9fff]")


def raised(action) -> Exception:
    with pytest.raises(Exception) as caught:
        action()
    return caught.value


def real_errors(tmp_path: Path) -> list[Exception]:
    settings = load_settings(data_dir=tmp_path, max_file_mb=0.001)
    upload = lambda name, data: lambda: save_upload(settings, "kb1", name, data)  # noqa: E731
    return [
        raised(upload("tool.exe", b"MZ")),
        raised(upload("big.txt", b"x" * 5000)),
        raised(upload("empty.txt", b"")),
        raised(upload("...", b"x")),
        UploadError("same.txt: another file of this upload has the same name; rename one"),
        *(
            raised(lambda n=n: validate_collection_name(n))
            for n in ("ab", "a/b", "a..b", "xn--abc", "127.0.0.1", "长" * 70)
        ),
        IngestBusyError("another ingest of /x into 'kb1' is running; wait for it to finish"),
        QueueFull(3, 10),
        raised(lambda: renamed_onto_a_taken_name(settings)),
        *access_errors(tmp_path),
    ]


def access_errors(tmp_path: Path) -> list[Exception]:
    """What the admin page may be refused (app/auth)."""
    access = Access(f"sqlite:///{tempfile.mkdtemp(dir=tmp_path)}/auth.sqlite")  # one per call
    access.add_user("root", "a long password", "admin")
    return [
        raised(lambda: access.add_user("root", "a long password")),
        raised(lambda: access.add_user("../etc", "a long password")),
        raised(lambda: access.update_user("root", groups=["hr team"])),
        raised(lambda: access.set_disabled("root", True)),
        raised(lambda: access.set_password("root", "short")),
    ]


def renamed_onto_a_taken_name(settings) -> None:
    from app.knowledge.service import KnowledgeBases

    knowledge = KnowledgeBases(settings)
    knowledge.create("first")
    knowledge.create("taken")
    knowledge.rename("first", "taken")


def fields(exc: Exception) -> list[str]:
    """The values an error's message carries (file name, allowed types, …)."""
    for known in errors.KNOWN:
        found = isinstance(exc, known.kind) and known.pattern.fullmatch(str(exc))
        if found:
            values = [v for k, v in found.groupdict().items() if k != "problem"]  # translated
            return sorted(values, key=len, reverse=True)
    return []


@pytest.fixture
def language(monkeypatch: pytest.MonkeyPatch):
    def choose(code: str) -> None:
        monkeypatch.setattr(i18n, "current_language", lambda: code)

    return choose


def test_every_error_a_visitor_meets_is_in_chinese(tmp_path: Path, language) -> None:
    language("zh")
    for exc in real_errors(tmp_path):
        shown = errors.message(exc)
        assert HAN.search(shown) and "出错了" not in shown, (str(exc), shown)
        for field in fields(exc):  # file names, types, limits: shown as they are
            shown = shown.replace(field, "")
        assert not re.search(r"[A-Za-z]{3,}", shown.replace("ZHIKU_MAX_FILE_MB", "")), shown


def test_in_english_each_is_known_and_says_what_to_do(tmp_path: Path, language) -> None:
    language("en")
    used = set()
    for exc in real_errors(tmp_path):
        shown = errors.message(exc)
        assert not shown.startswith("Something went wrong"), str(exc)
        used.update(k.msgid for k in errors.KNOWN if k.pattern.fullmatch(str(exc)))
    assert used == {k.msgid for k in errors.KNOWN}  # no entry of the table is dead
    assert "tool.exe" in errors.message(real_errors(tmp_path)[0])


def test_an_unknown_error_keeps_its_text_under_a_translated_heading(language) -> None:
    language("zh")
    assert errors.message(RuntimeError("disk on fire")) == "出错了：disk on fire"
