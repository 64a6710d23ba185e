"""`zhiku eval`: retrieval and answer quality on a question set (shared/eval format)."""
