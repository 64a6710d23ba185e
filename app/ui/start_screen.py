"""What a new conversation opens on: a welcome, what the knowledge base holds, and
questions to start with — for the sample knowledge base the README's questions, which
the default settings answer correctly (tests/integration/test_grounded.py)."""

from __future__ import annotations

import streamlit as st

from app.settings import Settings
from app.ui import resources
from app.ui.i18n import _
from app.ui.safe_text import escape_markdown

SUGGESTED = "suggested_question"  # session state: the question a button chose
SAMPLE_QUESTIONS = (
    "GPT-1有多少层？参数量是多少？",
    "BERT和GPT的结构有什么不同？",
    "原始 Transformer 的基础模型用了几个注意力头？模型维度是多少？",
    "Who named retrieval-augmented generation, and in which year?",
)


def is_sample_knowledge_base(settings: Settings, name: str) -> bool:
    """The knowledge base the first start fills with the sample corpus."""
    return name == settings.knowledge.collection and settings.knowledge.first_start_samples


def show(settings: Settings, collection: str) -> None:
    st.title(_("Welcome to zhiku"))
    st.markdown(
        _(
            "Ask a question about the documents of the knowledge base chosen on the left."
            " Every answer names its sources: open one to read the passage it quotes."
        )
    )
    description = resources.knowledge().description(collection)
    if is_sample_knowledge_base(settings, collection) and not description:
        description = _(
            "Sample documents: five short texts about LLMs, Transformers and RAG,"
            " written to try zhiku on."
        )
    if description:
        st.caption(escape_markdown(description))
    if not is_sample_knowledge_base(settings, collection):
        return
    st.markdown(_("**Try one of these questions:**"))
    for n, question in enumerate(SAMPLE_QUESTIONS):
        st.button(question, key=f"suggest-{n}", on_click=_choose, args=(question,))


def _choose(question: str) -> None:
    st.session_state[SUGGESTED] = question
