"""Answering from retrieved chunks: the chain, prompts, generation, citations, and the
checks that decide whether an answer is shown (abstention, verification)."""
