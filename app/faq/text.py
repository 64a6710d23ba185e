"""When two questions are the same question: the one comparison the store's uniqueness,
an import's duplicate check and the chain's exact-match shortcut share."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")


def question_key(question: str) -> str:
    """NFKC (full-width letters, digits and punctuation as half-width), lower case, with
    spacing and punctuation removed: "什么是 RAG？" and "什么是rag" share a key. Kept to
    the column's 500 characters."""
    text = unicodedata.normalize("NFKC", question).lower()
    return _NOT_WORD.sub("", text)[:500]
