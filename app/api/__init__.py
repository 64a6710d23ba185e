"""`zhiku serve`: the OpenAI-compatible HTTP API over the knowledge bases."""
