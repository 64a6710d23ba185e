"""`zhiku mcp` on stdin/stdout, answering a line that is not a JSON-RPC message with
JSON-RPC's parse error (-32700, id null) and going on serving.

The SDK's stdio transport drops such a line silently (it only logs it), so a client that
sent a malformed request would wait for an answer forever. Everything else is the SDK's
own loop: the filter sits between its stdin reader and the server.
"""

from __future__ import annotations

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import ErrorData, JSONRPCError
from mcp_types.jsonrpc import PARSE_ERROR


def parse_error() -> SessionMessage:
    error = ErrorData(code=PARSE_ERROR, message="Parse error: the line is not a JSON-RPC message")
    return SessionMessage(JSONRPCError(jsonrpc="2.0", id=None, error=error))


async def serve_stdio(server: MCPServer) -> None:
    """Serve one client on stdio until it closes stdin."""
    lowlevel = server._lowlevel_server  # MCPServer.run_stdio_async does the same
    async with stdio_server() as (incoming, outgoing):
        send, receive = anyio.create_memory_object_stream[SessionMessage | Exception](0)

        async def filter_parse_errors() -> None:
            async with send:
                async for item in incoming:
                    if isinstance(item, Exception):
                        await outgoing.send(parse_error())
                    else:
                        await send.send(item)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(filter_parse_errors)
            await lowlevel.run(receive, outgoing, lowlevel.create_initialization_options())
            tasks.cancel_scope.cancel()
