"""Conversations over `zhiku serve` with the openai SDK: start one, continue it (the saved
turns are the history), find it in the chat's store; an unknown id is a 404."""

from __future__ import annotations

import httpx

from app.api.conversations import key_owner
from app.conversations.store import open_conversation_store
from tests.integration.test_api import AUTH, KEY, api_settings, server  # noqa: F401 - fixtures


def test_a_conversation_is_saved_and_continued(server: str, api_settings) -> None:  # noqa: F811
    from openai import OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key=KEY)
    first = client.chat.completions.create(
        model="zhiku/samples",
        messages=[{"role": "user", "content": "GPT-1有多少层？"}],
        extra_body={"conversation_id": "new"},
    )
    conversation_id = first.model_extra["conversation_id"]
    assert conversation_id and len(conversation_id) == 32

    # Only the follow-up is sent: the stored turns are the history it is rewritten with.
    stream = client.chat.completions.create(
        model="zhiku/samples",
        messages=[{"role": "user", "content": "它的参数量是多少？"}],
        extra_body={"conversation_id": conversation_id},
        stream=True,
    )
    chunks = list(stream)
    assert chunks[-1].model_extra["conversation_id"] == conversation_id
    standalone = chunks[-1].model_extra["zhiku"]["standalone_question"]
    assert "GPT" in standalone, standalone

    saved = open_conversation_store(api_settings).get(conversation_id)
    assert saved is not None and saved.title == "GPT-1有多少层？"
    assert [m.role for m in saved.messages] == ["user", "assistant"] * 2
    assert saved.messages[3].result["contexts"]  # the sources are kept
    store = open_conversation_store(api_settings)
    assert store.get(conversation_id, owner=key_owner(KEY)) is not None  # the key's own
    assert store.get(conversation_id, owner="api") is None  # not the keyless API's

    unknown = httpx.post(
        f"{server}/v1/chat/completions",
        headers=AUTH,
        json={
            "model": "zhiku/samples",
            "conversation_id": "f" * 32,
            "messages": [{"role": "user", "content": "hi"}],
        },
        timeout=60,
    )
    assert unknown.status_code == 404
    assert "no conversation" in unknown.json()["error"]["message"]
