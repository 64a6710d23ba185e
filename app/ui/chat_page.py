"""Chat page: ask, watch the answer stream, read the numbered sources under it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import streamlit as st

from app import tracing
from app.answering.admission import admission_for
from app.errors import UserError
from app.knowledge.service import KnowledgeBases
from app.schema import AnswerResult
from app.ui import conversations, resources, start_screen, state
from app.ui.answer_view import show_answer, show_quotes, show_sources
from app.ui.i18n import _
from app.ui.safe_text import escape_markdown, show_error
from app.ui.sidebar import answer_options


class Status:
    """What the answer is doing before its first word: waiting for the model (with the
    place in the queue), searching, then writing; gone once text appears."""

    def __init__(self) -> None:
        self.slot = st.empty()

    def show(self, text: str) -> None:
        with self.slot:
            st.status(text, state="running")

    def clear(self) -> None:
        self.slot.empty()


@contextmanager
def admitted(backend: str, status: Status) -> Iterator[None]:
    """Wait for a turn at the model (shared with `zhiku serve` in the same process),
    showing the place in the queue; a full queue is one message (QueueFull)."""

    def show_place(position: int) -> None:
        status.show(_("Waiting for the model: {position} ahead of you…", position=position))

    with admission_for(resources.settings(), backend).slot(on_wait=show_place):
        status.show(_("Searching the knowledge base…"))
        yield


def answer(question: str, choice: dict, history: list[dict]) -> AnswerResult | None:
    """Stream one answer into the current chat message; a known error is one message."""
    status = Status()
    try:
        status.show(_("Searching the knowledge base…"))
        chain = resources.chain(
            choice["collection"],
            choice["strategy"],
            choice["k"],
            choice["backend"],
            choice["base_url"],
            choice["temperature"],
            resources.knowledge().identity(choice["collection"]),
        )
        result: dict[str, Any] = {}  # the result event, once it arrives
        streamed: list[str] = []

        def tokens():
            for event in chain.stream({"question": question, "history": history}):
                if event["event"] == "contexts":
                    status.show(_("Writing the answer…"))
                elif event["event"] == "quotes":  # the evidence, before the answer is written
                    with quotes_slot.container():
                        show_quotes(event["quotes"])
                elif event["event"] == "token" and event["part"] == "answer":
                    status.clear()
                    streamed.append(event["text"])
                    yield escape_markdown(event["text"])
                elif event["event"] == "result":
                    result.update(event)

        slot, quotes_slot = st.empty(), st.empty()
        with (
            tracing.answer("chat", collection=choice["collection"]) as trace,
            admitted(choice["backend"], status),
            slot.container(),
        ):
            st.write_stream(tokens())
            trace.record(result)
        status.clear()
        quotes_slot.empty()
        final = cast(AnswerResult, result)
        # withheld, trimmed, quoted, loop-cut or unsupported: draw the whole answer again
        with slot.container():
            show_answer(final)
        return final
    except UserError as exc:
        status.clear()
        show_error(exc)
        return None


def empty_knowledge_base_message(collection: str) -> str:
    return _(
        "The knowledge base **{name}** is empty. Add files on the Knowledge bases page"
        " (📚 in the menu), then ask here.",
        name=escape_markdown(collection),
    )


def render() -> None:
    """The conversation list goes at the top of the sidebar but is drawn last, so a
    conversation saved by this run's answer is already in it."""
    settings = resources.settings()
    conversation_list = st.sidebar.container()
    answer_options(settings)
    chat(settings)
    with conversation_list:
        conversations.sidebar(settings)


def chat(settings) -> None:
    choice = state.choices()
    choice["collection"] = choice.pop("kb")
    empty = KnowledgeBases(settings).size(choice["collection"]) == 0
    messages = st.session_state.setdefault("messages", [])
    welcome = None
    if empty:
        st.title(_("zhiku"))
        st.info(empty_knowledge_base_message(choice["collection"]))
    elif not messages and start_screen.SUGGESTED not in st.session_state:
        welcome = st.empty()  # gone as soon as a question is asked
        with welcome.container():
            start_screen.show(settings, choice["collection"])
    else:
        st.title(_("zhiku"))
    if note := conversations.missing_knowledge_base_note(settings):
        st.warning(escape_markdown(note), icon="🗂️")
    for message in messages:
        with st.chat_message(message["role"]):
            if message.get("result"):
                show_answer(message["result"])
                show_sources(message["result"])
                conversations.feedback(message)
            else:
                st.markdown(escape_markdown(message["content"]))
    # the API's limit too (ZHIKU_MAX_QUESTION_CHARS): the box stops typing and pasting there
    typed = st.chat_input(_("Ask a question…"), max_chars=settings.serving.max_question_chars)
    question = typed or st.session_state.pop(start_screen.SUGGESTED, None)
    if question:
        if welcome is not None:
            welcome.empty()
            st.title(_("zhiku"))
        ask(question, choice, messages, empty)


def ask(question: str, choice: dict, messages: list[dict], empty: bool) -> None:
    history = [{"role": m["role"], "content": m["content"]} for m in messages]
    messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))
    with st.chat_message("assistant"):
        if empty:
            st.info(empty_knowledge_base_message(choice["collection"]))
            return
        result = answer(question, choice, history)
        if result:
            show_sources(result)
            message_id = conversations.save_exchange(question, result, choice)
            messages[-1]["knowledge_base"] = choice["collection"]
            reply = {"role": "assistant", "content": result["answer"], "result": result,
                     "message_id": message_id, "knowledge_base": choice["collection"]}  # fmt: skip
            messages.append(reply)
            conversations.feedback(reply)
        if error := st.session_state.pop(conversations.ERROR_KEY, None):
            st.warning(escape_markdown(error), icon="⚠️")
