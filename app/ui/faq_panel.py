"""FAQ entries in the web chat: the FAQ section of the Knowledge bases page (list, add,
edit, delete, import), "write the right answer" under a 👎 answer, and the mark on a
curated answer ("curated answer · author · date").

Every read and write goes through the FAQ service (`app.knowledge.faq`), the one the API
and `zhiku faq` use. Questions and answers are text: shown in a data grid or escaped, so
HTML in an answer shows as written and never renders.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import streamlit as st

from app.errors import UserError
from app.knowledge.faq import FaqDraft, FaqEntry, FaqService
from app.schema import AnswerResult
from app.ui import permissions, resources
from app.ui.i18n import _
from app.ui.safe_text import escape_markdown, show_error

AUTHOR_KEY = "faq_author"  # the name a visitor signs entries with, kept for the session
NOTICE_KEY = "faq_notice"


@st.cache_resource(show_spinner=False)
def service() -> FaqService:
    return FaqService(resources.settings())


def _date(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M")


def _author_input(key: str) -> str:
    """The signed-in account when accounts are on (not typed: the trail must hold), else
    the name the visitor gives."""
    if (signed_in := permissions.principal()) is not None:
        return signed_in.name.removeprefix("user:")
    name = st.text_input(
        _("Your name (shown with the answer)"), key=key, value=st.session_state.get(AUTHOR_KEY, "")
    )
    if name.strip():
        st.session_state[AUTHOR_KEY] = name.strip()
    return name.strip() or "web"


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


# --- the chat -------------------------------------------------------------------------


def curated_mark(result: AnswerResult) -> None:
    """Under an FAQ entry's answer: whose it is and from when (no model wrote it)."""
    curated = result.get("curated")
    if curated:
        mark = _(
            "curated answer · {author} · {date}",
            author=curated["author"],
            date=_date(curated["updated_at"]),
        )
        st.caption("✍️ " + escape_markdown(mark))


def write_right_answer(message: dict) -> None:
    """Under a 👎 answer: write the answer the question should get, saved as an FAQ
    entry of the knowledge base, so the next ask of this question gets it verbatim."""
    result, message_id = message.get("result") or {}, message.get("message_id")
    question = result.get("standalone_question") or result.get("question") or ""
    rating = st.session_state.get(f"rating-{message_id}", message.get("rating"))
    if not question or rating != 0:  # st.feedback("thumbs"): 0 is 👎
        return
    with st.expander(_("Write the right answer"), expanded=False):
        st.caption(_("Saved as an FAQ entry: this question then gets this answer, verbatim."))
        answer = st.text_area(_("The right answer"), key=f"faq-answer-{message_id}")
        author = _author_input(f"faq-author-{message_id}")
        if st.button(_("Save the answer"), key=f"faq-save-{message_id}") and answer.strip():
            knowledge_base = message.get("knowledge_base") or st.session_state.get("kb", "")
            try:
                entry = service().save_answer(knowledge_base, question, answer, author)
            except UserError as exc:
                show_error(exc)
                return
            st.success(escape_markdown(_("Saved as FAQ entry {id}.", id=entry.id)))


# --- the Knowledge bases page -----------------------------------------------------------


def render(collection: str) -> None:
    """The FAQ section of a knowledge base."""
    st.subheader(_("FAQ: curated answers"))
    st.caption(
        _(
            "A question close enough to an entry's question gets its answer verbatim, "
            "without the model."
        )
    )
    if notice := st.session_state.pop(NOTICE_KEY, None):
        st.success(escape_markdown(notice))
    try:
        entries = service().list(collection)
    except UserError as exc:
        show_error(exc)
        return
    _table(entries)
    _add_form(collection)
    if entries:
        _edit_form(collection, entries)
    _import_form(collection)


def _table(entries: list[FaqEntry]) -> None:
    if not entries:
        st.caption(_("No FAQ entries yet."))
        return
    rows = [
        {
            _("entry"): e.id,
            _("FAQ question"): e.question,
            _("other phrasings"): " | ".join(e.phrasings),
            _("curated answer"): e.answer,
            _("written by"): e.author,
            _("last changed"): _date(e.updated_at),
        }
        for e in entries
    ]
    st.dataframe(rows, hide_index=True, width="stretch")  # a grid: text is never HTML


def _draft_inputs(prefix: str, entry: FaqEntry | None = None) -> FaqDraft:
    question = st.text_input(
        _("FAQ question"), value=entry.question if entry else "", key=f"{prefix}-question"
    )
    phrasings = st.text_area(
        _("Other phrasings (one per line)"),
        key=f"{prefix}-phrasings",
        value="\n".join(entry.phrasings) if entry else "",
    )
    answer = st.text_area(
        _("FAQ answer"), value=entry.answer if entry else "", key=f"{prefix}-answer"
    )
    source = st.text_input(
        _("Source (optional)"), value=entry.source if entry else "", key=f"{prefix}-source"
    )
    return FaqDraft(question, answer, _lines(phrasings), source)


def _add_form(collection: str) -> None:
    with st.expander(_("Add an FAQ entry")):
        draft = _draft_inputs("faq-new")
        author = _author_input("faq-new-author")
        if st.button(_("Add the entry"), key="faq-add"):
            _saved(lambda: service().add(collection, draft, author), _("Added FAQ entry {id}."))


def _edit_form(collection: str, entries: list[FaqEntry]) -> None:
    with st.expander(_("Edit or delete an FAQ entry")):
        by_id = {e.id: e for e in entries}
        chosen = st.selectbox(
            _("FAQ entry"),
            list(by_id),
            key="faq-edit-choice",
            format_func=lambda i: f"{i} · {by_id[i].question}",
        )
        entry = by_id[chosen]
        draft = _draft_inputs(f"faq-edit-{entry.id}", entry)
        author = _author_input(f"faq-edit-author-{entry.id}")
        save, delete = st.columns(2)
        if save.button(_("Save the entry"), key=f"faq-update-{entry.id}"):
            _saved(
                lambda: service().update(collection, entry.id, draft, author),
                _("Saved FAQ entry {id}."),
            )
        if delete.button(_("Delete the entry"), key=f"faq-delete-{entry.id}", type="secondary"):
            _saved(lambda: _delete(collection, entry), _("Deleted FAQ entry {id}."))


def _delete(collection: str, entry: FaqEntry) -> FaqEntry:
    service().delete(collection, entry.id)
    return entry


def _saved(action: Callable[[], FaqEntry], notice: str) -> None:
    """Run a write; its error is one line, its success a notice after the rerun."""
    try:
        entry = action()
    except UserError as exc:
        show_error(exc)
        return
    st.session_state[NOTICE_KEY] = notice.format(id=entry.id)
    st.rerun()


def _import_form(collection: str) -> None:
    with st.expander(_("Import from a spreadsheet")):
        st.caption(
            _(
                "A .csv or .xlsx file with the columns 问题 and 答案 (or question and "
                "answer), optionally 相似问题 and 来源."
            )
        )
        upload = st.file_uploader(_("FAQ file"), key="faq-import-file")
        author = _author_input("faq-import-author")
        if not upload or not st.button(_("Import the file"), key="faq-import"):
            return
        try:
            report = service().import_file(collection, upload.name, upload.getvalue(), author)
        except UserError as exc:
            show_error(exc)
            return
        st.success(
            _(
                "{added} entries added, {left} rows left out ({seconds} s).",
                added=report.added,
                left=len(report.errors),
                seconds=report.seconds,
            )
        )
        if report.errors:
            st.code("\n".join(report.errors), language=None)  # code: shown as written
