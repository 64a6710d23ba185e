"""`python -m app.cli …` is the `zhiku` command, for when the console script is not on
PATH (it replaced `python -m ingest`, which made the ingest layer import the CLI)."""

from app.cli import main

main()
