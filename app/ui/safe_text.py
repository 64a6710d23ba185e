"""Show document and model text as text: Markdown and HTML in it must not render."""

from __future__ import annotations

import re

from app.text import escape_markdown

__all__ = ["escape_markdown", "file_name_from_title", "highlight", "plain_passage", "show_error"]

# A Markdown heading's markers at the start of a line (`## Title`): a passage shows the
# title's words, not the syntax that made it a heading in its file.
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE)


def plain_passage(chunk: str) -> str:
    return _HEADING.sub("", chunk)


def highlight(chunk: str, quotes: list[str]) -> str:
    """The chunk as escaped Markdown, every quoted span bold on a coloured background.

    Bold alone is not enough: CommonMark does not close emphasis after Chinese
    punctuation followed by a character (`。**同年`); inside the background directive
    the markers sit next to its brackets and always close.
    """
    text = plain_passage(chunk)
    spans = sorted(_spans(text, quotes))
    out, at = [], 0
    for start, end in spans:
        if start < at:  # overlaps the previous quote: already highlighted
            continue
        out.append(escape_markdown(text[at:start]))
        out.append(_marked(text[start:end]))
        at = end
    out.append(escape_markdown(text[at:]))
    return "".join(out)


def _marked(span: str) -> str:
    # line by line: a background directive does not span a line or paragraph break
    return "  \n".join(
        f":orange-background[**{escape_markdown(line)}**]" if line.strip() else line
        for line in span.split("\n")
    )


def _spans(text: str, quotes: list[str]) -> set[tuple[int, int]]:
    found = set()
    for quote in quotes:
        quote = plain_passage(quote).strip()
        start = text.find(quote) if quote else -1
        if start >= 0:
            found.add((start, start + len(quote)))
    return found


def file_name_from_title(title: str) -> str:
    """A title as a download's file name: letters, digits and Chinese kept, every other
    run of characters one '-' (no path, no dot file), at most 60 characters."""
    stem = re.sub(r"[^\w]+", "-", title).strip("-_")[:60].strip("-_")
    return f"{stem or 'zhiku'}.md"


def show_error(exc: Exception) -> None:
    """A known error as one red line in the visitor's language (app.ui.errors); its
    text (file names, URLs) shown literally."""
    import streamlit as st

    from app.ui.errors import message

    st.error(escape_markdown(message(exc)))
