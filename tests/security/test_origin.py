"""Issue 22, item 3: without keys, a web page the user visits must not reach the API.

A page on evil.example can post a multipart form to 127.0.0.1 (no CORS preflight) and,
through DNS rebinding, read answers under its own host name. Before the fix the upload
was 202 and indexed, the re-index ran, and `Host: rebind.evil.example` read the list."""

from __future__ import annotations

import httpx

from tests.security.conftest import K1, Server

EVIL = {"Origin": "http://evil.example"}


def _forbidden(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "forbidden_origin"


def test_a_foreign_origin_cannot_upload_or_reindex(keyless: Server) -> None:
    files = [("files", ("planted.txt", "攻击者植入的内容。".encode()))]
    upload = httpx.post(
        f"{keyless.url}/v1/knowledge_bases/samples/documents", headers=EVIL, files=files
    )
    _forbidden(upload)
    assert not (keyless.settings.storage.uploads_dir / "samples" / "planted.txt").exists()
    _forbidden(httpx.post(f"{keyless.url}/v1/knowledge_bases/samples/reindex", headers=EVIL))
    _forbidden(httpx.post(f"{keyless.url}/v1/knowledge_bases", headers=EVIL, json={"name": "x1x"}))
    null = httpx.get(f"{keyless.url}/v1/models", headers={"Origin": "null"})  # sandboxed page
    _forbidden(null)


def test_a_rebinding_host_name_reads_nothing(keyless: Server) -> None:
    for path in ("/v1/knowledge_bases", "/v1/models", "/healthz"):
        _forbidden(httpx.get(keyless.url + path, headers={"Host": "rebind.evil.example"}))
    port = keyless.url.rsplit(":", 1)[1]
    rebind = {"Host": f"rebind.evil.example:{port}"}
    _forbidden(httpx.get(f"{keyless.url}/v1/knowledge_bases", headers=rebind))


def test_loopback_clients_and_pages_still_work(keyless: Server) -> None:
    port = keyless.url.rsplit(":", 1)[1]
    for host in ("127.0.0.1", f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        listed = httpx.get(f"{keyless.url}/v1/knowledge_bases", headers={"Host": host})
        assert listed.status_code == 200, (host, listed.text)
    for origin in ("http://localhost:3000", "http://127.0.0.1:8080", "https://[::1]"):
        response = httpx.get(f"{keyless.url}/v1/models", headers={"Origin": origin})
        assert response.status_code == 200, (origin, response.text)


def test_with_keys_any_host_name_may_serve_but_the_key_is_needed(two_keys: Server) -> None:
    """A deployment behind a real name: the key, not the Host, is the protection."""
    named = {"Host": "zhiku.example.com", **EVIL}
    assert httpx.get(f"{two_keys.url}/v1/models", headers=named).status_code == 401
    authorised = {**named, "Authorization": f"Bearer {K1}"}
    assert httpx.get(f"{two_keys.url}/v1/models", headers=authorised).status_code == 200
