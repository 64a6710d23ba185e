"""The `zhiku` console script: one entry point, one subcommand per job."""

from __future__ import annotations

import typer

from app.cli_ask import ask
from app.cli_eval import eval_app
from ingest.cli import ingest

cli = typer.Typer(
    name="zhiku",
    help="知库 — offline, Chinese-first knowledge-base chat.",
    no_args_is_help=True,
    add_completion=False,
)
cli.command("ingest")(ingest)
cli.command("ask")(ask)
cli.add_typer(eval_app, name="eval")


@cli.callback()
def _root() -> None:
    """知库 — offline, Chinese-first knowledge-base chat."""
    # A callback keeps subcommand parsing even while there is only one subcommand.


@cli.command("model")
def model() -> None:
    """Prepare the configured local chat model (assemble and verify) and describe it."""
    from rich.console import Console

    from app.cli_errors import user_errors
    from app.gguf_models import gguf_metadata, resolve_model_path
    from app.settings import get_settings

    console = Console()
    with user_errors():
        path = resolve_model_path(get_settings())
        name = gguf_metadata(path).get("general.name", "?")
        console.print(f"{name}: {path} ({path.stat().st_size / 1e6:.0f} MB)", highlight=False)


@cli.command("chat", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def chat(ctx: typer.Context) -> None:
    """Open the web chat; extra flags go to Streamlit (e.g. --server.port 8600)."""
    import os
    import sys
    from pathlib import Path

    from app.cli_errors import user_errors
    from app.settings import get_settings

    with user_errors():
        settings = get_settings()
    page = Path(__file__).resolve().parent / "ui" / "main.py"
    defaults = {
        # Print the URL instead of prompting for an e-mail and opening a browser.
        "--server.headless": "true",
        # Documents stay on this machine unless asked: --server.address 0.0.0.0 to share.
        "--server.address": "127.0.0.1",
        "--browser.gatherUsageStats": "false",
        "--client.toolbarMode": "minimal",  # no "Deploy" button
        # Streamlit refuses larger uploads itself; zhiku skips larger files anyway.
        "--server.maxUploadSize": str(max(1, int(settings.max_file_mb))),
    }
    given = {arg.split("=", 1)[0] for arg in ctx.args}
    extra = [
        item for flag, value in defaults.items() if flag not in given for item in (flag, value)
    ]
    args = [sys.executable, "-m", "streamlit", "run", str(page), *extra, *ctx.args]
    os.execv(sys.executable, args)  # Streamlit owns the process (and Ctrl-C) from here


def main() -> None:
    cli()
