"""The `zhiku` console script: one entry point, one subcommand per job."""

from __future__ import annotations

import typer

from ingest.cli import ingest

cli = typer.Typer(
    name="zhiku",
    help="知库 — offline, Chinese-first knowledge-base chat.",
    no_args_is_help=True,
    add_completion=False,
)
cli.command("ingest")(ingest)


@cli.callback()
def _root() -> None:
    """知库 — offline, Chinese-first knowledge-base chat."""
    # A callback keeps subcommand parsing even while there is only one subcommand.


def main() -> None:
    cli()
