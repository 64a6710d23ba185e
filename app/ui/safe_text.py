"""Show document and model text as text: Markdown and HTML in it must not render."""

from __future__ import annotations

from app.text import escape_markdown

__all__ = ["escape_markdown", "highlight", "show_error"]


def highlight(chunk: str, quote: str) -> str:
    """The chunk as escaped Markdown, with the quoted span on a coloured background.

    Not `**bold**`: CommonMark does not close emphasis after Chinese punctuation
    followed by a character (`。**同年`), so the markers showed as asterisks.
    """
    start = chunk.find(quote) if quote else -1
    if start < 0:
        return escape_markdown(chunk)
    end = start + len(quote)
    # line by line: a background directive does not span a line or paragraph break
    marked = "  \n".join(
        f":orange-background[{escape_markdown(line)}]" if line.strip() else line
        for line in quote.split("\n")
    )
    return escape_markdown(chunk[:start]) + marked + escape_markdown(chunk[end:])


def show_error(exc: Exception) -> None:
    """A known error as one red line; its text (file names, URLs) shown literally."""
    import streamlit as st

    st.error(escape_markdown(str(exc)))
