"""The FastAPI application of `zhiku serve`: routes, API-key auth, errors in OpenAI's shape.

- `GET /v1/models`: one model per knowledge base, `zhiku/<knowledge base>`; a strategy is
  chosen by a suffix (`zhiku/notes:extractive`) or the request field `strategy`.
- `POST /v1/chat/completions`: see `app.api.chat`.
- `POST /v1/embeddings`: the configured embedder in OpenAI's shape, see `app.api.embeddings`
  (its model is listed in `/v1/models` too).
- Knowledge bases and indexing jobs: see `app.api.knowledge`.
- Retrieval only: `POST /v1/retrieve` and Dify's `POST /retrieval`, see `app.api.retrieve`.
- `GET /healthz`: no auth, for load balancers.

Keys (`ZHIKU_API_KEYS`, and scoped keys with `ZHIKU_AUTH=local`) are checked in
`app.api.access`, never logged or echoed; every error is `{"error": {"message", "type",
"code"}}` with its status, never a traceback. Conversations and jobs belong to the
caller that made them (`request.state.owner`); without keys, `app.api.guard` admits
only loopback Host and Origin headers.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.answering.admission import QueueFull, admission_for
from app.api import chat, chunks, embeddings, faq, knowledge, retrieve, schemas
from app.api.access import add_auth
from app.api.guard import Guard
from app.api.jobs import JobRunner
from app.api.permits import principal
from app.errors import DISK_FULL, UserError, client_gone, disk_full
from app.knowledge.service import KnowledgeBases
from app.retrieval.service import RetrievalService
from app.settings import Settings

log = logging.getLogger("zhiku.api")


def create_app(settings: Settings) -> FastAPI:
    """The API over the knowledge bases of `settings`; shared resources made up front."""
    app = FastAPI(title="zhiku", version="1", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.chains = chat.Chains(settings)
    app.state.knowledge = KnowledgeBases(settings)
    app.state.jobs = JobRunner(settings, app.state.knowledge)
    app.state.embeddings = embeddings.EmbeddingService(settings)
    app.state.retrieval = RetrievalService(settings)
    app.state.knowledge.names()  # the Chroma client, once, before any request arrives
    add_auth(app, settings)  # who calls, and their key's scopes (app.api.access)
    _add_errors(app)
    app.add_middleware(Guard, settings=settings)  # outermost: before auth and routes

    @app.get("/healthz")
    async def healthz() -> dict:
        """Alive, and how busy the configured backend is (running and waiting requests)."""
        busy = admission_for(settings, settings.chat_model.backend)
        return {"status": "ok", "backend": settings.chat_model.backend,
                "running": busy.running, "waiting": busy.waiting}  # fmt: skip

    @app.get("/v1/models")
    async def models(request: Request) -> dict:
        listed = await chat.list_models(settings, principal(request))
        card = await asyncio.to_thread(app.state.embeddings.model_card)
        return {**listed, "data": [*listed["data"], card]}

    @app.post("/v1/chat/completions", response_model=schemas.ChatCompletion)
    async def chat_completions(request: Request, body: schemas.ChatRequest):
        return await chat.chat_completions(request, body, app.state.chains)

    app.include_router(knowledge.router)
    app.include_router(faq.router)
    app.include_router(embeddings.router)
    app.include_router(retrieve.router)
    app.include_router(chunks.router)  # chunk fixes, retrieval test (issue 28)
    return app


def _add_errors(app: FastAPI) -> None:
    def reply(status: int, message: str, kind: str, code: str | None, **headers: str):
        return JSONResponse(schemas.error(message, kind, code), status, headers=headers or None)

    @app.exception_handler(QueueFull)
    async def queue_full(_request: Request, exc: QueueFull):
        return reply(429, str(exc), "rate_limit_error", "queue_full",
                     **{"Retry-After": str(exc.retry_after)})  # fmt: skip

    @app.exception_handler(LookupError)
    async def not_found(_request: Request, exc: LookupError):
        return reply(404, str(exc).strip("'\""), "invalid_request_error", "model_not_found")

    @app.exception_handler(UserError)
    async def user_error(_request: Request, exc: UserError):
        return reply(400, str(exc), "invalid_request_error", type(exc).__name__)

    @app.exception_handler(ValueError)
    async def bad_value(_request: Request, exc: ValueError):
        return reply(400, str(exc), "invalid_request_error", None)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return reply(400, f"{where or 'request'}: {first.get('msg', 'invalid')}",
                     "invalid_request_error", "invalid_request")  # fmt: skip

    @app.exception_handler(StarletteHTTPException)  # also unknown routes (404) and 405
    async def http_error(_request: Request, exc: HTTPException):
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        codes = {404: "not_found", 405: "method_not_allowed"}
        return reply(exc.status_code, str(exc.detail), kind, codes.get(exc.status_code))

    @app.exception_handler(ConnectionAbortedError)
    async def gone(_request: Request, _exc: ConnectionAbortedError):
        return reply(499, "the client closed the request", "invalid_request_error", None)

    @app.exception_handler(Exception)
    async def internal(_request: Request, exc: Exception):
        if client_gone(exc):  # e.g. an MCP client that left mid-call
            log.info("client gone mid-request")
            return reply(499, "the client closed the request", "invalid_request_error", None)
        if disk_full(exc):
            log.error("disk full: %s", str(exc).splitlines()[0][:200] if str(exc) else "")
            return reply(507, DISK_FULL, "server_error", "disk_full")
        log.exception("unexpected error")
        return reply(500, "internal error; see the server log", "server_error", None)
