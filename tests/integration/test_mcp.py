"""zhiku's MCP server with the official SDK's own client: `zhiku mcp` over stdio and `/mcp`
on a real `zhiku serve` over streamable HTTP. Initialize, list the tools, call each one,
read a document resource; bad input as one-line tool errors; a wrong key refused; a
malformed JSON-RPC message answered with a protocol error while the server keeps serving.
Only `ask` loads the (fast 0.5B) chat model, once."""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from app.settings import load_settings
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import MODELS_DIR, SAMPLES, serving, settings_env

KEY = "sk-zhiku-mcp-key"
TOOLS = {"list_knowledge_bases", "search", "ask"}
ZHIKU = str(Path(sys.executable).with_name("zhiku"))


@pytest.fixture(scope="module")
def mcp_settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    folder = tmp_path_factory.mktemp("mcp-docs")
    shutil.copytree(SAMPLES, folder / "samples")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("mcp-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="samples",
        top_k=3,
        max_tokens=64,
        api_keys=[KEY],
    )
    assert ingest_paths(open_knowledge_base(settings, "samples"), [folder]).ok
    return settings


@pytest.fixture(scope="module")
def server(mcp_settings) -> Iterator[str]:
    with serving(mcp_settings) as served:
        yield served.url
    assert KEY not in served.log.read_text()


def stdio(settings) -> Client:
    params = StdioServerParameters(command=ZHIKU, args=["mcp"], env=settings_env(settings))
    return Client(params, mode="legacy", read_timeout_seconds=300)


def http(url: str, key: str | None = KEY, mode: str = "legacy") -> Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    client = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(300))
    transport = streamable_http_client(f"{url}/mcp", http_client=client)
    return Client(transport, mode=mode, read_timeout_seconds=300)


def read_line(proc: subprocess.Popen, timeout: float) -> str:
    """The server's next line on stdout, or a failure after `timeout` (never a hang)."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the server did not answer"
    return proc.stdout.readline()


def data(result) -> object:
    """A tool's structured result (a list comes wrapped as {"result": [...]})."""
    assert not result.is_error, result.content
    content = result.structured_content
    return content.get("result", content) if isinstance(content, dict) else content


def error_line(result) -> str:
    assert result.is_error
    text = result.content[0].text
    assert "\n" not in text and "Traceback" not in text
    return text


async def check_tools_and_search(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():  # described in Chinese and in English
        assert any("\u4e00" <= ch <= "\u9fff" for ch in tool.description)
        assert " / " in tool.description and "the" in tool.description.lower()
    bases = data(await client.call_tool("list_knowledge_bases", {}))
    assert [b["name"] for b in bases] == ["samples"] and bases[0]["chunks"] > 0
    chunks = data(await client.call_tool(
        "search", {"knowledge_base": "samples", "query": "GPT-1有多少层？", "k": 4}
    ))  # fmt: skip
    assert len(chunks) == 4
    assert set(chunks[0]) == {"source", "page", "chunk_id", "score", "relevance", "text"}
    assert {c["relevance"] for c in chunks} <= {"strong", "partial", "weak"}
    assert any("12" in c["text"] for c in chunks) and 0 <= chunks[0]["score"] <= 1


async def check_bad_input(client: Client) -> None:
    cases = [
        ({"knowledge_base": "nope", "query": "GPT"}, "no knowledge base 'nope'"),
        ({"knowledge_base": "samples", "query": "   "}, "query is empty"),
        ({"knowledge_base": "samples", "query": "GPT", "k": 0}, "k must be between 1 and 50"),
        ({"knowledge_base": "samples", "query": "问" * 5000}, "the limit is 4000"),
    ]
    for arguments, fragment in cases:
        assert fragment in error_line(await client.call_tool("search", arguments))
    unknown = await client.call_tool("ask", {"knowledge_base": "nope", "question": "GPT?"})
    assert "no knowledge base 'nope'" in error_line(unknown)


def test_stdio_tools_resources_and_errors(mcp_settings) -> None:
    async def run() -> None:
        async with stdio(mcp_settings) as client:
            assert client.server_info.name == "zhiku"  # the initialize handshake answered
            await check_tools_and_search(client)
            await check_bad_input(client)
            documents = [r.uri for r in (await client.list_resources()).resources]
            uri = "zhiku://samples/samples/大语言模型简史.txt"
            assert any(
                str(u)
                in (
                    uri,
                    uri.replace(
                        "大语言模型简史",
                        "%E5%A4%A7%E8%AF%AD%E8%A8%80%E6%A8%A1%E5%9E%8B%E7%AE%80%E5%8F%B2",
                    ),
                )
                for u in documents
            ), documents
            text = (await client.read_resource(str(documents[0]))).contents[0].text
            assert len(text) > 100

    anyio.run(run)


def test_stdio_survives_a_malformed_message(mcp_settings) -> None:
    """Raw JSON-RPC on the pipes: garbage gets a parse error, the requests after it answers."""
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}}  # fmt: skip
    lines = [
        "{this is not json",
        json.dumps(init),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    ]
    proc = subprocess.Popen(
        [ZHIKU, "mcp"], env=settings_env(mcp_settings), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        proc.stdin.write("\n".join(lines) + "\n")
        proc.stdin.flush()
        replies = [json.loads(read_line(proc, timeout=120)) for _ in range(3)]
    finally:
        proc.stdin.close()  # end of input: the server exits
        proc.wait(timeout=30)
    assert replies[0] == {"jsonrpc": "2.0", "id": None, "error": {
        "code": -32700, "message": "Parse error: the line is not a JSON-RPC message"}}  # fmt: skip
    assert replies[1]["id"] == 1 and replies[1]["result"]["serverInfo"]["name"] == "zhiku"
    assert {t["name"] for t in replies[2]["result"]["tools"]} == TOOLS
    assert "Traceback" not in proc.stderr.read()


def test_http_tools_and_errors(server: str) -> None:
    async def run() -> None:
        async with http(server) as client:
            await check_tools_and_search(client)
            await check_bad_input(client)
            documents = [str(r.uri) for r in (await client.list_resources()).resources]
            assert any(u.startswith("zhiku://samples/") for u in documents), documents
            text = (await client.read_resource(documents[0])).contents[0].text
            assert len(text) > 100  # the documents as resources over HTTP too
        async with http(server, mode="auto") as client:  # the 2026 protocol, no handshake
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS

    anyio.run(run)


def test_http_client_gone_mid_call_then_keeps_serving(server: str) -> None:
    """A client that leaves during `ask` (cancelled after a second, its session closed):
    the server serves the next client, and its log has no traceback (checked when the
    module's server stops)."""

    async def leave() -> None:
        async with http(server) as client:
            with anyio.move_on_after(1):
                await client.call_tool(
                    "ask", {"knowledge_base": "samples", "question": "RAG是什么？"}
                )

    async def next_client() -> object:
        async with http(server) as client:
            arguments = {"knowledge_base": "samples", "query": "GPT-1", "k": 2}
            return data(await client.call_tool("search", arguments))

    anyio.run(leave)
    assert len(anyio.run(next_client)) == 2  # type: ignore[arg-type]


@pytest.mark.parametrize("key", [None, "sk-wrong"])
def test_http_refuses_a_wrong_or_missing_key(server: str, key: str | None) -> None:
    async def run() -> None:
        async with http(server, key) as client:
            await client.list_tools()

    with pytest.raises(ExceptionGroup):  # the SDK client fails to connect (an MCPError)
        anyio.run(run)
    raw = httpx.post(f"{server}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                     headers={"Authorization": f"Bearer {key}"} if key else {})  # fmt: skip
    assert raw.status_code == 401 and KEY not in raw.text


def test_http_malformed_json_rpc_then_keeps_serving(server: str) -> None:
    headers = {
        "Authorization": f"Bearer {KEY}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
    }
    bad = httpx.post(f"{server}/mcp", content=b"{this is not json", headers=headers, timeout=60)
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["code"] == -32700
    wrong_shape = httpx.post(f"{server}/mcp", json={"hello": "world"}, headers=headers)
    assert wrong_shape.status_code == 400 and "error" in wrong_shape.json()

    async def run() -> None:
        async with http(server) as client:
            assert "samples" in json.dumps(data(await client.call_tool("list_knowledge_bases")))

    anyio.run(run)


@pytest.mark.slow
def test_http_ask_answers_with_citations(server: str) -> None:
    """The one call that loads the chat model (the fast 0.5B, tests/conftest.py)."""

    async def run() -> dict:
        async with http(server) as client:
            result = await client.call_tool(
                "ask", {"knowledge_base": "samples", "question": "GPT-1有多少层？"}
            )
            return data(result)

    answer = anyio.run(run)
    assert set(answer) >= {"answer", "citations", "abstention"}
    assert isinstance(answer["abstention"]["abstained"], bool)
    if not answer["abstention"]["abstained"]:
        assert "12" in answer["answer"] and answer["citations"]
        assert answer["citations"][0]["source"].endswith(".txt")
