"""Where chunks live: Chroma (embedded or a server), the BM25 index beside it, and the
reads about knowledge bases that the UI and CLI need."""
