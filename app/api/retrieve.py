"""Retrieval only, for platforms that build their own prompt: zhiku's `POST /v1/retrieve`
and Dify's external-knowledge `POST /retrieval`, both over `app.retrieval.service`.

Dify's shape (docs.dify.ai, "External Knowledge API"): the request is `knowledge_id`,
`query`, `retrieval_setting{top_k, score_threshold}`; the answer `records[{content,
score, title, metadata}]`, metadata always an object; errors `{"error_code", "error_msg"}`
with Dify's codes 1001 (Authorization header not `Bearer <key>`), 1002 (key refused),
2001 (no such knowledge base). Dify defines no code for a bad request, so those carry
the HTTP status (400) as their code. `metadata_condition` is accepted and ignored.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api import schemas
from app.api.permits import allow
from app.errors import UserError
from app.retrieval.service import RetrievalService, UnknownKnowledgeBase

router = APIRouter()

# Dify's documented error codes
DIFY_BAD_AUTH_HEADER = 1001
DIFY_AUTH_FAILED = 1002
DIFY_NO_KNOWLEDGE = 2001


class RetrieveRequest(BaseModel):
    """zhiku's own retrieval request (k, threshold and limits checked by the service)."""

    knowledge_base: str
    query: str
    k: int | None = None
    score_threshold: float = Field(default=0.0, ge=0, le=1)


class RetrievalSetting(BaseModel):
    model_config = ConfigDict(extra="allow")
    top_k: int
    score_threshold: float = Field(default=0.0, ge=0, le=1)


class DifyRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    knowledge_id: str
    query: str
    retrieval_setting: RetrievalSetting


def _service(request: Request) -> RetrievalService:
    return request.app.state.retrieval


@router.post("/v1/retrieve")
async def retrieve(request: Request, body: RetrieveRequest) -> JSONResponse:
    try:
        name = body.knowledge_base
        await allow(request, "ask", name, UnknownKnowledgeBase(f"no knowledge base {name!r}"))
        chunks = await asyncio.to_thread(
            _service(request).search, body.knowledge_base, body.query, body.k,
            body.score_threshold,
        )  # fmt: skip
    except UnknownKnowledgeBase as exc:
        return JSONResponse(
            schemas.error(f"{exc}; GET /v1/knowledge_bases lists them",
                          "invalid_request_error", "knowledge_base_not_found"), 404,
        )  # fmt: skip
    except UserError as exc:
        return JSONResponse(schemas.error(str(exc), "invalid_request_error", "invalid_query"), 400)
    return JSONResponse({"object": "list", "data": [c.as_dict() for c in chunks]})


def dify_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "error_msg": message}, status)


@router.post("/retrieval")
async def dify_retrieval(request: Request) -> JSONResponse:
    try:
        body = DifyRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "request"
        return dify_error(400, 400, f"{where}: {first.get('msg', 'invalid')}")
    setting = body.retrieval_setting
    try:
        name = body.knowledge_id
        await allow(request, "ask", name, UnknownKnowledgeBase(f"no knowledge base {name!r}"))
        chunks = await asyncio.to_thread(
            _service(request).search, body.knowledge_id, body.query, setting.top_k,
            setting.score_threshold,
        )  # fmt: skip
    except UnknownKnowledgeBase as exc:
        return dify_error(404, DIFY_NO_KNOWLEDGE, f"The knowledge does not exist: {exc}")
    except UserError as exc:
        return dify_error(400, 400, str(exc))
    records = [
        {
            "content": c.text,
            "score": c.score,
            "title": c.source,
            "metadata": {
                "source": c.source,
                "page": c.page,
                "chunk_id": c.chunk_id,
                "relevance": c.relevance,
                "scores": c.scores,
            },
        }
        for c in chunks
    ]
    return JSONResponse({"records": records})


def dify_auth_error(token_given: bool) -> JSONResponse:
    """Dify's answer to a missing/malformed (1001) or refused (1002) key."""
    if not token_given:
        return dify_error(
            403, DIFY_BAD_AUTH_HEADER,
            "Invalid Authorization header format. Expected 'Bearer <api-key>' format.",
        )  # fmt: skip
    return dify_error(403, DIFY_AUTH_FAILED, "Authorization failed")
