"""Web chat speed: a warm rerun, and the first answer after a cold start.

- Warm rerun: the chat page with one answered question, rerun in-process
  (streamlit.testing), against a baseline script that draws the same messages and
  sidebar widgets with no zhiku code: the ratio is what zhiku adds to a rerun.
- Cold first answer: `zhiku chat` started from nothing, a real browser (Debian's
  chromium via Playwright) asks one question; baseline: the same question through
  `zhiku ask` in a fresh process (same models, same knowledge base).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.settings import REPO_ROOT, Settings, load_settings
from bench.common import env_for, run_zhiku, summary_value
from bench.servers import CHROMIUM, CHROMIUM_FLAGS, free_port, wait_for_http

QUESTION = "GPT-1有多少层？参数量是多少？"
BASELINE_SCRIPT = """
import streamlit as st
with st.sidebar:
    st.selectbox("kb", ["samples"], key="kb")
    st.radio("strategy", ["zero-shot", "few-shot", "cot"], key="strategy")
    st.slider("k", 1, 10, 5, key="k")
    st.radio("backend", ["local", "hosted"], key="backend")
    st.text_input("url", key="url")
    st.text_input("model", key="model")
    st.slider("t", 0.0, 1.0, 0.1, key="t")
st.title("baseline")
for role in ["user", "assistant"]:
    with st.chat_message(role):
        st.markdown("GPT-1 共 12 层，参数量约 1.17 亿。")
        for n in range(5):
            with st.expander(f"[{n}] source"):
                st.markdown("chunk text " * 40)
st.chat_input("ask")
"""


def _settings() -> Settings:
    data = Path(tempfile.mkdtemp(prefix="zhiku-bench-ui-"))
    return load_settings(data_dir=data, collection="samples", cache_dir=REPO_ROOT / ".cache")


def _median_rerun_ms(app, runs: int = 30) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        app.run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def warm_rerun(settings: Settings) -> dict:
    from streamlit.testing.v1 import AppTest

    os.environ.update(env_for(settings))
    app = AppTest.from_file(str(REPO_ROOT / "app" / "ui" / "main.py"), default_timeout=900)
    app.run()
    app.chat_input[0].set_value(QUESTION).run()
    assert not app.exception and len(app.chat_message) == 2, app.exception
    zhiku_ms = _median_rerun_ms(app)
    baseline = AppTest.from_string(BASELINE_SCRIPT, default_timeout=60)
    baseline.run()
    baseline_ms = _median_rerun_ms(baseline)
    return {"rerun_ms": zhiku_ms, "baseline_rerun_ms": baseline_ms, "ratio": zhiku_ms / baseline_ms}


def cold_first_answer(settings: Settings) -> dict:
    from playwright.sync_api import sync_playwright

    cli_s, _, _ = run_zhiku(settings, "ask", QUESTION)
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("zhiku")), "chat", "--server.port", str(port)],
        env=env_for(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", proc, timeout=120)
        server_up_s = time.perf_counter() - started
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=300_000)
            page_ready_s = time.perf_counter() - started
            box.fill(QUESTION)
            asked = time.perf_counter()
            box.press("Enter")
            page.get_by_test_id("stChatMessage").nth(1).get_by_text("总计").wait_for(
                timeout=600_000
            )
            answered = time.perf_counter()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    first_answer_s = answered - started
    return {
        "server_up_s": server_up_s,
        "page_ready_s": page_ready_s,
        "question_to_answer_s": answered - asked,
        "first_answer_s": first_answer_s,
        "cli_ask_s": cli_s,
        "ratio": first_answer_s / cli_s,
    }


def ingest_samples(settings: Settings, folder: Path) -> None:
    """Index the corpus both measurements ask about; stop if any file did not index."""
    _, _, report = run_zhiku(settings, "ingest", str(folder), "--collection", "samples")
    indexed, expected = summary_value(report, "files indexed"), len(list(folder.iterdir()))
    if not expected or indexed != expected:
        raise RuntimeError(f"{indexed} of {expected} sample files indexed:\n{report}")


def run() -> dict:
    settings = _settings()
    ingest_samples(settings, REPO_ROOT / "samples")
    return {"warm": warm_rerun(settings), "cold": cold_first_answer(settings)}
