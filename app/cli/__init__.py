"""The `zhiku` console script: one entry point, one module per subcommand.

The CLI is a top layer: it may import anything below it, and nothing imports it (the
layer test in tests/unit/test_layers.py says so).
"""

from __future__ import annotations

import typer

from app.cli.ask import ask
from app.cli.chat import chat
from app.cli.chunks import chunks_app
from app.cli.eval import eval_app
from app.cli.faq import faq_app
from app.cli.ingest import ingest
from app.cli.kb import kb_app
from app.cli.mcp import mcp
from app.cli.model import model
from app.cli.serve import serve
from app.cli.team import audit_app, grants_app, keys_app, users_app

cli = typer.Typer(
    name="zhiku",
    help="知库 — offline, Chinese-first knowledge-base chat.",
    no_args_is_help=True,
    add_completion=False,
)
cli.command("ingest")(ingest)
cli.command("ask")(ask)
cli.command("model")(model)
cli.command("serve")(serve)
cli.command("mcp")(mcp)
cli.command("chat", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    chat
)
cli.add_typer(eval_app, name="eval")
cli.add_typer(users_app, name="users")
cli.add_typer(grants_app, name="grants")
cli.add_typer(keys_app, name="keys")
cli.add_typer(audit_app, name="audit")
cli.add_typer(kb_app, name="kb")
cli.add_typer(faq_app, name="faq")
cli.add_typer(chunks_app, name="chunks")


@cli.callback()
def _root() -> None:
    """知库 — offline, Chinese-first knowledge-base chat."""
    # A callback keeps subcommand parsing even while there is only one subcommand.


def main() -> None:
    cli()
