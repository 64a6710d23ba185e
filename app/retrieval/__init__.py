"""Finding the chunks for a question: dense + Chinese BM25, fused by reciprocal rank."""
