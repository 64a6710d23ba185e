"""The models zhiku runs: embeddings, the local GGUF chat model or a hosted one, the reranker."""
