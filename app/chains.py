"""The RAG chain: rewrite a follow-up, retrieve, prompt by strategy, stream, cite.

`build_rag_chain()` returns an LCEL Runnable. Input: a question string, or
`{"question": ..., "history": [{"role": "user"|"assistant", "content": ...}, ...]}`.
`invoke` returns the result dict (answer, citations, contexts, strategy, reasoning,
timings, tokens); `stream` yields events: `{"event": "contexts", ...}`, then
`{"event": "token", "text": ..., "part": "answer"|"reasoning"}`, then
`{"event": "result", ...}` with the same dict `invoke` returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableConfig

from app import prompts
from app.citations import citations_for, infer_citations, split_reasoning
from app.llm import explain_error, local_client, make_chat_model
from app.retrieval import HybridRetriever, build_retriever
from app.settings import Settings, get_settings

# One llama.cpp context cannot serve two generations at once (batch() runs threads).
_generation_lock = threading.Lock()


def _normalise_input(value: Any) -> tuple[str, list[dict]]:
    if isinstance(value, str):
        return value, []
    return str(value["question"]), list(value.get("history") or [])


class RagChain(Runnable[Any, dict]):
    """Retrieval-augmented answering over one knowledge base."""

    def __init__(
        self,
        settings: Settings,
        retriever: HybridRetriever,
        strategy: str,
        backend: str,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.strategy = strategy
        self.backend = backend
        self.model = make_chat_model(settings, backend)

    # --- LCEL ---------------------------------------------------------------------
    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict:
        result: dict = {}
        for event in self.stream(input, config):
            if event["event"] == "result":
                result = event
        result.pop("event", None)
        return result

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[dict]:
        question, history = _normalise_input(input)
        started = time.perf_counter()
        lang = prompts.detect_language(question)

        standalone = self.standalone_question(question, history, lang)
        condensed = time.perf_counter()
        docs = self.retriever.invoke(standalone, config)
        retrieved = time.perf_counter()
        contexts = [_context_dict(n, d) for n, d in enumerate(docs, start=1)]
        yield {"event": "contexts", "question": standalone, "contexts": contexts}

        messages = prompts.answer_messages(
            self.strategy, question, _context_chunks(docs), lang, self._examples(lang, question)
        )
        text, first_token_at, tokens, pieces = "", None, {}, 0
        marker_seen = self.strategy != "cot"
        with _generation_lock:
            try:
                for chunk in self.model.stream(messages):
                    piece = chunk.content if isinstance(chunk.content, str) else ""
                    if chunk.usage_metadata:
                        tokens = dict(chunk.usage_metadata)
                    if not piece:
                        continue
                    first_token_at = first_token_at or time.perf_counter()
                    pieces += 1
                    text += piece
                    if not marker_seen and prompts.cot_marker(lang).rstrip("：:") in text:
                        marker_seen = True
                    yield {
                        "event": "token",
                        "text": piece,
                        "part": "answer" if marker_seen else "reasoning",
                    }
            except Exception as exc:
                if self.backend == "hosted":
                    raise explain_error(exc, self.settings) from None
                raise
            # Servers that send no usage while streaming: one streamed piece ≈ one token.
            tokens = (
                tokens
                or self._local_token_counts(text)
                or {"output_tokens": pieces, "approximate": True}
            )
        finished = time.perf_counter()

        reasoning, answer = "", text.strip()
        if self.strategy == "cot":
            reasoning, answer = split_reasoning(
                text, [prompts.cot_marker("zh"), prompts.cot_marker("en")]
            )
        refused = prompts.refusal(lang, self.strategy).rstrip("。.") in answer
        with_markers = answer if refused else infer_citations(answer, docs)
        inferred = with_markers != answer
        yield {
            "event": "result",
            "question": question,
            "standalone_question": standalone,
            "answer": with_markers,
            "refused": refused,
            "citations": [c.as_dict() for c in citations_for(with_markers, docs, inferred)],
            "contexts": contexts,
            "strategy": self.strategy,
            "reasoning": reasoning,
            "backend": self.backend,
            "timings": {
                "condense_s": round(condensed - started, 3),
                "retrieval_s": round(retrieved - condensed, 3),
                "first_token_s": round((first_token_at or finished) - started, 3),
                "generation_s": round(finished - retrieved, 3),
                "total_s": round(finished - started, 3),
            },
            "tokens": tokens,
        }

    # --- steps ----------------------------------------------------------------------
    def standalone_question(self, question: str, history: list[dict], lang: str) -> str:
        """A follow-up rewritten with the conversation, so retrieval sees what "它" means.

        A small model sometimes answers instead of rewriting; then the previous user
        question is prepended, which keeps the entity for BM25 and the embedding.
        """
        turns = history[-2 * self.settings.history_turns :] if self.settings.history_turns else []
        if not turns:
            return question
        with _generation_lock:
            try:
                reply = self.model.invoke(
                    prompts.condense_messages(question, turns, lang), max_tokens=64
                )
            except Exception as exc:
                if self.backend == "hosted":
                    raise explain_error(exc, self.settings) from None
                raise
        rewritten = str(reply.content).strip().splitlines()[0] if reply.content else ""
        rewritten = rewritten.strip(" \"'“”")
        previous = next((t["content"] for t in reversed(turns) if t["role"] == "user"), "")
        if not _adds_context(rewritten, question, previous):
            return f"{previous} {question}".strip()
        return rewritten

    def _examples(self, lang: str, question: str) -> list[dict]:
        if self.strategy != "few-shot" or not self.settings.few_shot_count:
            return []
        examples = prompts.few_shot_examples(lang)
        if self.settings.few_shot_select:
            from app.bm25_index import tokenize

            wanted = set(tokenize(question))
            examples = sorted(examples, key=lambda e: -len(wanted & set(tokenize(e["question"]))))
        return examples[: self.settings.few_shot_count]

    def _local_token_counts(self, text: str) -> dict:
        """llama.cpp streams no usage: the KV cache holds prompt + generated tokens."""
        client = local_client(self.model)
        if client is None:
            return {}
        output = len(client.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0
        total = int(client.n_tokens)
        return {
            "input_tokens": max(total - output, 0),
            "output_tokens": output,
            "total_tokens": total,
        }


def _adds_context(rewritten: str, question: str, previous: str) -> bool:
    """A usable rewrite is short and brings in words of the earlier question."""
    from app.bm25_index import tokenize

    if not rewritten or len(rewritten) > 3 * len(question) + len(previous):
        return False
    added = set(tokenize(rewritten)) - set(tokenize(question))
    return bool(added & set(tokenize(previous)))


def _context_chunks(docs: list[Document]) -> list[prompts.ContextChunk]:
    return [
        prompts.ContextChunk(
            n, str(d.metadata.get("source", "")), d.metadata.get("page"), d.page_content
        )
        for n, d in enumerate(docs, start=1)
    ]


def _context_dict(n: int, doc: Document) -> dict:
    scores = doc.metadata.get("scores", {})
    return {
        "n": n,
        "source": doc.metadata.get("source"),
        "page": doc.metadata.get("page"),
        "chunk_id": doc.id,
        "text": doc.page_content,
        "score": scores.get("rerank", scores.get("fused")),
        "scores": scores,
        "start": doc.metadata.get("start"),
        "end": doc.metadata.get("end"),
    }


def build_rag_chain(
    settings: Settings | None = None,
    *,
    collection: str | None = None,
    strategy: str | None = None,
    k: int | None = None,
    backend: str | None = None,
    retriever: HybridRetriever | None = None,
) -> RagChain:
    """The RAG chain over a knowledge base; arguments override the settings."""
    settings = settings or get_settings()
    retriever = retriever or build_retriever(settings, collection, k=k)
    return RagChain(
        settings,
        retriever,
        strategy=strategy or settings.strategy,
        backend=backend or settings.backend,
    )
