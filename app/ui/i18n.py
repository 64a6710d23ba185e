"""One language at a time: every label, message and error the web chat shows.

Strings are written in English in the code and wrapped in `_()`; the Chinese text lives in
the gettext catalogue `app/ui/locales/zh/LC_MESSAGES/zhiku.po` (one place to read and
review all of them). Babel reads the `.po` directly, so there is no compile step to forget;
`tests/unit/test_i18n.py` extracts every `_()` string and fails when one has no Chinese.

The language is the visitor's choice in the sidebar, else the operator's ZHIKU_LANGUAGE,
else (`auto`) the browser's language.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st
from babel.messages.pofile import read_po

LOCALES = Path(__file__).parent / "locales"
CATALOGUE = "zhiku.po"
LANGUAGES = {"zh": "中文", "en": "English"}
SOURCE_LANGUAGE = "en"  # the msgids themselves
FALLBACK = "zh"  # when the browser says nothing: zhiku is Chinese-first
LANGUAGE_KEY = "lang"  # session state: the visitor's choice


def catalogue_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / CATALOGUE


@cache
def translations(language: str) -> dict[str, str]:
    """msgid → translated text for `language` (empty for the source language)."""
    if language == SOURCE_LANGUAGE:
        return {}
    with catalogue_path(language).open("rb") as po:
        catalogue = read_po(po)
    return {
        m.id: m.string
        for m in catalogue
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string
    }


def browser_language() -> str:
    locale = (st.context.locale or "").lower()
    if not locale:
        return FALLBACK
    return "zh" if locale.startswith("zh") else "en"


def init_language(configured: str) -> None:
    """Set the sidebar switch's starting value once per session: ZHIKU_LANGUAGE, or for
    `auto` the browser's language."""
    if st.session_state.get(LANGUAGE_KEY) not in LANGUAGES:
        chosen = configured if configured in LANGUAGES else browser_language()
        st.session_state[LANGUAGE_KEY] = chosen


def current_language() -> str:
    chosen = st.session_state.get(LANGUAGE_KEY)
    return chosen if chosen in LANGUAGES else browser_language()


def N_(message: str) -> str:
    """Mark an English msgid kept in a constant; `_()` translates it when it is shown
    (a constant built with `_()` would keep the language of the first visitor)."""
    return message


def _(message: str, **values: object) -> str:
    """`message` in the visitor's language, with `{name}` fields filled from `values`."""
    text = translations(current_language()).get(message, message)
    return text.format(**values) if values else text
