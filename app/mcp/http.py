"""The MCP server on `zhiku serve`: the streamable-HTTP transport at `/mcp`, inside the
API's application so the API's key check (`ZHIKU_API_KEYS`, keyless = loopback only)
guards it too.

Mounted by the CLI, not by `app.api`: the API and the MCP server are siblings in the
layer contract and neither imports the other. Without keys the server only listens on
loopback, and the SDK's DNS-rebinding guard refuses requests whose Host or Origin is not
loopback (a web page cannot reach it through a rebound name); with keys, the key decides.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from app.mcp.server import build_server
from app.retrieval.service import RetrievalService
from app.settings import Settings

PATH = "/mcp"
LOOPBACK = TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
    allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
)


def mount_mcp(app: Starlette, settings: Settings, service: RetrievalService | None = None) -> None:
    """Add `/mcp` to `app`, its session manager running for the app's lifetime."""
    server = build_server(settings, service)
    guard = LOOPBACK if not settings.serving.api_keys else TransportSecuritySettings(
        enable_dns_rebinding_protection=False
    )  # fmt: skip
    transport = server.streamable_http_app(streamable_http_path=PATH, transport_security=guard)
    app.router.routes.extend(transport.routes)
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application):
        async with outer(application) as state, server.session_manager.run():
            yield state

    app.router.lifespan_context = lifespan
