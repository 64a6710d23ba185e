"""Chat page: ask, watch the answer stream, read the numbered sources under it."""

from __future__ import annotations

import streamlit as st

from app.cli_errors import USER_ERRORS
from app.store import list_collections
from app.ui import resources
from app.ui.safe_text import escape_markdown, highlight

STRATEGIES = {"zero-shot": "直接回答 zero-shot", "few-shot": "示例 few-shot", "cot": "推理 CoT"}


def sidebar() -> dict:
    """The user's choices; widget keys keep them for the browser session."""
    settings = resources.settings()
    with st.sidebar:
        names = list_collections(settings) or [settings.collection]
        default = names.index(settings.collection) if settings.collection in names else 0
        choice = {
            "collection": st.selectbox("知识库 Knowledge base", names, index=default, key="kb"),
            "strategy": st.radio(
                "提示策略 Strategy",
                list(STRATEGIES),
                key="strategy",
                format_func=STRATEGIES.get,
                index=list(STRATEGIES).index(settings.strategy),
            ),
            "k": st.slider("检索段落数 Top-k", 1, 10, settings.top_k, key="k"),
            "backend": st.radio(
                "模型 Backend",
                ["local", "hosted"],
                key="backend",
                index=["local", "hosted"].index(settings.backend),
            ),
        }
        hosted = choice["backend"] == "hosted"
        choice["base_url"] = st.text_input(
            "Base URL", settings.hosted_base_url, key="base_url", disabled=not hosted
        )
        choice["model"] = st.text_input(
            "Model", settings.hosted_model, key="model", disabled=not hosted
        )
        choice["temperature"] = st.slider(
            "Temperature", 0.0, 1.0, settings.temperature, 0.05, key="temperature"
        )
        if st.button("新对话 New conversation", key="new"):
            st.session_state.messages = []
    return choice


def show_sources(result: dict) -> None:
    cited = {c["n"]: c for c in result.get("citations", [])}
    if result.get("reasoning"):
        with st.expander("推理过程 Reasoning", expanded=False):
            st.markdown(escape_markdown(result["reasoning"]))
    for ctx in result.get("contexts", []):
        page = f" · 第{ctx['page']}页" if ctx.get("page") else ""
        mark = "✅ " if ctx["n"] in cited else ""
        label = f"{mark}[{ctx['n']}] {ctx['source']}{page} · {ctx['score']:.2f}"
        with st.expander(label, expanded=False):
            quote = cited[ctx["n"]]["quote"] if ctx["n"] in cited else ""
            st.markdown(highlight(ctx["text"], quote))
    timings = result.get("timings")
    if timings:
        st.caption(
            f"检索 {timings['retrieval_s']:.2f} s · 首字 {timings['first_token_s']:.1f} s"
            f" · 总计 {timings['total_s']:.1f} s"
        )


def answer(question: str, choice: dict, history: list[dict]) -> dict | None:
    """Stream one answer into the current chat message; a known error is one message."""
    try:
        chain = resources.chain(
            choice["collection"],
            choice["strategy"],
            choice["k"],
            choice["backend"],
            choice["base_url"],
            choice["model"],
            choice["temperature"],
        )
        result: dict = {}

        def tokens():
            for event in chain.stream({"question": question, "history": history}):
                if event["event"] == "token" and event["part"] == "answer":
                    yield escape_markdown(event["text"])
                elif event["event"] == "result":
                    result.update(event)

        st.write_stream(tokens())
        return result
    except USER_ERRORS as exc:
        st.error(str(exc))
        return None


def render() -> None:
    choice = sidebar()
    st.title("知库 zhiku")
    messages = st.session_state.setdefault("messages", [])
    for message in messages:
        with st.chat_message(message["role"]):
            st.markdown(escape_markdown(message["content"]))
            if message.get("result"):
                show_sources(message["result"])
    question = st.chat_input("输入问题 Ask a question…")
    if not question:
        return
    history = [{"role": m["role"], "content": m["content"]} for m in messages]
    messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))
    with st.chat_message("assistant"):
        result = answer(question, choice, history)
        if result:
            show_sources(result)
            messages.append({"role": "assistant", "content": result["answer"], "result": result})
