"""`zhiku mcp`: the MCP server over stdio, for an assistant on this machine (Claude
Desktop, Cursor, Cherry Studio…) that starts zhiku itself. For a team, `zhiku serve`
serves the same tools at `/mcp` behind the API keys."""

from __future__ import annotations

import logging
import sys


def mcp() -> None:
    """Serve the knowledge bases over the Model Context Protocol on stdin/stdout."""
    import anyio

    from app.cli.errors import user_errors
    from app.mcp.server import build_server
    from app.mcp.stdio import serve_stdio
    from app.settings import get_settings

    # stdout carries the protocol: every log line goes to stderr
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    with user_errors():
        server = build_server(get_settings())
    anyio.run(serve_stdio, server)
