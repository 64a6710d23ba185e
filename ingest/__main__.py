"""`python -m ingest …` is the same command as `zhiku ingest …`."""

from app.cli.ingest import main

main()
