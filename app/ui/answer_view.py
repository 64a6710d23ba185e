"""One answer as the reader sees it: the text, its quoted evidence, a mark when no source
supports it, and the numbered sources with how well each matches the question.

Each source is drawn by `show_source` alone, so a viewer of the whole document (issue 25)
hooks in at one line.
"""

from __future__ import annotations

from typing import cast

import streamlit as st

from app.schema import AnswerResult, ContextInfo, QuoteInfo
from app.ui import faq_panel, viewer
from app.ui.i18n import N_, _
from app.ui.safe_text import escape_markdown, highlight
from app.ui.why import why_lines

WHY_ABSTAINED = {
    "evidence": N_(
        "Nothing relevant was found in the knowledge base; the closest passages are below."
    ),
    "support": N_(
        "The draft said things the documents do not support, or only restated the question,"
        " so it was withheld."
    ),
    "reasoning": N_("The reasoning found no support in the passages."),
    "model": N_("The model found no answer in the passages."),
}

# How well a source matches the question (ContextInfo["relevance"], when the chain gives
# it): a word and a colour instead of a score a reader cannot interpret.
RELEVANCE = {
    "strong": ("🟢", N_("strong match")),
    "partial": ("🟡", N_("partial match")),
    "weak": ("⚪", N_("weak match")),
}


def abstained(result: AnswerResult) -> bool:
    return bool((result.get("abstention") or {}).get("abstained"))


def show_quotes(quotes: list[QuoteInfo]) -> None:
    """The grounded strategy's evidence under the answer: each chosen sentence verbatim,
    with its marker and source, so the reader can check the answer against it."""
    if not quotes:
        return
    lines = [
        f"> {escape_markdown(q['text'])} [{q['n']}] · {escape_markdown(str(q['source']))}"
        for q in quotes
    ]
    st.caption(_("Quoted from the documents"))
    st.markdown("\n>\n".join(lines))


def show_answer(result: AnswerResult) -> None:
    """The answer, or for an abstention a distinct friendly note (never an error)."""
    if not abstained(result):
        st.markdown(escape_markdown(result["answer"]))
        show_quotes(result.get("quotes") or [])
        if result.get("draft"):  # trimmed to its verified sentences
            st.caption(
                "🔎 "
                + _(
                    "Only the part the documents support is shown; the rest of the draft"
                    " was left out."
                )
            )
            with st.expander(_("Full draft"), expanded=False):
                st.markdown(escape_markdown(result["draft"]))
        if not cited_numbers(result):
            st.warning(
                _("No source supports this answer: check it before you rely on it."), icon="⚠️"
            )
        return
    signal = result["abstention"]["signal"] or ""
    why = _(WHY_ABSTAINED[signal]) if signal in WHY_ABSTAINED else ""
    st.info(escape_markdown(f"{result['answer']} {why}"), icon="🔎")
    if result.get("draft"):
        with st.expander(_("Unverified draft"), expanded=False):
            st.markdown(escape_markdown(result["draft"]))


def cited_numbers(result: AnswerResult) -> set[int]:
    """Sources the answer rests on: cited by marker, or quoted as evidence."""
    cited = {c["n"] for c in result.get("citations") or []}
    return cited | {q["n"] for q in result.get("quotes") or []}


def quoted_sentences(result: AnswerResult) -> dict[int, list[str]]:
    """Every sentence quoted from each source, so all of them are highlighted."""
    found: dict[int, list[str]] = {}
    for c in result.get("citations") or []:
        found.setdefault(c["n"], []).append(c["quote"])
    for q in result.get("quotes") or []:
        found.setdefault(q["n"], []).append(q["text"])
    return found


def show_sources(result: AnswerResult) -> None:
    faq_panel.curated_mark(result)  # an FAQ entry's answer: whose, from when
    if result.get("reasoning"):
        with st.expander(_("Reasoning"), expanded=False):
            st.markdown(escape_markdown(result["reasoning"]))
    cited, quotes = cited_numbers(result), quoted_sentences(result)
    for ctx in result.get("contexts", []):
        show_source(ctx, ctx["n"] in cited, quotes.get(ctx["n"], []))
    timings = result.get("timings")
    if timings:
        line = _("search {search} s · first word {first} s · total {total} s")
        st.caption(
            line.format(
                search=f"{timings['retrieval_s']:.2f}",
                first=f"{timings['first_token_s']:.1f}",
                total=f"{timings['total_s']:.1f}",
            )
        )
    with st.expander(_("Why this answer"), expanded=False):
        for line in why_lines(result):
            st.markdown(escape_markdown(line))


def source_label(ctx: ContextInfo, cited: bool) -> str:
    """[n] file · page · how well it matches; ✅ when the answer rests on it."""
    parts = [f"{'✅ ' if cited else ''}[{ctx['n']}] {escape_markdown(ctx['source'] or '')}"]
    if ctx.get("page"):
        parts.append(_("page {page}", page=ctx["page"]))
    relevance = RELEVANCE.get(str(cast(dict, ctx).get("relevance")))  # issue 2's signal
    if relevance:
        parts.append(f"{relevance[0]} {_(relevance[1])}")
    return " · ".join(parts)


def show_source(ctx: ContextInfo, cited: bool, quotes: list[str]) -> None:
    """One retrieved passage, closed, with every sentence quoted from it highlighted."""
    with st.expander(source_label(ctx, cited), expanded=False):
        st.markdown(highlight(ctx["text"], quotes))
        viewer.open_button(ctx, quotes[0] if quotes else "")  # the document at that place
