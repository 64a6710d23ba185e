"""The MCP server on `zhiku serve`: the streamable-HTTP transport at `/mcp`, inside the
API's application so the API's key check (`ZHIKU_API_KEYS`, scoped keys with
`ZHIKU_AUTH=local`, keyless = loopback only) guards it too; a scoped key's tools see
only its knowledge bases (`build_server`'s `callers`).

Mounted by the CLI, not by `app.api`: the API and the MCP server are siblings in the
layer contract and neither imports the other. Without keys the server only listens on
loopback, and the SDK's DNS-rebinding guard refuses requests whose Host or Origin is not
loopback (a web page cannot reach it through a rebound name); with keys, the key decides.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth import Callers, keys_required
from app.errors import client_gone
from app.mcp.server import build_server
from app.retrieval.service import RetrievalService
from app.settings import Settings

log = logging.getLogger("zhiku.mcp")
PATH = "/mcp"
LOOPBACK = TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
    allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
)


class _ClientGoneInOneLine(logging.Filter):
    """The SDK logs a whole traceback when a client leaves mid-call; one line says it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and client_gone(record.exc_info[1]):
            record.msg, record.args = "MCP client gone mid-call", ()
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class _QuietWhenClientGone:
    """The SDK re-raises when a client left mid-call (it tries to report the error on
    the closed stream); the server would log that as a traceback. One line instead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if not client_gone(exc):
                raise
            log.info("MCP client gone mid-call")


def mount_mcp(app: Starlette, settings: Settings, service: RetrievalService | None = None) -> None:
    """Add `/mcp` to `app`, its session manager running for the app's lifetime."""
    server = build_server(settings, service, Callers(settings))
    logging.getLogger("mcp.server.streamable_http").addFilter(_ClientGoneInOneLine())
    guard = LOOPBACK if not keys_required(settings) else TransportSecuritySettings(
        enable_dns_rebinding_protection=False
    )  # fmt: skip
    transport = server.streamable_http_app(streamable_http_path=PATH, transport_security=guard)
    for route in transport.routes:
        route.app = _QuietWhenClientGone(route.app)  # type: ignore[attr-defined]
    app.router.routes.extend(transport.routes)
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application):
        async with outer(application) as state, server.session_manager.run():
            yield state

    app.router.lifespan_context = lifespan
