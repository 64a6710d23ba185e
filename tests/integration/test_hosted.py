"""The hosted (OpenAI-compatible) path against a real llama-cpp-python server on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from app.answering.chain import build_rag_chain
from app.models.chat import ChatModelError
from app.models.gguf import resolve_model_path
from tests.helpers import free_port, wait_for_http, zhiku

API_KEY = "zhiku-test-key"


@pytest.fixture(scope="module")
def llama_server(kb_settings) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(resolve_model_path(kb_settings)),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--model_alias",
            "local",
            "--n_ctx",
            "4096",
            "--n_threads",
            "2",
            "--api_key",
            API_KEY,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    wait_for_http(f"{url}/models", proc, headers={"Authorization": f"Bearer {API_KEY}"})
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def hosted(settings, url: str, key: str = API_KEY):
    return settings.model_copy(
        update={"backend": "hosted", "hosted_base_url": url, "hosted_api_key": SecretStr(key)}
    )


def test_hosted_backend_answers_and_streams(kb_settings, llama_server: str) -> None:
    settings = hosted(kb_settings, llama_server)
    chain = build_rag_chain(settings)
    events = list(chain.stream("GPT-1有多少层?"))
    tokens = [e for e in events if e["event"] == "token"]
    result = events[-1]
    assert len(tokens) >= 2 and result["backend"] == "hosted"
    assert result["answer"] and len(result["contexts"]) == 3
    assert any("GPT-1" in c["text"] for c in result["contexts"])
    assert result["tokens"].get("output_tokens", 0) > 0  # usage reported by the server


def test_hosted_backend_keeps_to_max_tokens(kb_settings, llama_server: str) -> None:
    """ZHIKU_MAX_TOKENS reaches the server: langchain-openai renames the limit to
    `max_completion_tokens`, which llama-cpp-python's server ignores (it wrote on)."""
    from app.models.chat import chat_backend

    settings = hosted(kb_settings, llama_server).updated(max_tokens=8)
    reply = chat_backend(settings).model.invoke("用三百字介绍一下GPT-1。")
    assert 0 < reply.usage_metadata["output_tokens"] <= 8


def test_hosted_errors_are_one_clear_line(kb_settings, llama_server: str) -> None:
    refused = build_rag_chain(hosted(kb_settings, llama_server, key="wrong"))
    with pytest.raises(ChatModelError, match="refused the API key"):
        refused.invoke("RAG是什么？")

    down = hosted(kb_settings, f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(ChatModelError, match="cannot reach the chat server"):
        build_rag_chain(down).invoke("RAG是什么？")

    env_settings = down.updated(**{"backend": "hosted"})
    result = zhiku(env_settings, "ask", "RAG是什么？", "--backend", "hosted")
    assert result.returncode == 1 and "cannot reach the chat server" in result.stderr
    assert "Traceback" not in result.stderr


def test_chat_page_on_the_hosted_backend(kb_settings, llama_server: str, monkeypatch) -> None:
    """The web chat with the hosted backend: a refused key is a message, the right one answers."""
    from tests.helpers import open_chat_app

    for key, words in [("wrong-key", "refused the API key"), (API_KEY, None)]:
        app = open_chat_app(hosted(kb_settings, llama_server, key), monkeypatch)
        assert app.session_state["backend"] == "hosted"  # the operator's, not shown
        app.chat_input[0].set_value("GPT-1有多少层?").run()
        assert not app.exception
        answer = app.chat_message[-1]
        if words:
            assert words in answer.error[0].value.replace("\\", "")
            assert key not in answer.error[0].value  # the key is never shown
        else:
            assert "12" in " ".join(m.value for m in answer.markdown) and answer.expander


def test_hosted_backend_abstains_too(kb_settings, llama_server: str) -> None:
    chain = build_rag_chain(hosted(kb_settings, llama_server))
    result = chain.invoke("Mixtral 8x7B的专家数量是多少？")
    assert (
        result["abstention"]["signal"] == "evidence" and result["answer"] == "资料中没有找到答案。"
    )
    assert result["tokens"] == {}  # the server was never asked
