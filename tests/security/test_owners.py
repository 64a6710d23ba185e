"""Issue 22, item 6: conversations and jobs belong to the key that made them.

Before the fix, with two keys, k2 continued k1's conversation (and read k1's earlier
question back in `standalone_question`), and read any job by its id."""

from __future__ import annotations

import httpx

from tests.security.conftest import K1, K2, Server


def _auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_another_key_cannot_continue_a_conversation(two_keys: Server) -> None:
    secret = "K1的私密问题：GPT-1有多少层？"
    first = httpx.post(
        f"{two_keys.url}/v1/chat/completions",
        headers=_auth(K1),
        timeout=300,
        json={"model": "zhiku/samples", "conversation_id": "new", "max_tokens": 16,
              "messages": [{"role": "user", "content": secret}]},
    )  # fmt: skip
    assert first.status_code == 200, first.text
    conversation = first.json()["conversation_id"]
    assert conversation
    follow_up = {"model": "zhiku/samples", "conversation_id": conversation, "max_tokens": 16,
                 "messages": [{"role": "user", "content": "它的参数量呢？"}]}  # fmt: skip
    stolen = httpx.post(f"{two_keys.url}/v1/chat/completions", headers=_auth(K2),
                        json=follow_up, timeout=300)  # fmt: skip
    assert stolen.status_code == 404, stolen.text
    assert "K1的私密问题" not in stolen.text
    assert stolen.json()["error"]["type"] == "invalid_request_error"
    own = httpx.post(f"{two_keys.url}/v1/chat/completions", headers=_auth(K1),
                     json=follow_up, timeout=300)  # fmt: skip
    assert own.status_code == 200 and own.json()["conversation_id"] == conversation


def test_another_key_cannot_read_a_job(two_keys: Server) -> None:
    job = httpx.post(f"{two_keys.url}/v1/knowledge_bases/samples/reindex", headers=_auth(K1))
    assert job.status_code == 202
    job_id = job.json()["job"]["id"]
    assert httpx.get(f"{two_keys.url}/v1/jobs/{job_id}", headers=_auth(K1)).status_code == 200
    other = httpx.get(f"{two_keys.url}/v1/jobs/{job_id}", headers=_auth(K2))
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
