"""Sidebar widgets; their values live in session state (see app.ui.state)."""

from __future__ import annotations

import streamlit as st

from app.knowledge.service import KnowledgeBases
from app.models.chat import chat_backend, offered_backends
from app.settings import Settings

STRATEGIES = {
    "zero-shot": "直接回答 zero-shot",
    "few-shot": "示例 few-shot",
    "cot": "推理 CoT",
    "extractive": "摘录原文 extractive",
    "grounded": "据原文作答 grounded",
}


def knowledge_base_picker(settings: Settings) -> None:
    """The knowledge base both pages work on, with its size."""
    knowledge = KnowledgeBases(settings)
    names = knowledge.names()
    current = st.session_state["kb"]
    if current not in names:
        names = sorted([*names, current])
    with st.sidebar:
        st.selectbox("知识库 Knowledge base", names, key="kb")
        size = knowledge.size(st.session_state["kb"])
        st.caption(f"{size} 个片段 chunks")


def answer_options(settings: Settings) -> None:
    """Strategy, top-k, backend and temperature for the chat.

    Only the backends and endpoints the operator configured are offered, and none can be
    typed: a visitor who could enter a URL would receive the hosted key there.
    """
    backends = offered_backends(settings)
    with st.sidebar:
        st.radio("提示策略 Strategy", list(STRATEGIES), key="strategy", format_func=STRATEGIES.get)
        st.slider("检索段落数 Top-k", 1, 10, key="k")
        if len(backends) > 1:
            st.radio("模型 Backend", backends, key="backend")
        endpoints = chat_backend(settings, st.session_state["backend"]).endpoints()
        if len(endpoints) > 1:
            st.selectbox("服务 Endpoint", endpoints, key="base_url")
        st.slider("Temperature", 0.0, 1.0, step=0.05, key="temperature")
