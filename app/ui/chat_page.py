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
from app.schema import AnswerResult, QuoteInfo
from app.ui import conversations, faq_panel, resources, state
from app.ui.safe_text import escape_markdown, highlight, show_error
from app.ui.sidebar import answer_options
from app.ui.why import why_lines

WHY_ABSTAINED = {
    "evidence": "知识库里没有找到相关内容，下面是最接近的段落。"
    " Nothing relevant was found; the closest passages are below.",
    "support": "草稿里的数字、名称或说法在资料中找不到，或只是复述了问题，所以没有采用。"
    " The draft said things the documents do not support, or only restated the question,"
    " so it was withheld.",
    "reasoning": "推理没有在资料中找到依据。 The reasoning found no support in the passages.",
    "model": "模型认为资料中没有答案。 The model found no answer in the passages.",
}

TRIMMED = (
    "🔎 只保留了能在资料中核实的部分；后面的内容在资料中找不到。"
    " Only the part the documents support is shown; the rest of the draft was left out."
)


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
    st.caption("原文 Quoted from the documents")
    st.markdown("\n>\n".join(lines))


def show_answer(result: AnswerResult) -> None:
    """The answer, or for an abstention a distinct friendly note (never an error)."""
    if not abstained(result):
        st.markdown(escape_markdown(result["answer"]))
        show_quotes(result.get("quotes") or [])
        if result.get("draft"):  # trimmed to its verified sentences
            st.caption(TRIMMED)
            with st.expander("完整草稿 Full draft", expanded=False):
                st.markdown(escape_markdown(result["draft"]))
        return
    signal = result["abstention"]["signal"]
    st.info(escape_markdown(f"{result['answer']} {WHY_ABSTAINED.get(signal or '', '')}"), icon="🔎")
    if result.get("draft"):
        with st.expander("未经核实的草稿 Unverified draft", expanded=False):
            st.markdown(escape_markdown(result["draft"]))


def show_sources(result: AnswerResult) -> None:
    faq_panel.curated_mark(result)  # an FAQ entry's answer: whose, from when
    cited = {c["n"]: c for c in result.get("citations", [])}
    if result.get("reasoning"):
        with st.expander("推理过程 Reasoning", expanded=False):
            st.markdown(escape_markdown(result["reasoning"]))
    for ctx in result.get("contexts", []):
        page = f" · 第{ctx['page']}页" if ctx.get("page") else ""
        mark = "✅ " if ctx["n"] in cited else ""
        source = escape_markdown(ctx["source"] or "")
        label = f"{mark}[{ctx['n']}] {source}{page} · {ctx['score']:.2f}"
        with st.expander(label, expanded=False):
            quote = cited[ctx["n"]]["quote"] if ctx["n"] in cited else ""
            st.markdown(highlight(ctx["text"], quote))
    timings = result.get("timings")
    if timings:
        st.caption(
            f"检索 {timings['retrieval_s']:.2f} s · 首字 {timings['first_token_s']:.1f} s"
            f" · 总计 {timings['total_s']:.1f} s"
        )
    with st.expander("为什么是这个回答 Why this answer", expanded=False):
        for line in why_lines(result):
            st.markdown(escape_markdown(line))


@contextmanager
def admitted(backend: str) -> Iterator[None]:
    """Wait for a turn at the model (shared with `zhiku serve` in the same process),
    showing the place in the queue; a full queue is one message (QueueFull)."""
    notice = st.empty()

    def show_place(position: int) -> None:
        notice.caption(f"⏳ 排队中，前面还有 {position} 个请求 · Waiting: {position} ahead of you")

    with admission_for(resources.settings(), backend).slot(on_wait=show_place):
        notice.empty()
        yield


def answer(question: str, choice: dict, history: list[dict]) -> AnswerResult | None:
    """Stream one answer into the current chat message; a known error is one message."""
    try:
        chain = resources.chain(
            choice["collection"],
            choice["strategy"],
            choice["k"],
            choice["backend"],
            choice["base_url"],
            choice["temperature"],
        )
        result: dict[str, Any] = {}  # the result event, once it arrives
        streamed: list[str] = []

        def tokens():
            for event in chain.stream({"question": question, "history": history}):
                if event["event"] == "quotes":  # the evidence, before the answer is written
                    with quotes_slot.container():
                        show_quotes(event["quotes"])
                elif event["event"] == "token" and event["part"] == "answer":
                    streamed.append(event["text"])
                    yield escape_markdown(event["text"])
                elif event["event"] == "result":
                    result.update(event)

        slot, quotes_slot = st.empty(), st.empty()
        with (
            tracing.answer("chat", collection=choice["collection"]) as trace,
            admitted(choice["backend"]),
            slot.container(),
        ):
            st.write_stream(tokens())
            trace.record(result)
        quotes_slot.empty()
        final = cast(AnswerResult, result)
        # withheld, trimmed to its verified part, or a loop cut: show what was kept
        if (
            abstained(final)
            or final.get("draft")
            or final.get("quotes")
            or "".join(streamed).strip() != final["answer"]
        ):
            with slot.container():
                show_answer(final)
        return final
    except UserError as exc:
        show_error(exc)
        return None


def empty_knowledge_base_message(collection: str) -> str:
    return (
        f"知识库 `{collection}` 还是空的。在「知识库」页面上传文件，或运行 "
        f"`zhiku ingest 文件夹 --collection {collection}`。\n\n"
        f"The knowledge base `{collection}` is empty: upload files on the Knowledge bases "
        "page, or run `zhiku ingest FOLDER` for it."
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
    st.title("知库 zhiku")
    empty = KnowledgeBases(settings).size(choice["collection"]) == 0
    if empty:
        st.info(empty_knowledge_base_message(choice["collection"]))
    if note := conversations.missing_knowledge_base_note(settings):
        st.warning(escape_markdown(note), icon="🗂️")
    messages = st.session_state.setdefault("messages", [])
    for message in messages:
        with st.chat_message(message["role"]):
            if message.get("result"):
                show_answer(message["result"])
                show_sources(message["result"])
                conversations.feedback(message)
            else:
                st.markdown(escape_markdown(message["content"]))
    # the API's limit too (ZHIKU_MAX_QUESTION_CHARS): the box stops typing and pasting there
    question = st.chat_input(
        "输入问题 Ask a question…", max_chars=settings.serving.max_question_chars
    )
    if not question:
        return
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
