"""Show document and model text as text: Markdown and HTML in it must not render."""

from __future__ import annotations

import re

# Everything Markdown (and Streamlit's :color[...] / $math$ extensions) gives meaning to.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_markdown(text: str) -> str:
    """Backslash-escape so st.markdown shows the characters literally (no links, images,
    HTML or formatting from documents or the model)."""
    return _SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def highlight(chunk: str, quote: str) -> str:
    """The chunk as escaped Markdown, with the quoted span on a coloured background.

    Not `**bold**`: CommonMark does not close emphasis after Chinese punctuation
    followed by a character (`。**同年`), so the markers showed as asterisks.
    """
    start = chunk.find(quote) if quote else -1
    if start < 0:
        return escape_markdown(chunk)
    end = start + len(quote)
    return (
        escape_markdown(chunk[:start])
        + ":orange-background["
        + escape_markdown(quote)
        + "]"
        + escape_markdown(chunk[end:])
    )


def show_error(exc: Exception) -> None:
    """A known error as one red line; its text (file names, URLs) shown literally."""
    import streamlit as st

    st.error(escape_markdown(str(exc)))
