"""`python -m ingest …` is the same command as `zhiku ingest …`."""

from ingest.cli import main

main()
