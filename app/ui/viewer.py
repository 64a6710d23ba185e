"""The source viewer: a cited source opened at the cited place, in a dialog over the chat.

A PDF page or a scan is a picture with the quote boxed; a text, Markdown, Word or slide
source is its text from a little above the quote, the quote highlighted; a spreadsheet
row is a table of its column names and values. Document text is shown escaped (Markdown
and HTML in it never render); the picture is drawn by the service, not by the browser.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.errors import UserError
from app.knowledge.sources import SourceView
from app.ui import resources, state
from app.ui.i18n import _
from app.ui.safe_text import escape_markdown, highlight, show_error

EXCERPT_HEIGHT = 420  # pixels: the text scrolls inside the dialog, the quote near its top


def open_button(ctx: Any, quote: str) -> None:
    """Under a source in the chat: a button that opens the viewer on this chunk.

    The key is the context's identity: the answer's dicts live in the session, so the
    key is stable across reruns and unique even when two answers cite the same chunk."""
    if not ctx.get("source") or not ctx.get("chunk_id"):
        return
    if st.button(_("Open at the cited place"), key=f"view-{id(ctx)}", icon="📄"):
        knowledge_base = state.choices()["kb"]
        dialog = st.dialog(_("Source"), width="large")(show_source)
        dialog(knowledge_base, ctx["source"], ctx["chunk_id"], quote)


def show_source(knowledge_base: str, source: str, chunk_id: str, quote: str) -> None:
    """The dialog's body: one line of where, then the page, text or row."""
    try:
        with st.spinner(_("Opening the document…")):
            view = resources.knowledge().open_source(knowledge_base, source, chunk_id, quote)
    except UserError as exc:
        show_error(exc)
        return
    where = _("page {page}", page=view.page) if view.page else ""
    st.caption(escape_markdown(" · ".join(p for p in (source, where) if p)))
    if view.note:
        st.info(_note(view.note), icon="ℹ️")
    if view.kind == "page":
        _page(view)
    elif view.kind == "row":
        _row(view)
    else:
        _text(view)


def _note(code: str) -> str:
    return {
        "web": _("A web page is shown as it was indexed; it is not fetched again."),
        "missing": _("The file is no longer in its folder; the indexed passage is shown."),
        "changed": _("The file changed since it was indexed; the indexed passage is shown."),
    }.get(code, "")


def _page(view: SourceView) -> None:
    if view.image is not None:
        st.image(view.image, width="stretch", output_format="PNG")
    if not view.highlighted:
        st.caption(_("The quote could not be located on the page; the passage is below."))
    st.markdown(highlight(view.text, [view.quote]))


def _row(view: SourceView) -> None:
    import pandas as pd

    st.caption(_("One row of the table, with its column names"))
    table = pd.DataFrame({_("Column"): view.header, _("Value"): view.values})
    st.dataframe(table, hide_index=True)


def _text(view: SourceView) -> None:
    if view.before:
        st.caption(_("… {count} characters above", count=view.before))
    with st.container(height=EXCERPT_HEIGHT):
        st.markdown(highlight(view.text, [view.quote]))
    if view.after:
        st.caption(_("… {count} characters below", count=view.after))
