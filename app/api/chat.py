"""`POST /v1/chat/completions`: the RAG chain behind OpenAI's chat API, streamed or not.

The chain is synchronous (llama.cpp, Chroma), so each request runs it in a worker
thread that reports back through an asyncio queue. The request first takes a place in
the backend's admission queue — a full queue is a 429 before any byte is sent — and a
streamed response tells the client its position until the model starts. A client that
disconnects sets the cancel flag: a waiting request leaves the queue, a running one stops
at the next token and frees the model for the next request.

Streaming sends the answer once it has been checked: the chain may withhold or trim an
unverified draft, and text already sent to a client cannot be taken back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from typing import cast

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse

from app import tracing
from app.answering.admission import Cancelled, Ticket, admission_for
from app.answering.chain import RagChain, build_rag_chain
from app.api import schemas
from app.api.conversations import API_OWNER, Thread, response_field
from app.api.permits import allow
from app.auth import FULL_ACCESS, Principal, can
from app.errors import UserError
from app.knowledge.service import KnowledgeBases
from app.once import once_per_arguments
from app.schema import AnswerResult, StreamEvent
from app.settings import Settings

log = logging.getLogger("zhiku.api")
PIECE = 24  # characters per streamed content delta


class Chains:
    """One chain per knowledge base, strategy, k and generation overrides, made once (at
    most 32). The models inside are shared by all of them: temperature and max_tokens are
    bound to each call, so 32 chains hold one copy of the weights (app.models.chat)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._knowledge = KnowledgeBases(settings)
        self._cached = once_per_arguments(maxsize=32)(self._build)

    def get(self, collection: str, strategy: str, k: int | None, overrides: tuple) -> RagChain:
        """The chain, cached also by the collection's id: a knowledge base renamed, or
        deleted and made again, under this name gets a chain of its own."""
        identity = self._knowledge.identity(collection)
        return self._cached(collection, strategy, k, overrides, identity)

    def _build(
        self, collection: str, strategy: str, k: int | None, overrides: tuple, identity: str
    ) -> RagChain:
        settings = self.settings.updated(**dict(overrides)) if overrides else self.settings
        return build_rag_chain(settings, collection=collection, strategy=strategy, k=k)


@dataclass
class Job:
    """One request's worker: its events, its cancel flag."""

    events: asyncio.Queue
    loop: asyncio.AbstractEventLoop
    cancel: threading.Event

    def emit(self, kind: str, value: object = None) -> None:
        self.loop.call_soon_threadsafe(self.events.put_nowait, (kind, value))


def _work(job: Job, chain: RagChain, ticket: Ticket, payload: dict, thread: Thread | None) -> None:
    """Wait for the turn, run the chain, save the exchange if the request belongs to a
    conversation, report the result; always free the slot."""
    try:
        ticket.wait(lambda position: job.emit("queue", position), job.cancel.is_set)
        job.emit("queue", 0)
        # a generator: closing it stops llama.cpp mid-generation
        stream = cast("Generator[StreamEvent, None, None]", chain.stream(payload))
        try:
            with tracing.answer("api") as trace:
                for event in stream:
                    if job.cancel.is_set():
                        log.info("client gone: generation stopped")
                        return
                    if event["event"] == "result":
                        trace.record(event)
                        if thread is not None:
                            thread.save(payload["question"], event, chain.model_name)
                        job.emit("result", event)
        finally:
            stream.close()  # stops llama.cpp mid-generation when cancelled
    except Cancelled:
        log.info("client gone while waiting: left the queue")
    except UserError as exc:
        job.emit("error", exc)
    except Exception:
        log.exception("the chain failed")
        job.emit("error", RuntimeError("internal error while answering; see the server log"))
    finally:
        ticket.release()
        job.emit("end")


def resolve(
    chains: Chains, body: schemas.ChatRequest, owner: str = API_OWNER
) -> tuple[RagChain, dict, Thread | None]:
    """The chain for the request's model id, the chain's input, and the conversation the
    request continues (its stored turns are then the history; only `owner`'s)."""
    settings = chains.settings
    body.check_size(settings.serving.max_question_chars)  # 400 before any model or index is touched
    collection, suffix = schemas.parse_model(body.model)
    if collection not in KnowledgeBases(settings).names():
        raise unknown(collection)
    strategy = body.strategy or suffix or settings.answering.strategy
    if strategy not in schemas.STRATEGIES:
        raise ValueError(
            f"unknown strategy {strategy!r}: use one of {', '.join(schemas.STRATEGIES)}"
        )
    question, history = body.question_and_history()
    overrides = tuple(
        (key, value)
        for key, value in (("temperature", body.temperature), ("max_tokens", body.max_tokens))
        if value is not None
    )
    chain = chains.get(collection, strategy, body.k, overrides)
    thread = None
    if body.conversation_id:
        thread = Thread(settings, collection, body.conversation_id, owner)
        history = thread.history() or history
    return chain, {"question": question, "history": history}, thread


def unknown(collection: str) -> LookupError:
    """A knowledge base that does not exist, or that the caller may not see (404)."""
    return LookupError(f"no knowledge base {collection!r}; GET /v1/models lists them")


async def chat_completions(request: Request, body: schemas.ChatRequest, chains: Chains):
    settings = chains.settings
    owner = getattr(request.state, "owner", API_OWNER)
    collection = schemas.parse_model(body.model)[0]
    await allow(request, "ask", collection, unknown(collection))
    # may load models
    chain, payload, thread = await asyncio.to_thread(resolve, chains, body, owner)
    ticket = admission_for(settings, chain.backend).enter()  # QueueFull → 429 here
    loop = asyncio.get_running_loop()
    job = Job(asyncio.Queue(), loop, threading.Event())
    threading.Thread(target=_work, args=(job, chain, ticket, payload, thread), daemon=True).start()
    cid = schemas.new_id()
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            _sse(request, job, cid, body.model, settings, include_usage, thread),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    result = await _wait_for_result(request, job)
    completion = schemas.completion(
        cid, body.model, result, settings.serving.api_sources_in_content
    )
    return JSONResponse(completion | response_field(thread))


async def _next(request: Request, job: Job) -> tuple[str, object]:
    """The worker's next event; sets the cancel flag if the client went away meanwhile."""
    while True:
        try:
            return await asyncio.wait_for(job.events.get(), timeout=1.0)
        except TimeoutError:
            if await request.is_disconnected():
                job.cancel.set()
                return "gone", None


async def _wait_for_result(request: Request, job: Job) -> AnswerResult:
    result = None
    try:
        while True:
            kind, value = await _next(request, job)
            if kind == "result":
                result = value
            elif kind == "error":
                raise value  # type: ignore[misc]
            elif kind in ("end", "gone"):
                break
    finally:
        job.cancel.set()  # a cancelled request (client gone) stops the worker too
    if result is None:
        raise ConnectionAbortedError("the client went away")
    return result  # type: ignore[return-value]


def _event(data: dict) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _sse(
    request: Request,
    job: Job,
    cid: str,
    model: str,
    settings: Settings,
    include_usage: bool,
    thread: Thread | None,
) -> AsyncIterator[str]:
    """Queue position while waiting, then the checked answer in pieces, then [DONE]."""
    try:
        yield _event(schemas.chunk(cid, model, {"role": "assistant", "content": ""}))
        while True:
            kind, value = await _next(request, job)
            if kind == "queue":
                yield _event(schemas.chunk(cid, model, {}, zhiku={"queue_position": value}))
            elif kind == "result":
                saved = response_field(thread)
                events = _answer_events(cid, model, value, settings, include_usage, saved)
                async for text in events:
                    yield text
            elif kind == "error":
                body = schemas.error(str(value), "server_error", "generation_failed")
                yield _event(body)
            elif kind in ("end", "gone"):
                break
        yield "data: [DONE]\n\n"
    finally:
        job.cancel.set()


async def _answer_events(
    cid: str, model: str, result, settings: Settings, include_usage: bool, saved: dict
) -> AsyncIterator[str]:
    content = schemas.answer_content(result, settings.serving.api_sources_in_content)
    for start in range(0, len(content), PIECE):
        yield _event(schemas.chunk(cid, model, {"content": content[start : start + PIECE]}))
        await asyncio.sleep(0)
    last = schemas.chunk(cid, model, {}, "stop", **schemas.extras(result), **saved)
    if include_usage:
        last["usage"] = schemas.usage(result)
    yield _event(last)


async def list_models(settings: Settings, caller: Principal = FULL_ACCESS) -> dict:
    """One model per knowledge base the caller may ask in."""
    return {
        "object": "list",
        "data": [
            {"id": schemas.model_id(name), "object": "model", "created": 0, "owned_by": "zhiku"}
            for name in KnowledgeBases(settings).names()
            if can(caller, "ask", name)
        ],
    }
