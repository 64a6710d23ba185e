"""Issue 24 as an attacker would try it: a real `zhiku serve` with `ZHIKU_AUTH=local`,
two knowledge bases (`samples`, `hrdocs`), two users with different grants, scoped keys,
and the clients a team uses (httpx, the openai SDK, the MCP SDK).

Each peer CVE class: another's conversation, document, job or knowledge base by id
(guessed and real) → 404 (Open WebUI CVE-2026-45349/-45402); a revoked or expired key,
or one whose user was disabled → 401 at once (AnythingLLM CVE-2026-32717); a key
derived from its shown prefix → 401 (RAGFlow CVE-2025-69286); a malformed header →
401, never success (MaxKB CVE-2026-44847); a `read` key or a viewer writing → 403; and
the audit trail has it all with no secret in it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import httpx2
import openai
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from app.auth import Access, NewKey, open_access
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.security.conftest import K1, Server, start

PASSWORD = "a long team password"
HR_TEXT = "员工手册：年假为每年十五天，由直属经理审批。病假需提交医院证明。\n" * 5


@pytest.fixture(scope="module")
def team(samples_settings, tmp_path_factory) -> Iterator[tuple[Server, Access, dict[str, NewKey]]]:
    """Knowledge bases `samples` and `hr`; ann is a viewer in samples, bob an editor in
    hrdocs (through group `hr-team`) and a viewer in samples; K1 stays a full-access key."""
    folder = tmp_path_factory.mktemp("hr-docs")
    (folder / "handbook.txt").write_text(HR_TEXT, encoding="utf-8")
    assert ingest_paths(open_knowledge_base(samples_settings, "hrdocs"), [folder]).ok
    access = open_access(samples_settings)
    access.add_user("ann", PASSWORD, "viewer")
    access.add_user("bob", PASSWORD, "editor", groups=["hr-team"])
    access.grant("user:ann", "samples", "viewer")
    access.grant("group:hr-team", "hrdocs", "editor")
    access.grant("user:bob", "samples", "viewer")
    keys = {
        "ann": access.create_key("user:ann", ["samples"], ["ask", "read"]),
        "ann_write": access.create_key("user:ann", ["samples"], ["ask", "read", "write"]),
        "bob": access.create_key("user:bob", ["hrdocs", "samples"], ["ask", "read", "write"]),
        "bob_read": access.create_key("user:bob", ["hrdocs"], ["read"]),
        "ci": access.create_key("service:ci", ["samples"], ["ask"]),
        "expired": access.create_key("user:ann", ["samples"], ["ask"], time.time() - 1),
    }
    server = start(samples_settings, tmp_path_factory.mktemp("team"),
                   ZHIKU_AUTH="local", ZHIKU_API_KEYS=f'["{K1}"]')  # fmt: skip
    yield server, access, keys
    err = server.stop()
    assert "Traceback" not in err, err
    assert all(key.secret not in err for key in keys.values()) and K1 not in err


def _as(key: NewKey | str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key if isinstance(key, str) else key.secret}"}


def _get(server: Server, path: str, key: NewKey | str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers=_as(key), timeout=60)


def _post(server: Server, path: str, key: NewKey | str, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", headers=_as(key), timeout=300, **kwargs)


def _raw_status(server: Server, path: str, authorization: str) -> int:
    """The status of a GET sent byte for byte (httpx refuses odd header values)."""
    host, port = server.url.removeprefix("http://").split(":")
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Authorization: {authorization}\r\nConnection: close\r\n\r\n")  # fmt: skip
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.encode("latin-1"))
        head = sock.recv(64).decode("latin-1")
    return int(head.split()[1])


def _same_404(a: httpx.Response, b: httpx.Response, name_a: str, name_b: str) -> None:
    """A hidden knowledge base answers exactly as a missing one (but for the name)."""
    assert a.status_code == b.status_code == 404, (a.text, b.text)
    assert a.text.replace(name_a, "X") == b.text.replace(name_b, "X")


def test_full_access_keys_from_the_environment_keep_working(team) -> None:
    server, _, _ = team
    names = {kb["name"] for kb in _get(server, "/v1/knowledge_bases", K1).json()["data"]}
    assert names == {"samples", "hrdocs"}


def test_lists_show_only_what_the_caller_may_read(team) -> None:
    server, _, keys = team
    listed = _get(server, "/v1/knowledge_bases", keys["ann"]).json()["data"]
    assert [kb["name"] for kb in listed] == ["samples"]
    models = openai.OpenAI(base_url=f"{server.url}/v1", api_key=keys["ci"].secret).models.list()
    assert {m.id for m in models.data} >= {"zhiku/samples"}
    assert "zhiku/hrdocs" not in {m.id for m in models.data}
    assert _get(server, "/v1/knowledge_bases", keys["ci"]).json()["data"] == []  # ask-only


def test_a_key_for_one_base_cannot_reach_another(team) -> None:
    server, _, keys = team
    ann = keys["ann"]
    query = {"query": "年假有几天？"}
    hidden = _post(server, "/v1/retrieve", ann, json={"knowledge_base": "hrdocs", **query})
    missing = _post(server, "/v1/retrieve", ann, json={"knowledge_base": "nope", **query})
    _same_404(hidden, missing, "hrdocs", "nope")
    assert "年假" not in hidden.text
    documents = "/v1/knowledge_bases/{}/documents"
    _same_404(_get(server, documents.format("hrdocs"), ann),
              _get(server, documents.format("nope"), ann), "hrdocs", "nope")  # fmt: skip
    dify = _post(server, "/retrieval", ann, json={"knowledge_id": "hrdocs", "query": "年假",
                                                  "retrieval_setting": {"top_k": 3}})  # fmt: skip
    assert dify.status_code == 404 and dify.json()["error_code"] == 2001
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=ann.secret, max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="zhiku/hrdocs", messages=[{"role": "user", "content": "年假有几天？"}]
        )
    delete = httpx.delete(f"{server.url}/v1/knowledge_bases/hrdocs/documents/handbook.txt",
                          headers=_as(ann), timeout=60)  # fmt: skip
    assert delete.status_code == 404
    own = _post(server, "/v1/retrieve", keys["bob"], json={"knowledge_base": "hrdocs", **query})
    assert own.status_code == 200 and "年假" in own.text


def test_a_read_key_and_a_viewer_cannot_write(team) -> None:
    server, _, keys = team
    upload = {"files": ("notes.txt", "写入测试".encode(), "text/plain")}
    read_only = _post(
        server, "/v1/knowledge_bases/hrdocs/documents", keys["bob_read"], files=upload
    )
    assert read_only.status_code == 403, read_only.text
    assert _post(server, "/v1/knowledge_bases/hrdocs/reindex", keys["bob_read"]).status_code == 403
    viewer = _post(server, "/v1/knowledge_bases/samples/documents", keys["ann_write"], files=upload)
    assert viewer.status_code == 403, viewer.text  # the key says write, ann's role does not
    assert (
        _post(server, "/v1/knowledge_bases", keys["bob"], json={"name": "new"}).status_code == 403
    )
    embed = {"model": "any", "input": "你好"}
    embeddings = _post(server, "/v1/embeddings", keys["bob_read"], json=embed)
    assert embeddings.status_code == 403


def test_another_callers_job_is_not_there(team) -> None:
    server, _, keys = team
    upload = {"files": ("leave.txt", "调休规定：加班可调休。".encode(), "text/plain")}
    made = _post(server, "/v1/knowledge_bases/hrdocs/documents", keys["bob"], files=upload)
    assert made.status_code == 202, made.text
    job = made.json()["job"]["id"]
    assert _get(server, f"/v1/jobs/{job}", keys["bob"]).status_code == 200
    for other in (keys["ann"], keys["ci"], K1):
        assert _get(server, f"/v1/jobs/{job}", other).status_code == 404
    guessed = "00000000-0000-4000-8000-000000000000"
    assert _get(server, f"/v1/jobs/{guessed}", keys["bob"]).status_code == 404


def test_another_users_conversation_is_not_there(team) -> None:
    server, _, keys = team
    question = [{"role": "user", "content": "ann的私密问题：GPT-1有多少层？"}]
    body = {"model": "zhiku/samples:extractive", "conversation_id": "new", "messages": question}
    first = _post(server, "/v1/chat/completions", keys["ann"], json=body)
    assert first.status_code == 200, first.text
    conversation = first.json()["conversation_id"]
    follow = {**body, "conversation_id": conversation}
    for other in (keys["bob"], keys["ci"]):  # both may ask in samples
        stolen = _post(server, "/v1/chat/completions", other, json=follow)
        assert stolen.status_code == 404 and "私密" not in stolen.text
    guessed = {**body, "conversation_id": "0" * 32}
    assert _post(server, "/v1/chat/completions", keys["ann"], json=guessed).status_code == 404
    assert _post(server, "/v1/chat/completions", keys["ann"], json=follow).status_code == 200


def test_revoked_expired_and_disabled_keys_stop_at_once(team) -> None:
    server, access, keys = team
    assert _get(server, "/v1/models", keys["expired"]).status_code == 401
    live = access.create_key("service:temp", ["samples"], ["ask"])
    assert _get(server, "/v1/models", live).status_code == 200
    access.revoke_key(live.key.prefix)
    assert _get(server, "/v1/models", live).status_code == 401
    carl = access.add_user("carl", PASSWORD, "viewer")
    carls = access.create_key(f"user:{carl.name}", ["samples"], ["ask"])
    assert _get(server, "/v1/models", carls).status_code == 200
    access.set_disabled("carl", True)
    assert _get(server, "/v1/models", carls).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic YW5uOnBhc3M=", "Token {secret}", "{secret}",
     "Bearer {secret} {secret}", "Bearer  {secret}", "Bearer {secret}x", "Bearer {prefix}",
     "Bearer zk_{prefix}_", "Bearer zk_{prefix}_" + "A" * 43,
     "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.", "Bearer {secret}\t",
     "Bearer {secret}\x0b", "Bearer \xe5\xb9\xb4{secret}"],
)  # fmt: skip
def test_malformed_or_derived_authorization_is_401(team, header: str) -> None:
    server, _, keys = team
    key = keys["bob"]
    value = header.format(secret=key.secret, prefix=key.key.prefix)
    expected = 400 if "\x0b" in value else 401  # uvicorn's HTTP parser refuses it first
    for path in ("/v1/models", "/v1/knowledge_bases", "/v1/knowledge_bases/hrdocs/documents"):
        assert _raw_status(server, path, value) == expected, (value, path)
    twice = [("Authorization", f"Bearer {key.secret}"), ("Authorization", "Bearer nope")]
    assert httpx.get(f"{server.url}/v1/models", headers=twice).status_code == 401


def test_mcp_shows_a_key_only_its_knowledge_bases(team) -> None:
    server, _, keys = team

    async def run() -> None:
        client = httpx2.AsyncClient(headers=_as(keys["ci"]), timeout=httpx2.Timeout(120))
        async with Client(streamable_http_client(f"{server.url}/mcp", http_client=client),
                          read_timeout_seconds=120) as mcp:  # fmt: skip
            listed = await mcp.call_tool("list_knowledge_bases", {})
            assert "samples" in str(listed.structured_content)
            assert "hrdocs" not in str(listed.structured_content)
            hidden = await mcp.call_tool("search", {"knowledge_base": "hrdocs", "query": "年假"})
            assert hidden.is_error and "no knowledge base 'hrdocs'" in hidden.content[0].text
            resources = (await mcp.list_resources()).resources
            assert resources == []  # ci may ask, not read documents

    anyio.run(run)


def test_the_audit_trail_has_the_writes_and_refusals_and_no_secret(team) -> None:
    server, access, keys = team
    _get(server, "/v1/models", "zk_abcdefgh_" + "B" * 43)
    events = access.audit.events()
    actions = {(e.action, e.outcome) for e in events}
    assert ("auth.failed", "denied") in actions
    assert ("write.denied", "denied") in actions or ("document.upload", "ok") in actions
    failed = [e for e in events if e.action == "auth.failed"]
    assert any("abcdefgh" in e.detail and e.client == "127.0.0.1" for e in failed)
    stored = b"".join(
        path.read_bytes() for path in Path(server.settings.storage.data_dir).glob("auth.sqlite*")
    )
    for key in keys.values():
        assert key.secret.encode() not in stored
        assert key.secret.split("_", 2)[2].encode() not in stored
    assert PASSWORD.encode() not in stored and K1.encode() not in stored
    assert b"B" * 43 not in stored


def test_chunk_retrieval_test_and_url_routes_check_grants(team) -> None:
    """The routes added with chunk fixes (issue 28) and web pages (issue 25): a knowledge
    base the key does not reach is the same 404 as a missing one, and a read key or a
    viewer cannot change a chunk or add a page."""
    server, _, keys = team
    ann, bob_read = keys["ann"], keys["bob_read"]
    chunks = "/v1/knowledge_bases/{}/chunks?source=handbook.txt"
    _same_404(_get(server, chunks.format("hrdocs"), ann),
              _get(server, chunks.format("nope"), ann), "hrdocs", "nope")  # fmt: skip
    changes = "/v1/knowledge_bases/{}/chunk_changes"
    _same_404(_get(server, changes.format("hrdocs"), ann),
              _get(server, changes.format("nope"), ann), "hrdocs", "nope")  # fmt: skip
    probe = {"query": "年假有几天？"}
    hidden = _post(server, "/v1/retrieval_test", ann, json={"knowledge_base": "hrdocs", **probe})
    missing = _post(server, "/v1/retrieval_test", ann, json={"knowledge_base": "nope", **probe})
    _same_404(hidden, missing, "hrdocs", "nope")
    assert "年假" not in hidden.text
    listed = _get(server, chunks.format("hrdocs"), bob_read)
    assert listed.status_code == 200, listed.text
    chunk = listed.json()["data"][0]
    edit = {"text": "改写", "expected_revision": chunk["revision"]}
    put = httpx.put(f"{server.url}/v1/knowledge_bases/hrdocs/chunks/{chunk['chunk_id']}",
                    headers=_as(bob_read), json=edit, timeout=60)  # fmt: skip
    assert put.status_code == 403, put.text
    disable = _post(server, f"/v1/knowledge_bases/hrdocs/chunks/{chunk['chunk_id']}/disable",
                    bob_read, json={"expected_revision": chunk["revision"]})  # fmt: skip
    assert disable.status_code == 403, disable.text
    urls = {"urls": ["https://example.com/"]}
    assert _post(server, "/v1/knowledge_bases/hrdocs/urls", bob_read, json=urls).status_code == 403
    assert _post(server, "/v1/knowledge_bases/samples/urls", keys["ann_write"],
                 json=urls).status_code == 403  # fmt: skip
    assert _post(server, "/v1/knowledge_bases/hrdocs/urls", ann, json=urls).status_code == 404


def test_only_an_admin_renames_or_deletes_a_knowledge_base_and_grants_follow(team) -> None:
    """Rename and delete are an admin's (a key needs write on every knowledge base); an
    editor's key is refused, a hidden one is 404; grants follow the new name and go with
    a delete; each is in the audit trail."""
    server, access, keys = team
    created = _post(server, "/v1/knowledge_bases", K1, json={"name": "临时库"})
    assert created.status_code == 201, created.text
    access.grant("user:ann", "临时库", "viewer")
    move = {"name": "临时库二"}
    patch = lambda name, key, body=move: httpx.patch(  # noqa: E731
        f"{server.url}/v1/knowledge_bases/{name}", headers=_as(key), json=body, timeout=120
    )
    assert patch("hrdocs", keys["bob"]).status_code == 403  # an editor's write key
    assert patch("临时库", keys["bob"]).status_code == 404  # not shared with bob
    assert patch("临时库", K1, {"name": "samples"}).status_code == 409  # taken
    renamed = patch("临时库", K1)
    assert renamed.status_code == 200 and renamed.json()["name"] == "临时库二", renamed.text
    grants = [(g.subject, g.knowledge_base) for g in access.list_grants()]
    assert ("user:ann", "临时库二") in grants and ("user:ann", "临时库") not in grants
    delete = lambda name, key: httpx.delete(  # noqa: E731
        f"{server.url}/v1/knowledge_bases/{name}", headers=_as(key), timeout=120
    )
    assert delete("临时库二", keys["ann_write"]).status_code == 404  # her key names samples only
    assert delete("临时库二", K1).status_code == 200
    names = {kb["name"] for kb in _get(server, "/v1/knowledge_bases", K1).json()["data"]}
    assert names == {"samples", "hrdocs"}
    assert all(g.knowledge_base != "临时库二" for g in access.list_grants())
    done = {(e.action, e.target, e.outcome) for e in access.audit.events()}
    assert {("kb.rename", "临时库", "ok"), ("kb.delete", "临时库二", "ok")} <= done
    assert ("kb.rename", "临时库", "failed") in done  # the refused one onto `samples`
