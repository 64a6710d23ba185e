"""Which chat backends and endpoints a visitor may use, and what a model is loaded for:
rules of app/models/ (chat, local, hosted) that need no model."""

from __future__ import annotations

import pytest

from app.models.chat import ChatModelError, make_chat_model, offered_backends
from app.models.hosted import HostedChat, for_endpoint, hosted_endpoints
from app.models.local import LocalChat
from app.settings import load_settings

OPERATOR = "http://10.0.0.5:8080/v1"
ATTACKER = "http://127.0.0.1:9/v1"


def test_hosted_is_offered_only_when_the_operator_configured_it() -> None:
    assert offered_backends(load_settings()) == ["local"]
    configured = load_settings(hosted_base_url=OPERATOR)
    assert offered_backends(configured) == ["local", "hosted"]
    assert hosted_endpoints(configured) == [OPERATOR]


def test_a_visitor_cannot_point_the_hosted_backend_at_a_url() -> None:
    settings = load_settings(hosted_base_url=OPERATOR, hosted_api_key="sk-secret-123")
    with pytest.raises(ChatModelError, match="not offered"):
        for_endpoint(settings, ATTACKER)
    assert for_endpoint(settings, OPERATOR) is settings


def test_the_key_goes_only_to_the_endpoint_configured_with_it() -> None:
    settings = load_settings(
        hosted_base_url=OPERATOR,
        hosted_api_key="sk-secret-123",
        hosted_allowed_base_urls=f"{ATTACKER},http://10.0.0.6/v1",
    )
    assert hosted_endpoints(settings) == [OPERATOR, ATTACKER, "http://10.0.0.6/v1"]
    other = for_endpoint(settings, ATTACKER)
    assert other.chat_model.hosted_base_url == ATTACKER
    assert other.chat_model.hosted_api_key.get_secret_value() != "sk-secret-123"
    model = make_chat_model(other, "hosted")
    assert model.bound.openai_api_key.get_secret_value() != "sk-secret-123"
    assert make_chat_model(settings, "hosted").bound.openai_api_base == OPERATOR


def test_no_hosted_model_without_an_endpoint() -> None:
    with pytest.raises(ChatModelError, match="ZHIKU_HOSTED_BASE_URL"):
        make_chat_model(load_settings(), "hosted")


def test_sampling_options_travel_with_each_call_and_fit_the_context() -> None:
    settings = load_settings(llm_context=4096).model_copy(
        update={"temperature": 0.13, "max_tokens": 32768}
    )
    expected = {"temperature": 0.13, "top_p": 0.9, "max_tokens": 4096}
    assert LocalChat(settings).sampling_options() == expected
    assert HostedChat(settings).sampling_options()["max_tokens"] == 32768


def test_hosted_chains_with_other_temperatures_share_one_client() -> None:
    base = load_settings(hosted_base_url=OPERATOR)
    models = [make_chat_model(base.updated(**{"temperature": t}), "hosted") for t in (0.1, 0.2)]
    assert models[0].bound is models[1].bound
    assert [m.kwargs["temperature"] for m in models] == [0.1, 0.2]
