"""`zhiku serve`: the OpenAI-compatible HTTP API (FastAPI on uvicorn), retrieval for
other platforms, and the MCP server at `/mcp`, all behind the same keys."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
) -> None:
    """Serve the knowledge bases over an OpenAI-compatible HTTP API."""
    import uvicorn

    from app.api.server import create_app
    from app.auth import keys_required
    from app.cli.errors import user_errors
    from app.loopback import is_loopback
    from app.mcp.http import mount_mcp
    from app.settings import SettingsError, get_settings

    with user_errors():
        settings = get_settings()
        if not keys_required(settings) and not is_loopback(host):
            raise SettingsError(
                f"refusing to listen on {host} without API keys: set ZHIKU_API_KEYS "
                '(e.g. ["sk-…"]) in the environment, or keep --host 127.0.0.1'
            )
        app = create_app(settings)
        mount_mcp(app, settings, app.state.retrieval)
    auth = (
        f"{len(settings.serving.api_keys)} API key(s)"
        if settings.serving.api_keys
        else "no API key (loopback)"
    ) + (f", accounts ({settings.access.auth})" if settings.access.auth != "none" else "")
    typer.echo(f"zhiku API on http://{host}:{port}/v1 — {auth}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
