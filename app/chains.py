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

from app import abstention, prompts
from app.citations import citations_for, infer_citations, split_reasoning
from app.llm import explain_error, local_client, make_chat_model
from app.retrieval import HybridRetriever, build_retriever
from app.settings import Settings, get_settings
from app.verification import verify

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
        self.abstention = abstention.AbstentionConfig.from_settings(settings)

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
        evidence = abstention.evidence_scores(standalone, docs)
        base = {
            "question": question,
            "standalone_question": standalone,
            "contexts": contexts,
            "strategy": self.strategy,
            "backend": self.backend,
        }
        if self.abstention.enabled and (
            not docs or abstention.evidence_says_abstain(evidence, self.abstention)
        ):
            # Nothing relevant was found: the model is not asked at all.
            now = time.perf_counter()
            decision = abstention.Decision("evidence", {"evidence": evidence})
            timings = _timings(started, condensed, retrieved, now, now)
            yield self._abstained(base, decision, "", lang, timings)
            return

        messages = prompts.answer_messages(
            self.strategy, question, _context_chunks(docs), lang, self._examples(lang, question)
        )
        text, first_token_at, tokens, pieces = "", None, {}, 0
        marker_seen = self.strategy != "cot"
        with _generation_lock:
            for kind, value in self._generate(messages):
                if kind == "usage":
                    tokens = value
                    continue
                first_token_at = first_token_at or time.perf_counter()
                text += value
                pieces += 1
                if not marker_seen and prompts.cot_marker(lang).rstrip("：:") in text:
                    marker_seen = True
                yield {
                    "event": "token",
                    "text": value,
                    "part": "answer" if marker_seen else "reasoning",
                }
        finished = time.perf_counter()

        reasoning, answer = "", text.strip()
        if self.strategy == "cot":
            reasoning, answer = split_reasoning(
                text, [prompts.cot_marker("zh"), prompts.cot_marker("en")]
            )
        refused = prompts.refusal(lang, self.strategy).rstrip("。.") in answer
        checked = verify(
            standalone,
            answer,
            [d.page_content for d in docs],
            lang,
            [str(d.metadata.get("source", "")) for d in docs],
        )
        support = checked.scores
        decision = abstention.Decision(None, {"evidence": evidence, "support": support})
        if refused:
            decision.signal = "model"  # the model said so itself
        elif self.abstention.enabled and abstention.reasoning_finds_nothing(reasoning):
            decision.signal = "reasoning"
        elif self.abstention.enabled and abstention.support_says_abstain(support, self.abstention):
            decision.signal = "support"
        timings = _timings(started, condensed, retrieved, first_token_at or finished, finished)
        if decision.signal in ("reasoning", "support"):
            result = self._abstained(base, decision, answer, lang, timings)
            result.update(reasoning=reasoning, tokens=self._tokens(tokens, text, pieces))
            yield result
            return
        draft = ""
        if self.abstention.enabled and self.abstention.check_facts and checked.trimmed:
            # Only the verified opening sentences are kept; the whole draft stays on request.
            draft, answer = answer, checked.kept
        with_markers = answer if refused else infer_citations(answer, docs)
        inferred = with_markers != answer
        yield {
            "event": "result",
            **base,
            "answer": with_markers,
            "refused": refused,
            "abstention": decision.as_dict(),
            "draft": draft,
            "citations": [c.as_dict() for c in citations_for(with_markers, docs, inferred)],
            "reasoning": reasoning,
            "timings": timings,
            "tokens": self._tokens(tokens, text, pieces),
        }

    def _generate(self, messages) -> Iterator[tuple[str, Any]]:
        """("text", piece) for each streamed piece, then ("usage", counts) if reported."""
        try:
            for chunk in self.model.stream(messages):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if chunk.usage_metadata:
                    yield "usage", dict(chunk.usage_metadata)
                if piece:
                    yield "text", piece
        except Exception as exc:
            if self.backend == "hosted":
                raise explain_error(exc, self.settings) from None
            raise

    def _tokens(self, reported: dict, text: str, pieces: int) -> dict:
        # Servers that send no usage while streaming: one streamed piece ≈ one token.
        return (
            reported
            or self._local_token_counts(text)
            or {"output_tokens": pieces, "approximate": True}
        )

    def _abstained(self, base: dict, decision, draft: str, lang: str, timings: dict) -> dict:
        """The result when the answer is withheld: the refusal, the closest passages, the draft."""
        return {
            "event": "result",
            **base,
            "answer": prompts.refusal(lang, self.strategy),
            "refused": True,
            "abstention": decision.as_dict(),
            "draft": draft,
            "citations": [],
            "reasoning": "",
            "timings": timings,
            "tokens": {},
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


def _timings(started, condensed, retrieved, first_token, finished) -> dict:
    return {
        "condense_s": round(condensed - started, 3),
        "retrieval_s": round(retrieved - condensed, 3),
        "first_token_s": round(first_token - started, 3),
        "generation_s": round(finished - retrieved, 3),
        "total_s": round(finished - started, 3),
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
