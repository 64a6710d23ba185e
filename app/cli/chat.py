"""`zhiku chat`: the Streamlit web chat, with the defaults a user would want."""

from __future__ import annotations

import typer


def chat(ctx: typer.Context) -> None:
    """Open the web chat; extra flags go to Streamlit (e.g. --server.port 8600)."""
    import os
    import sys
    from pathlib import Path

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
        # uploads need the page's XSRF cookie, other sites get no CORS headers. A
        # rebinding host name is refused by the page itself (app/ui/main.py).
        "--server.enableXsrfProtection": "true",
        "--server.enableCORS": "true",
        # Streamlit refuses larger uploads itself; zhiku skips larger files anyway.
        "--server.maxUploadSize": str(max(1, int(settings.max_file_mb))),
    }
    given = {arg.split("=", 1)[0] for arg in ctx.args}
    extra = [
        item for flag, value in defaults.items() if flag not in given for item in (flag, value)
    ]
    args = [sys.executable, "-m", "streamlit", "run", str(page), *extra, *ctx.args]
    os.execv(sys.executable, args)  # Streamlit owns the process (and Ctrl-C) from here
