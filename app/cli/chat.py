"""`zhiku chat`: the Streamlit web chat, with the defaults a user would want."""

from __future__ import annotations

from pathlib import Path

import typer


def chat(ctx: typer.Context) -> None:
    """Open the web chat; extra flags go to Streamlit (e.g. --server.port 8600)."""
    import os
    import sys

    from app.cli.errors import user_errors
    from app.settings import get_settings

    with user_errors():
        settings = get_settings()
    page = Path(__file__).resolve().parent.parent / "ui" / "main.py"
    defaults = {
        # Print the URL instead of prompting for an e-mail and opening a browser.
        "--server.headless": "true",
        # Documents stay on this machine unless asked: --server.address 0.0.0.0 to share.
        "--server.address": "127.0.0.1",
        "--browser.gatherUsageStats": "false",
        "--client.toolbarMode": "minimal",  # no "Deploy" button
        # Streamlit's defaults, said here so a config.toml cannot quietly turn them off:
        # uploads need the page's XSRF cookie, other sites get no CORS headers.
        "--server.enableXsrfProtection": "true",
        "--server.enableCORS": "true",
        # Streamlit refuses larger uploads itself; zhiku skips larger files anyway.
        "--server.maxUploadSize": str(max(1, int(settings.knowledge.max_file_mb))),
    }
    given = {arg.split("=", 1)[0] for arg in ctx.args}
    extra = [
        item for flag, value in defaults.items() if flag not in given for item in (flag, value)
    ]
    extra += _loopback_hosts(ctx.args, given)
    if settings.access.auth == "oidc" and "--secrets.files" not in given:
        from app.ui.auth_secrets import write_auth_secrets

        extra += ["--secrets.files", str(write_auth_secrets(settings))]
    args = [sys.executable, "-m", "streamlit", "run", str(page), *extra, *ctx.args]
    os.execv(sys.executable, args)  # Streamlit owns the process (and Ctrl-C) from here


def _loopback_hosts(args: list[str], given: set[str]) -> list[str]:
    """On loopback, only loopback Host names may open the page's websocket: a page on
    another site whose name resolves to 127.0.0.1 (DNS rebinding) is same-origin for
    Streamlit's XSRF and Origin checks, and its allow-list is empty by default."""
    from app.loopback import is_loopback

    if "--server.allowedHosts" in given:
        return []
    address = "127.0.0.1"
    for i, arg in enumerate(args):
        if arg.startswith("--server.address="):
            address = arg.split("=", 1)[1]
        elif arg == "--server.address" and i + 1 < len(args):
            address = args[i + 1]
    if not is_loopback(address):
        return []  # shared on purpose: the operator names the hosts (server.allowedHosts)
    return [item for host in ("localhost", "127.0.0.1", "::1")
            for item in ("--server.allowedHosts", host)]  # fmt: skip
