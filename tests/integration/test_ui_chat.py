"""The Streamlit chat, driven by streamlit.testing (real chain, real model, real Chroma)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.settings import get_settings
from tests.helpers import open_chat_app, settings_env


@pytest.fixture
def app(kb_settings, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    yield open_chat_app(kb_settings.updated(language="en"), monkeypatch)
    get_settings.cache_clear()


def test_ask_and_see_the_answer_with_its_sources(app: AppTest) -> None:
    assert not app.exception
    assert app.selectbox(key="kb").value == "chain"
    app.chat_input[0].set_value("GPT-1有多少层?").run()
    assert not app.exception
    assistant = app.chat_message[1]
    answer = " ".join(m.value for m in assistant.markdown)
    assert "12" in answer
    labels = [e.label for e in assistant.expander if "Why this answer" not in e.label]
    assert len(labels) == 3 and any(label.startswith("✅") for label in labels)
    why = next(e for e in assistant.expander if "Why this answer" in e.label)
    lines = [m.value for m in why.markdown]
    assert sum(line.startswith("\\[") for line in lines) == 3  # a line per chunk, escaped
    assert any("fused" in line for line in lines) and any("answered" in line for line in lines)


def test_switch_strategy_and_new_conversation(app: AppTest) -> None:
    app.radio(key="strategy").set_value("cot").run()
    app.chat_input[0].set_value("GPT-1有多少层?").run()
    assert not app.exception
    assert len(app.chat_message) == 2
    app.button(key="new").click().run()
    assert len(app.chat_message) == 0


def test_zhiku_chat_serves_the_app(kb_settings, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.helpers import free_port, wait_for_http

    port = free_port()
    script = Path(sys.executable).with_name("zhiku")
    proc = subprocess.Popen(
        [
            str(script),
            "chat",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        env=settings_env(kb_settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", proc, timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_an_abstention_is_a_friendly_note_with_the_closest_sources(app: AppTest) -> None:
    app.chat_input[0].set_value("Mixtral 8x7B的专家数量是多少？").run()
    assert not app.exception and not app.chat_message[1].error
    assistant = app.chat_message[1]
    assert "资料中没有找到答案" in assistant.info[0].value
    assert "Nothing relevant was found" in assistant.info[0].value.replace("\\", "")
    assert "No source supports" not in " ".join(w.value for w in assistant.warning)
    sources = [e for e in assistant.expander if "Why this answer" not in e.label]
    assert len(sources) == 3  # the closest passages, to check for yourself


def _trimmed_answer_page() -> None:
    import streamlit as st

    from app.ui.answer_view import show_answer

    st.session_state["lang"] = "zh"

    show_answer(
        {
            "answer": "GPT-1共有12层 [1]。",
            "draft": "GPT-1共有12层 [1]。它有<b>48</b>个注意力头。",
            "abstention": {"abstained": False, "signal": None, "scores": {}},
        }
    )


def test_a_trimmed_answer_shows_the_verified_part_and_the_draft_on_request() -> None:
    page = AppTest.from_function(_trimmed_answer_page).run()
    assert not page.exception
    assert page.markdown[0].value.startswith("GPT\\-1共有12层")
    assert "只保留了能在资料中核实的部分" in page.caption[0].value  # the chosen language
    assert page.expander[0].label == "完整草稿"
    assert "\\<b\\>48" in page.expander[0].markdown[0].value  # escaped, never HTML
