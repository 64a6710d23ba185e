"""Fixing chunks and testing retrieval over HTTP (issue 28): a document's chunks, an edit
that names the revision it started from, disable / enable / delete / restore, the change
log, and the retrieval test. Every route checks the knowledge base exists (as
`app.api.knowledge` does) and calls the service the chat's pages use; who changed a chunk
is the key's owner (a digest of the key, never the key).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from app.api import chunk_schemas as out
from app.api import schemas
from app.api.knowledge import _existing, _knowledge, _owner
from app.api.permits import allow, audit
from app.errors import UserError
from app.knowledge.types import ChunkConflict, IngestBusyError, UnknownChunk
from app.retrieval.service import UnknownKnowledgeBase

router = APIRouter(prefix="/v1")


def _refused(exc: Exception) -> JSONResponse:
    """409 for a conflict (another editor, a re-index that outlasted the wait), 404 for a
    chunk that is not there."""
    if isinstance(exc, UnknownChunk):
        status, code = 404, "chunk_not_found"
    else:
        status = 409
        code = "chunk_changed" if isinstance(exc, ChunkConflict) else "knowledge_base_busy"
    return JSONResponse(schemas.error(str(exc), "invalid_request_error", code), status)


@router.get("/knowledge_bases/{name}/chunks", response_model=out.ChunkList)
async def list_chunks(request: Request, name: str, source: str) -> dict:
    """A document's chunks in file order (`source` as `GET .../documents` lists it)."""
    knowledge = _knowledge(request)
    await _existing(request, name, "read")
    chunks = await asyncio.to_thread(knowledge.chunks, name, source)
    return {"object": "list", "data": [asdict(chunk) for chunk in chunks]}


@router.put("/knowledge_bases/{name}/chunks/{chunk_id}", response_model=out.ChunkOut)
async def edit_chunk(request: Request, name: str, chunk_id: str, body: out.ChunkEdit):
    knowledge = _knowledge(request)
    await _existing(request, name, "write")
    try:
        chunk = await asyncio.to_thread(
            knowledge.edit_chunk, name, chunk_id, body.text, body.expected_revision,
            _owner(request),
        )  # fmt: skip
    except (ChunkConflict, UnknownChunk, IngestBusyError) as exc:
        return _refused(exc)
    await audit(request, "chunk.edit", f"{name}/{chunk_id}")
    return asdict(chunk)


@router.post("/knowledge_bases/{name}/chunks/{chunk_id}/{action}", response_model=out.ChunkOut)
async def change_chunk(
    request: Request,
    name: str,
    chunk_id: str,
    action: Literal["disable", "enable", "delete", "restore"],
    body: out.ChunkAction,
):
    knowledge = _knowledge(request)
    await _existing(request, name, "write")
    try:
        chunk = await asyncio.to_thread(
            knowledge.set_chunk_state, name, chunk_id, action, body.expected_revision,
            _owner(request),
        )  # fmt: skip
    except (ChunkConflict, UnknownChunk, IngestBusyError) as exc:
        return _refused(exc)
    await audit(request, f"chunk.{action}", f"{name}/{chunk_id}")
    return asdict(chunk)


@router.get("/knowledge_bases/{name}/chunk_changes", response_model=out.ChangeList)
async def chunk_changes(request: Request, name: str, source: str | None = None) -> dict:
    """Who changed which chunk when, newest first; `source` narrows it to one document."""
    knowledge = _knowledge(request)
    await _existing(request, name, "read")
    changes = await asyncio.to_thread(knowledge.chunk_changes, name, source)
    return {"object": "list", "data": [asdict(change) for change in changes]}


@router.post("/retrieval_test", response_model=out.ProbeOut)
async def retrieval_test(request: Request, body: out.ProbeRequest):
    """What retrieval returns for a question, every score, which chunks reach the model;
    no model is asked (the same checks as `POST /v1/retrieve`)."""
    name = body.knowledge_base
    await allow(request, "ask", name, HTTPException(404, f"no knowledge base {name!r}"))
    try:
        probe = await asyncio.to_thread(
            request.app.state.retrieval.probe, body.knowledge_base, body.query, body.k,
            body.candidates,
        )  # fmt: skip
    except UnknownKnowledgeBase as exc:
        raise HTTPException(404, f"{exc}; GET /v1/knowledge_bases lists them") from None
    except UserError as exc:  # as /v1/retrieve answers a bad query
        return JSONResponse(schemas.error(str(exc), "invalid_request_error", "invalid_query"), 400)
    return asdict(probe)
