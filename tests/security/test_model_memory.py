"""Issue 22, high 2: every temperature or max_tokens value loaded another copy of the model.

Before the fix `_local_model` was keyed on the sampling options and the cached chains kept
each copy alive: `zhiku serve` grew 1,020 -> 4,115 MB over six requests with temperature
0.11...0.14 and one max_tokens=32768. Now the model is loaded once per file and the options
travel with each call."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.security.conftest import Server, start

QUESTION = "GPT-1有多少层？"


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) / 1024


def _ask(server: Server, **options) -> dict:
    body = {"model": "zhiku/samples", "messages": [{"role": "user", "content": QUESTION}]}
    reply = httpx.post(f"{server.url}/v1/chat/completions", json=body | options, timeout=600)
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.fixture(scope="module")
def served(samples_settings, tmp_path_factory) -> Iterator[Server]:
    server = start(samples_settings, tmp_path_factory.mktemp("memory"))
    yield server
    assert "Traceback" not in server.stop()


def test_a_temperature_sweep_keeps_the_servers_memory_flat(served: Server) -> None:
    _ask(served)  # the model is loaded once, by the first question
    before = _rss_mb(served.proc.pid)
    sizes = []
    for temperature in (0.11, 0.12, 0.13, 0.14):
        _ask(served, temperature=temperature)
        sizes.append(_rss_mb(served.proc.pid))
    _ask(served, temperature=0.11, max_tokens=32768)  # clamped to the context, no new model
    sizes.append(_rss_mb(served.proc.pid))
    print(f"RSS before {before:.0f} MB, after each request {[round(s) for s in sizes]} MB")
    assert max(sizes) <= before * 1.10, (before, sizes)


def test_chains_with_other_options_share_one_loaded_model(samples_settings) -> None:
    """In process: the API's chain cache with five option combinations holds one Llama."""
    from app.api.chat import Chains
    from app.models.local import loaded_local_models, local_client

    before = loaded_local_models()  # other tests of this process may hold another file
    chains = Chains(samples_settings)
    built = [
        chains.get("samples", "zero-shot", None, (("temperature", t), ("max_tokens", m)))
        for t, m in [(0.11, 32), (0.12, 32), (0.13, 32), (0.14, 32), (0.11, 32768)]
    ]
    clients = {id(local_client(chain.model)) for chain in built}
    assert len(clients) == 1 and loaded_local_models() <= max(before, 1)
    assert [chain.model.kwargs["temperature"] for chain in built] == [0.11, 0.12, 0.13, 0.14, 0.11]
    assert built[-1].model.kwargs["max_tokens"] == samples_settings.chat_model.llm_context
    result = built[-1].invoke(QUESTION)  # the options reach llama.cpp with the call
    assert result["answer"]


def test_the_chats_temperature_slider_loads_no_new_model(samples_settings, monkeypatch) -> None:
    """The chat's slider: each step added ~610 MB before the fix. Three temperatures, one
    llama.cpp model alive in the process."""
    import gc

    from app.models.local import _local_model
    from tests.helpers import open_chat_app

    _local_model.cache_clear()
    gc.collect()
    app = open_chat_app(samples_settings, monkeypatch)
    for temperature in (0.1, 0.3, 0.5):
        app.slider(key="temperature").set_value(temperature).run()
        app.chat_input[0].set_value(QUESTION).run()
        assert not app.exception and not app.chat_message[-1].error
    gc.collect()
    alive = [o for o in gc.get_objects() if type(o).__name__ == "Llama"]
    assert len(alive) == 1, f"{len(alive)} llama.cpp models loaded"
