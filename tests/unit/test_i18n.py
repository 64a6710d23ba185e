"""Every string the web chat wraps in `_()` has its Chinese text, and none is stale."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from app.ui import i18n

UI = Path(i18n.__file__).parent


def wrapped_strings() -> set[str]:
    found = extract_from_dir(
        str(UI), method_map=[("**.py", "python")], keywords={"_": None, "N_": None}, comment_tags=()
    )
    return {message for _file, _line, message, _comments, _context in found}


def test_every_wrapped_string_has_chinese() -> None:
    missing = wrapped_strings() - set(i18n.translations("zh"))
    assert not missing, f"add these to {i18n.catalogue_path('zh')}: {sorted(missing)}"


def test_no_stale_translation() -> None:
    stale = set(i18n.translations("zh")) - wrapped_strings()
    assert not stale, f"no longer used, remove from the catalogue: {sorted(stale)}"


def test_placeholders_match() -> None:
    import string

    def fields(text: str) -> set[str]:
        return {f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f}

    wrong = {m: t for m, t in i18n.translations("zh").items() if fields(m) != fields(t)}
    assert not wrong, f"placeholders differ between English and Chinese: {wrong}"


def test_each_text_is_in_the_catalogue_once() -> None:
    """Two entries for one msgid: the reader keeps one silently (branches merged with
    union, or two people adding the same label)."""
    from babel.messages.pofile import read_po

    with i18n.catalogue_path("zh").open("rb") as po:
        catalogue = read_po(po)
    entries = [m.id for m in catalogue if m.id]
    assert len(entries) == len(set(entries))
    raw = i18n.catalogue_path("zh").read_text(encoding="utf-8")
    msgids = [line for line in raw.splitlines() if line.startswith("msgid ")]
    duplicated = {m for m in msgids if msgids.count(m) > 1}
    assert not duplicated, f"in the catalogue twice: {sorted(duplicated)}"
