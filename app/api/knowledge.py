"""Knowledge bases over HTTP: list, create, rename, delete, upload, add web pages, list
documents, delete one, re-index.

Every route calls the knowledge-base service (`app.knowledge`), the one the chat's page
and `zhiku ingest` use: uploads get the same checks (the name reduced to a plain file
name, the type allow-list, the size limit) into `data/uploads/<knowledge base>/`, and a
delete removes the same things in the same order. Indexing runs as a background job
(`app.api.jobs`).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field, StringConstraints

from app.api import knowledge_schemas as out
from app.api.jobs import JobRunner
from app.api.permits import allow, audit, principal
from app.auth import Action, can, visible
from app.knowledge.service import KnowledgeBases
from app.knowledge.types import IngestBusyError, KnowledgeBaseExists
from app.settings import Settings, validate_collection_name

router = APIRouter(prefix="/v1")


class NewKnowledgeBase(BaseModel):
    name: str


MAX_URLS = 100  # per request; each is fetched in turn by the job


class NewUrls(BaseModel):
    """Web pages to index: http or https URLs, each checked again when fetched (SSRF)."""

    urls: list[Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048)]] = Field(
        min_length=1, max_length=MAX_URLS
    )


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _knowledge(request: Request) -> KnowledgeBases:
    return request.app.state.knowledge


def _jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


def _owner(request: Request) -> str:
    """Who made the request (`app.api.server` sets it from the key): jobs are theirs."""
    return request.state.owner


async def _existing(request: Request, name: str, action: Action) -> str:
    """The knowledge base, if it exists and the caller may `action` in it; one they may
    not see is the same 404 as one that does not exist."""
    validate_collection_name(name)
    missing = HTTPException(404, f"no knowledge base {name!r}")
    if not await asyncio.to_thread(_knowledge(request).exists, name):
        raise missing
    await allow(request, action, name, missing)
    return name


@router.get("/knowledge_bases", response_model=out.KnowledgeBaseList)
async def list_knowledge_bases(request: Request) -> dict:
    """The knowledge bases the caller may read."""
    caller = principal(request)
    listed = await asyncio.to_thread(_knowledge(request).list_all)
    readable = [asdict(info) for info in listed if can(caller, "read", info.name)]
    return {"object": "list", "data": readable}


@router.post("/knowledge_bases", status_code=201, response_model=out.KnowledgeBaseOut)
async def create_knowledge_base(request: Request, body: NewKnowledgeBase) -> dict:
    """Admins only (a new knowledge base has no grants yet)."""
    if not can(principal(request), "admin", body.name):
        await audit(request, "kb.create", body.name, "denied")
        raise HTTPException(403, "only an admin may create knowledge bases")
    created = await asyncio.to_thread(_knowledge(request).create, body.name)
    await audit(request, "kb.create", body.name)
    return asdict(created)


@router.patch("/knowledge_bases/{name}", response_model=out.KnowledgeBaseOut)
async def rename_knowledge_base(request: Request, name: str, body: out.RenameKnowledgeBase) -> dict:
    """Admins (of every knowledge base, for a key: its grants and keys move too). A name
    that is taken is 409; a writer using it, 409 as well (IngestBusyError)."""
    await _existing(request, name, "admin")
    try:
        renamed = await asyncio.to_thread(_knowledge(request).rename, name, body.name)
    except (KnowledgeBaseExists, IngestBusyError) as exc:
        await audit(request, "kb.rename", name, "failed", str(exc)[:300])
        raise HTTPException(409, str(exc)) from None
    await audit(request, "kb.rename", name, detail=renamed.name)
    return asdict(renamed)


@router.delete("/knowledge_bases/{name}", response_model=out.KnowledgeBaseDeleted)
async def delete_knowledge_base(request: Request, name: str) -> dict:
    """Admins: the knowledge base and everything under its name (app/knowledge/lifecycle.py)."""
    await _existing(request, name, "admin")
    try:
        await asyncio.to_thread(_knowledge(request).delete, name)
    except IngestBusyError as exc:
        raise HTTPException(409, str(exc)) from None
    await audit(request, "kb.delete", name)
    return {"name": name, "deleted": True}


@router.get("/knowledge_bases/{name}/documents", response_model=out.DocumentList)
async def list_documents(request: Request, name: str) -> dict:
    knowledge = _knowledge(request)
    await _existing(request, name, "read")
    documents = await asyncio.to_thread(knowledge.documents, name)
    return {"object": "list", "data": [asdict(document) for document in documents]}


@router.post(
    "/knowledge_bases/{name}/documents", status_code=202, response_model=out.UploadAccepted
)
async def upload_documents(request: Request, name: str, files: list[UploadFile]) -> dict:
    """Save the files (each checked on its own: `KnowledgeBases.save_uploads`), then index
    the folder in the background."""
    knowledge = _knowledge(request)
    await _existing(request, name, "write")
    # One byte over the limit is enough for the check to refuse a file: no more is read.
    limit = int(_settings(request).knowledge.max_file_mb * 1_000_000) + 1
    received = [(upload.filename or "", await upload.read(limit)) for upload in files]
    uploads = await asyncio.to_thread(knowledge.save_uploads, name, received)
    jobs = _jobs(request)
    job = jobs.submit("index-uploads", name, _owner(request)).as_dict() if uploads.saved else None
    await audit(request, "document.upload", name, detail=", ".join(uploads.saved))
    return {**asdict(uploads), "job": job}


@router.delete("/knowledge_bases/{name}/documents/{source:path}", response_model=out.DeletedOut)
async def delete_document(request: Request, name: str, source: str) -> dict:
    knowledge = _knowledge(request)
    await _existing(request, name, "write")
    deleted = await asyncio.to_thread(knowledge.delete_document, name, source)
    if not deleted.found:
        raise HTTPException(404, f"no document {source!r} in {name!r}")
    await audit(request, "document.delete", f"{name}/{source}")
    return {"source": source, "chunks_deleted": deleted.chunks_deleted}


@router.post("/knowledge_bases/{name}/reindex", status_code=202, response_model=out.JobAccepted)
async def reindex_knowledge_base(request: Request, name: str) -> dict:
    await _existing(request, name, "write")
    job = _jobs(request).submit("reindex", name, _owner(request)).as_dict()
    await audit(request, "kb.reindex", name)
    return {"job": job}


@router.post("/knowledge_bases/{name}/urls", status_code=202, response_model=out.JobAccepted)
async def add_urls(request: Request, name: str, body: NewUrls) -> dict:
    """Index web pages in the background (`KnowledgeBases.ingest_urls`): the job's
    problems say, one line each, which page was refused (a private address not in
    ZHIKU_URL_ALLOWLIST, a redirect there, too big) or could not be read."""
    await _existing(request, name, "write")
    for url in body.urls:
        if not url.lower().startswith(("http://", "https://")):
            raise HTTPException(400, f"not an http or https URL: {url[:200]!r}")
    urls = list(dict.fromkeys(body.urls))
    job = _jobs(request).submit("index-urls", name, _owner(request), urls).as_dict()
    await audit(request, "kb.add_urls", name, detail=" ".join(urls)[:500])
    return {"job": job}


@router.get("/jobs/{job_id}", response_model=out.JobOut)
async def job_status(request: Request, job_id: str) -> dict:
    status = _jobs(request).get(job_id, _owner(request))
    if status is None or not visible(principal(request), status.knowledge_base):
        # another caller's job is not there either, nor one in a base no longer theirs
        raise HTTPException(404, f"no job {job_id!r}")
    return status.as_dict()
