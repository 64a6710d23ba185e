"""The retrieval test panel (issue 28): type a question, see what retrieval returns for it
before any model is asked: the ranked chunks with their dense, BM25, fused and rerank
scores, which ones the entity channel put in, and which reach the model at the current k.

The result is `RetrievalService.probe`'s (`app.retrieval.probe`), the one `POST
/v1/retrieval_test` returns. FAQ matches (issue 28, item 1) are drawn here once
`RetrievalProbe` carries them. Chunk text is shown with `st.text` and in a grid only.
"""

from __future__ import annotations

import streamlit as st

from app.errors import UserError
from app.retrieval.probe import RetrievalProbe
from app.retrieval.service import MAX_K, RetrievalService
from app.ui import resources
from app.ui.i18n import _
from app.ui.safe_text import escape_markdown, show_error


@st.cache_resource(show_spinner=False)
def retrieval() -> RetrievalService:
    """The retrievers of the API's `/v1/retrieve`, made once per process."""
    return RetrievalService(resources.settings())


def render(collection: str) -> None:
    st.subheader(_("Retrieval test"))
    st.caption(_("What retrieval finds for a question, without asking the model."))
    query = st.text_input(_("Question"), key="probe_query")
    k = st.number_input(
        _("Chunks that reach the model (k)"), 1, MAX_K, key="probe_k",
        value=int(st.session_state.get("k") or resources.settings().retrieval.top_k),
    )  # fmt: skip
    if st.button(_("Test retrieval"), key="probe_run") and query:
        try:
            st.session_state["probe_result"] = retrieval().probe(collection, query, int(k))
        except UserError as exc:
            show_error(exc)
            return
    result = st.session_state.get("probe_result")
    if isinstance(result, RetrievalProbe) and result.knowledge_base == collection:
        show(result)


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def show_faq(result: RetrievalProbe) -> None:
    """The closest FAQ entry and what an ask would do with it."""
    faq = result.faq
    if faq is None:
        return
    verdicts = {
        "answer": _("its answer is given verbatim, without the model"),
        "context": _("it is one more passage for the model"),
        "none": _("not close enough to be used"),
    }
    line = _("Closest FAQ entry #{id} (score {score}): {verdict}",
             id=faq.entry_id, score=f"{faq.score:.3f}", verdict=verdicts[faq.verdict])  # fmt: skip
    (st.success if faq.verdict == "answer" else st.info)(escape_markdown(line))
    with st.expander(escape_markdown(faq.question)):
        st.text(faq.answer)  # st.text: never Markdown or HTML


def show(result: RetrievalProbe) -> None:
    show_faq(result)
    reached = sum(c.reaches_model for c in result.chunks)
    st.markdown(
        escape_markdown(
            _("{reached} of {shown} chunks reach the model (k = {k}, retriever {retriever})",
              reached=reached, shown=len(result.chunks), k=result.k, retriever=result.retriever)
        )
    )  # fmt: skip
    if not result.chunks:
        st.caption(_("Nothing found."))
        return
    yes = "✓"
    rows = [
        {
            _("Rank"): c.rank,
            _("Reaches the model"): yes if c.reaches_model else "",
            _("Source"): c.source,
            _("Dense"): _score(c.dense),
            _("BM25"): _score(c.bm25),
            _("Fused"): _score(c.fused),
            _("Rerank"): _score(c.rerank),
            _("Added by the entity channel"): yes if c.entity else "",
            _("Text"): c.text,
        }
        for c in result.chunks
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
    for c in result.chunks:
        with st.expander(f"{c.rank}. {escape_markdown(c.source)}"):
            st.text(c.text)
