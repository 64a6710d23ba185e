"""The RAG chain: rewrite a follow-up, retrieve, gate, prompt, generate, verify, decide, cite.

`build_rag_chain()` returns an LCEL Runnable. Input: a question string, or
`{"question": ..., "history": [{"role": "user"|"assistant", "content": ...}, ...]}`.
`invoke` returns an `AnswerResult`; `stream` yields a `ContextsEvent`, then `TokenEvent`s,
then a `ResultEvent` holding the same result (`app.schema`).

`RagChain.stream` reads as the list of steps; each step is a method or function a reader
takes in at once, and whether to answer is one pure function, `abstention.decide`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import (
    ensure_config,
    get_callback_manager_for_config,
    patch_config,
    run_in_executor,
)

from app.answering import abstention, extractive, grounded, prompts
from app.answering.citations import citations_for, infer_citations, split_reasoning
from app.answering.curated import CuratedAnswers, curated_events, faq_document
from app.answering.distant_chunks import drop_distant_chunks
from app.answering.generation import Draft, PartTracker, loop_start
from app.answering.trimming import trimmed_chunks
from app.answering.verification import Verification, names_subject, verify
from app.models.backend import ChatBackend
from app.models.chat import chat_backend
from app.models.embeddings import make_embeddings
from app.retrieval.hybrid import build_retriever
from app.schema import (
    AnswerResult,
    Clock,
    ContextInfo,
    ContextsEvent,
    QuoteInfo,
    QuotesEvent,
    ResultEvent,
    StreamEvent,
    TokenEvent,
    context_info,
)
from app.settings import Settings, get_settings
from app.text import detect_language, is_refusal, tokenize


def _normalise_input(value: Any) -> tuple[str, list[dict]]:
    if isinstance(value, str):
        return value, []
    return str(value["question"]), list(value.get("history") or [])


class RagChain(Runnable[Any, AnswerResult]):
    """Retrieval-augmented answering over one knowledge base."""

    def __init__(
        self,
        settings: Settings,
        retriever: BaseRetriever,
        strategy: str,
        backend: str | ChatBackend,
        curated: CuratedAnswers | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.curated = curated  # the knowledge base's FAQ, asked before anything else
        self.strategy = strategy
        self.chat = chat_backend(settings, backend) if isinstance(backend, str) else backend
        self.backend = self.chat.name
        self.model = self.chat.model  # load it now: a missing model fails here, not mid-answer

    @property
    def model(self) -> BaseChatModel:
        """The chat backend's LangChain model (tests and benchmarks swap in another)."""
        return self.chat.model

    @model.setter
    def model(self, value: BaseChatModel) -> None:
        self.chat.model = value  # type: ignore[misc]

    @property
    def model_name(self) -> str:
        """The chat model answering, as saved with each answer of a conversation."""
        return self.chat.display_name

    # --- LCEL ---------------------------------------------------------------------
    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AnswerResult:
        # one run the config's callbacks see (start, result or error), as `batch` and
        # `abatch` report each input to them; the retrieval is its child run
        return self._call_with_config(self._answer, input, config, run_type="chain")

    def _answer(self, input: Any, run_manager: Any, config: RunnableConfig) -> AnswerResult:
        child = patch_config(config, callbacks=run_manager.get_child())
        for event in self._events(input, child):
            if event["event"] == "result":
                result = dict(event)
                result.pop("event")
                return result  # type: ignore[return-value]
        raise RuntimeError("the chain ended without a result")  # pragma: no cover

    async def astream(  # type: ignore[override]  # events, not the result type
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[StreamEvent]:
        """The events of `stream`, each made in a worker thread so the event loop serves
        others while the model writes (LangChain's default yields the result once, at the
        end). Leaving early closes the stream, which stops the generation."""
        events = self.stream(input, config)
        end = object()
        try:
            while (event := await run_in_executor(config, next, events, end)) is not end:
                yield event  # type: ignore[misc]
        finally:
            with contextlib.suppress(ValueError):  # still running in its thread: it ends there
                events.close()  # type: ignore[attr-defined]  # a generator

    def stream(  # type: ignore[override]  # events, not the result type
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[StreamEvent]:
        """The answer's events as they happen; one run the config's callbacks see (start,
        the result or the error), as for `invoke`, with the retrieval its child run."""
        config = ensure_config(config)
        run = get_callback_manager_for_config(config).on_chain_start(
            None, input, name=config.get("run_name") or self.get_name(),
            run_id=config.pop("run_id", None), run_type="chain",
        )  # fmt: skip
        result: StreamEvent | None = None
        try:
            for event in self._events(input, patch_config(config, callbacks=run.get_child())):
                if event["event"] == "result":
                    result = event
                yield event
        except BaseException as exc:  # GeneratorExit too: a reader that left early
            run.on_chain_error(exc)
            raise
        run.on_chain_end(result)

    def _events(self, input: Any, config: RunnableConfig) -> Iterator[StreamEvent]:
        question, history = _normalise_input(input)
        clock, lang = Clock(), detect_language(question)
        faq = self.curated.match(question) if self.curated else None
        if faq is not None and faq.verdict == "answer":  # written by a person: shown as is
            token, result = curated_events(question, faq, clock, self.strategy, self.backend)
            yield ContextsEvent(event="contexts", question=question, contexts=result["contexts"])
            yield token
            yield result
            return

        standalone = self.standalone_question(question, history, lang)
        clock.condensed = clock.now()
        docs = drop_distant_chunks(
            self.retriever.invoke(standalone, config), self.settings.retrieval
        )
        if faq is not None and faq.verdict == "context":  # close: one more chunk to read
            docs = [faq_document(faq), *docs]
        clock.retrieved = clock.now()
        contexts = [context_info(n, d) for n, d in enumerate(docs, start=1)]
        yield ContextsEvent(event="contexts", question=standalone, contexts=contexts)

        evidence = abstention.evidence_scores(standalone, docs)
        gate = abstention.decide(self.settings.abstention, evidence, has_context=bool(docs))
        base = (question, standalone, contexts, lang)
        if gate.withholds:  # nothing relevant was found: the model is not asked at all
            clock.first_token = clock.finished = clock.now()
            yield self._result(base, clock, gate, shown="", draft="", docs=docs)
            return

        if self.strategy == grounded.STRATEGY:
            yield from self.ground(base, clock, evidence, docs)
            return
        draft = Draft()
        if self.strategy == "extractive":
            yield from self.extract(question, docs, lang, draft)
        else:
            messages = self.messages(question, docs, lang, focus=standalone)
            yield from self.generate(messages, draft, lang)
        clock.first_token = draft.first_token_at or clock.now()
        clock.finished = clock.now()

        reasoning, answer = self.split_reasoning(draft.text)
        refused = is_refusal(answer, [prompts.refusal(lang, self.strategy)], phrases=False)
        checked = self.verify(standalone, answer, docs, lang)
        decision = abstention.decide(
            self.settings.abstention,
            evidence,
            has_context=True,
            support=checked.scores,
            refused=refused,
            reasoning=reasoning,
        )
        shown, kept_from = self.shown_answer(answer, checked, decision)
        yield self._result(
            base, clock, decision, shown=shown, draft=kept_from, docs=docs,
            reasoning=reasoning, tokens=self.token_counts(draft),
        )  # fmt: skip

    # --- steps ----------------------------------------------------------------------
    def standalone_question(self, question: str, history: list[dict], lang: prompts.Lang) -> str:
        """A follow-up rewritten with the conversation, so retrieval sees what "它" means.

        A small model sometimes answers instead of rewriting; then the previous user
        question is prepended, which keeps the entity for BM25 and the embedding.
        """
        turns = (
            history[-2 * self.settings.answering.history_turns :]
            if self.settings.answering.history_turns
            else []
        )
        if not turns:
            return question
        messages = prompts.condense_messages(question, turns, lang)
        reply = self.chat.invoke(messages, max_tokens=64)
        rewritten = str(reply.content).strip().splitlines()[0] if reply.content else ""
        rewritten = rewritten.strip(" \"'“”")
        previous = next((t["content"] for t in reversed(turns) if t["role"] == "user"), "")
        if not _adds_context(rewritten, question, previous):
            return f"{previous} {question}".strip()
        return rewritten

    def messages(
        self, question: str, docs: list[Document], lang: prompts.Lang, focus: str = ""
    ) -> list[tuple[str, str]]:
        """The prompt of the chain's strategy, with the numbered chunks (trimmed to the
        sentences closest to `focus`, the standalone question, when so configured)."""
        limit = self.settings.answering.context_sentences
        context = trimmed_chunks(focus or question, docs, limit) if limit else context_chunks(docs)
        examples = self._examples(lang, question)
        return prompts.answer_messages(
            self.strategy, question, context, lang, examples, self.settings.answering.answer_first
        )

    def generate(self, messages, draft: Draft, lang: prompts.Lang) -> Iterator[TokenEvent]:
        """Stream the reply as token events, filling `draft` as it goes."""
        tracker = PartTracker(prompts.cot_marker(lang) if self.strategy == "cot" else None)
        with self.chat.turn():
            for kind, value in self.chat.stream(messages):
                if kind == "usage":
                    draft.usage = value  # type: ignore[assignment]
                    continue
                draft.first_token_at = draft.first_token_at or Clock.now()
                text = str(value)  # a token's text (usage was handled above)
                draft.text += text
                draft.pieces += 1
                yield TokenEvent(event="token", text=text, part=tracker.part(text))
                cut = loop_start(draft.text)
                if cut is not None:  # a loop: keep its first copy, stop generating
                    draft.text, draft.looped = draft.text[:cut], True
                    break

    def select(
        self, question: str, docs: list[Document], lang: prompts.Lang, grounding: bool = False
    ) -> list[extractive.Sentence]:
        """The evidence sentences the model picks by number (none: nothing answers), in
        the documents' order, so quotes read as the passages do. For the grounded strategy
        (`grounding`) only from chunks that name what the question is about (its names,
        quoted terms) — "RAG 是哪一年提出的" must not be answered from a chunk about GPT-3
        in 2020 — and with the prompt whose system part the answering step shares."""
        limit = self.settings.answering.extractive_candidates
        if grounding:
            naming = names_subject(question, [d.page_content for d in docs])
            chunks = {n for n, named in enumerate(naming, start=1) if named} or None
            embeddings = make_embeddings(self.settings)
            sentences = grounded.candidates(question, docs, limit, chunks, embeddings)
        else:
            sentences = extractive.candidate_sentences(question, docs, limit)
        if not sentences:
            return []
        limit = self.settings.answering.max_evidence_sentences
        choose = grounded.select_messages if grounding else extractive.choice_messages
        messages = choose(question, sentences, lang, limit)
        options = extractive.choice_options(self.chat, len(sentences), limit)
        reply = self.chat.invoke(messages, **options)
        chosen = extractive.parse_choice(str(reply.content), len(sentences), limit)
        return sorted((sentences[n - 1] for n in chosen), key=lambda s: s.at)

    def extract(
        self, question: str, docs: list[Document], lang: prompts.Lang, draft: Draft
    ) -> Iterator[TokenEvent]:
        """Extractive strategy: the model picks sentence numbers, the answer quotes them."""
        picked = self.select(question, docs, lang)
        draft.text = (
            extractive.quote(picked, lang) if picked else prompts.refusal(lang, "extractive")
        )
        draft.first_token_at = Clock.now()
        yield TokenEvent(event="token", text=draft.text, part="answer")

    def ground(
        self, base: tuple, clock: Clock, evidence: dict, docs: list[Document]
    ) -> Iterator[StreamEvent]:
        """Grounded strategy (`app.answering.grounded`): select the evidence, show it,
        answer from it alone, keep what it supports."""
        lang, standalone = base[3], base[1]
        picked = self.select(standalone, docs, lang, grounding=True)
        clock.quoted = clock.now()
        quotes = grounded.quote_infos(picked, docs)
        yield QuotesEvent(event="quotes", quotes=quotes)
        if not picked:  # no sentence answers: nothing to write an answer from
            clock.first_token = clock.finished = clock.now()
            decision = abstention.Decision("selection", {"evidence": evidence})
            yield self._result(base, clock, decision, shown="", draft="", docs=docs)
            return
        draft = Draft()
        limit = self.settings.answering.max_evidence_sentences
        messages = grounded.answer_messages(standalone, picked, lang, limit)
        yield from self.generate(messages, draft, lang)
        clock.first_token = draft.first_token_at or clock.now()
        clock.finished = clock.now()
        answer = draft.text.strip()
        refused = is_refusal(answer, [prompts.refusal(lang, grounded.STRATEGY)], phrases=False)
        checked = grounded.check(standalone, answer, picked, lang)
        support = {
            **checked.verification.scores,
            "from_quotes": checked.from_quotes,
            "dropped": list(checked.dropped),
        }
        checks = self.settings.abstention
        config = checks.model_copy(
            update={"abstain_min_support": checks.abstain_grounded_min_support}
        )
        decision = abstention.decide(
            config, evidence, has_context=True, support=support, refused=refused
        )
        if not checked.answer and not refused:  # the model wrote nothing to show
            decision = abstention.Decision("support", decision.scores)
        shown = checked.answer if self.settings.abstention.abstain else answer
        kept_all = shown == answer and not decision.withholds
        shown = "" if decision.withholds else grounded.cite_selection(shown, picked, docs)
        yield self._result(
            base, clock, decision, shown=shown, draft="" if kept_all else answer, docs=docs,
            tokens=self.token_counts(draft), quotes=quotes,
        )  # fmt: skip

    def token_counts(self, draft: Draft) -> dict:
        """The reply's token counts, as the chat backend can tell them."""
        return self.chat.token_counts(draft.text, draft.usage, draft.pieces)

    def split_reasoning(self, text: str) -> tuple[str, str]:
        """(reasoning, answer): chain of thought puts its answer after a marker."""
        if self.strategy != "cot":
            return "", text.strip()
        return split_reasoning(text, [prompts.cot_marker("zh"), prompts.cot_marker("en")])

    def verify(
        self, question: str, answer: str, docs: list[Document], lang: prompts.Lang
    ) -> Verification:
        """The answer's facts checked sentence by sentence against the chunks."""
        texts = [d.page_content for d in docs]
        sources = [str(d.metadata.get("source", "")) for d in docs]
        return verify(question, answer, texts, lang, sources)

    def shown_answer(
        self, answer: str, checked: Verification, decision: abstention.Decision
    ) -> tuple[str, str]:
        """(what the user sees, the whole draft when that is less than the draft)."""
        if decision.withholds:
            return "", answer
        checks = self.settings.abstention
        if checks.abstain and checks.abstain_check_facts and checked.trimmed:
            return checked.kept, answer  # only the verified opening sentences are kept
        return answer, ""

    def _examples(self, lang: prompts.Lang, question: str) -> list[dict]:
        if self.strategy != "few-shot" or not self.settings.answering.few_shot_count:
            return []
        examples = prompts.few_shot_examples(lang)
        if self.settings.answering.few_shot_select:
            wanted = set(tokenize(question))
            examples = sorted(examples, key=lambda e: -len(wanted & set(tokenize(e["question"]))))
        return examples[: self.settings.answering.few_shot_count]

    # --- the result -----------------------------------------------------------------
    def _result(
        self,
        base: tuple[str, str, list[ContextInfo], prompts.Lang],
        clock: Clock,
        decision: abstention.Decision,
        *,
        shown: str,
        draft: str,
        docs: list[Document],
        reasoning: str = "",
        tokens: dict | None = None,
        quotes: list[QuoteInfo] | None = None,
    ) -> ResultEvent:
        """The one place a result is assembled. A withheld answer is the refusal sentence
        with no citations; a shown one carries its citations (inferred when the model
        wrote no markers)."""
        question, standalone, contexts, lang = base
        withheld = decision.withholds
        answer, citations = prompts.refusal(lang, self.strategy), []
        if not withheld:
            answer = shown if decision.signal == "model" else infer_citations(shown, docs)
            inferred = answer != shown
            citations = [c.as_dict() for c in citations_for(answer, docs, inferred)]
            for citation in citations:  # the chosen sentence is the quote to highlight
                chosen = [q["text"] for q in quotes or [] if q["n"] == citation["n"]]
                citation["quote"] = chosen[0] if chosen else citation["quote"]
        return ResultEvent(
            event="result",
            question=question,
            standalone_question=standalone,
            contexts=contexts,
            strategy=self.strategy,
            backend=self.backend,
            answer=answer,
            refused=decision.abstained,
            abstention=decision.as_dict(),
            draft=draft,
            citations=citations,
            quotes=quotes or [],
            reasoning="" if withheld and decision.signal == "evidence" else reasoning,
            timings=clock.timings(),
            tokens=(tokens or {}) if decision.signal != "evidence" else {},
            curated=None,
        )


def _adds_context(rewritten: str, question: str, previous: str) -> bool:
    """A usable rewrite is short and brings in words of the earlier question."""
    if not rewritten or len(rewritten) > 3 * len(question) + len(previous):
        return False
    added = set(tokenize(rewritten)) - set(tokenize(question))
    return bool(added & set(tokenize(previous)))


def context_chunks(docs: list[Document]) -> list[prompts.ContextChunk]:
    """The chunks as the prompt numbers them."""
    return [
        prompts.ContextChunk(
            n, str(d.metadata.get("source", "")), d.metadata.get("page"), d.page_content
        )
        for n, d in enumerate(docs, start=1)
    ]


def build_rag_chain(
    settings: Settings | None = None,
    *,
    collection: str | None = None,
    strategy: str | None = None,
    k: int | None = None,
    backend: str | ChatBackend | None = None,
    retriever: BaseRetriever | None = None,
) -> RagChain:
    """The RAG chain over a knowledge base; arguments override the settings."""
    settings = settings or get_settings()
    retriever = retriever or build_retriever(settings, collection, top_k=k)
    return RagChain(
        settings,
        retriever,
        strategy=strategy or settings.answering.strategy,
        backend=backend or settings.chat_model.backend,
        curated=CuratedAnswers(settings, collection or settings.knowledge.collection),
    )
