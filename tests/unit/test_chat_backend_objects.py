"""The chat backend as an object (issue 27, item 4): chosen once by a factory, each backend
holding its options, slots, turn-taking, token counts and display name. No model loads
here: the hosted client is only constructed, the local one never."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from app.answering.admission import admission_for
from app.answering.extractive import choice_options
from app.models.chat import BACKENDS, ChatModelError, chat_backend, offered_backends
from app.models.hosted import HostedChat
from app.models.local import LocalChat
from app.settings import load_settings

OPERATOR = "http://10.0.0.5:8080/v1"
OTHER = "http://10.0.0.6/v1"
APP = Path(__file__).resolve().parents[2]


def test_the_factory_picks_the_configured_backend_or_the_one_named() -> None:
    plain = load_settings()
    hosted = load_settings(backend="hosted", hosted_base_url=OPERATOR)
    assert type(chat_backend(plain)) is LocalChat
    assert type(chat_backend(hosted)) is HostedChat
    assert type(chat_backend(hosted, "local")) is LocalChat
    assert type(chat_backend(plain, "hosted")) is HostedChat
    assert [chat_backend(plain, name).name for name in BACKENDS] == ["local", "hosted"]
    with pytest.raises(ChatModelError, match="no chat backend 'remote'"):
        chat_backend(plain, "remote")


def test_which_model_is_answering_is_the_backends_display_name() -> None:
    settings = load_settings(hosted_base_url=OPERATOR, hosted_model="qwen-max")
    assert chat_backend(settings, "local").display_name == settings.chat_model.llm_model
    assert chat_backend(settings, "hosted").display_name == "qwen-max"


def test_a_chain_answers_with_the_backend_it_was_given() -> None:
    from app.answering.chain import RagChain

    settings = load_settings(hosted_base_url=OPERATOR, hosted_model="qwen-max")
    chain = RagChain(settings, None, strategy="zero-shot", backend="hosted")  # type: ignore[arg-type]
    assert chain.backend == "hosted" and chain.model_name == "qwen-max"
    assert chain.model is chain.chat.model  # the hosted client, constructed, never called
    fake = GenericFakeChatModel(messages=iter([AIMessage(content="好")]))
    chain.model = fake  # tests swap the model: the backend answers with it
    assert chain.chat.model is fake


def test_slots_and_queues_are_the_backends() -> None:
    settings = load_settings(hosted_base_url=OPERATOR, hosted_concurrency=5, max_queue=7)
    local, hosted = chat_backend(settings, "local"), chat_backend(settings, "hosted")
    assert (local.slots, hosted.slots) == (1, 5)
    assert admission_for(settings, "local").slots == 1
    assert admission_for(settings, "hosted").slots == 5
    assert admission_for(settings, "hosted").max_waiting == 7
    assert admission_for(settings, "local") is admission_for(settings, "local")
    other = settings.model_copy(update={"hosted_base_url": OTHER})
    assert admission_for(other, "hosted") is not admission_for(settings, "hosted")
    assert admission_for(other, "local") is admission_for(settings, "local")  # one model


def test_local_generations_take_turns_and_hosted_ones_do_not() -> None:
    settings = load_settings(hosted_base_url=OPERATOR)
    local_turn = LocalChat(settings).turn()
    assert local_turn is LocalChat(load_settings()).turn()  # one lock for the process
    assert isinstance(local_turn, type(threading.Lock()))
    hosted = HostedChat(settings)
    with hosted.turn(), hosted.turn():  # parallel: entering twice does not block
        pass


def test_each_backend_sends_its_own_call_options() -> None:
    settings = load_settings(hosted_base_url=OPERATOR, repeat_penalty=1.3)
    local, hosted = LocalChat(settings), HostedChat(settings)
    assert local.call_options()["repeat_penalty"] == 1.3  # llama.cpp only
    assert "repeat_penalty" not in hosted.call_options()
    assert local.call_options()["stop"] == hosted.call_options()["stop"]
    assert choice_options(hosted, 5, 3) == {"max_tokens": 16}  # no grammar to send
    # (the local grammar loads llama_cpp: the extractive and grounded chain tests use it)


def test_only_the_hosted_backend_has_endpoints_to_pick() -> None:
    settings = load_settings(hosted_base_url=OPERATOR, hosted_allowed_base_urls=OTHER)
    local, hosted = LocalChat(settings), HostedChat(settings)
    assert local.endpoints() == [] and local.at_endpoint(OTHER) is local
    assert hosted.endpoints() == [OPERATOR, OTHER]
    assert hosted.at_endpoint(OPERATOR) is hosted
    moved = hosted.at_endpoint(OTHER)
    assert moved.settings.chat_model.hosted_base_url == OTHER
    assert moved.settings.chat_model.hosted_api_key.get_secret_value() == "not-needed"
    assert offered_backends(load_settings()) == ["local"]
    assert offered_backends(settings) == ["local", "hosted"]


def test_streaming_and_token_counts_through_the_backend() -> None:
    chat = HostedChat(load_settings(hosted_base_url=OPERATOR))
    chat.model = GenericFakeChatModel(messages=iter([AIMessage(content="检索 增强 生成")]))
    pieces = [value for kind, value in chat.stream([("user", "RAG?")]) if kind == "text"]
    assert "".join(pieces) == "检索 增强 生成"
    assert chat.token_counts("".join(pieces), {}, len(pieces)) == {
        "output_tokens": len(pieces),
        "approximate": True,
    }
    usage = {"input_tokens": 9, "output_tokens": 3, "total_tokens": 12}
    assert chat.token_counts("x", usage, 1) == usage
    local = LocalChat(load_settings())
    local.model = GenericFakeChatModel(messages=iter([AIMessage(content="好")]))
    assert local.token_counts("好", {}, 1)["approximate"]  # no llama.cpp client to ask


def test_no_backend_name_is_compared_outside_app_models() -> None:
    """Which backend it is is the backend object's business: a `== "local"` elsewhere is
    a second place the difference lives. (Settings validate their own field, below the
    models layer.)"""
    compared = re.compile(r"""[=!]=\s*["'](local|hosted)["']|["'](local|hosted)["']\s*[=!]=""")
    offenders = [
        f"{path.relative_to(APP)}:{n}"
        for folder in ("app", "ingest")
        for path in sorted((APP / folder).rglob("*.py"))
        if not path.is_relative_to(APP / "app" / "models")
        and not path.is_relative_to(APP / "app" / "settings")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if compared.search(line)
    ]
    assert offenders == []
