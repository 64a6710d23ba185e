"""Knowledge bases over HTTP: list, create, upload, list documents, delete one, re-index.

Uploads go through the same checks as the chat's upload page (`ingest.uploads`: the
name reduced to a plain file name, the type allow-list, the size limit) into
`data/uploads/<knowledge base>/`; indexing runs as a background job (`app.api.jobs`).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, UploadFile
from pydantic import BaseModel

from app.api.jobs import JobRunner
from app.settings import Settings, validate_collection_name
from app.store.knowledge_bases import chunk_counts, collection_size, list_collections
from ingest.indexing import delete_source, open_knowledge_base
from ingest.uploads import UploadError, delete_upload, safe_filename, save_upload, upload_folder

router = APIRouter(prefix="/v1")


class NewKnowledgeBase(BaseModel):
    name: str


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


def _owner(request: Request) -> str:
    """Who made the request (`app.api.server` sets it from the key): jobs are theirs."""
    return request.state.owner


def _existing(settings: Settings, name: str) -> str:
    validate_collection_name(name)
    if name not in list_collections(settings):
        raise HTTPException(404, f"no knowledge base {name!r}")
    return name


@router.get("/knowledge_bases")
async def list_knowledge_bases(request: Request) -> dict:
    settings = _settings(request)

    def read() -> list[dict]:
        return [
            {"name": name, "chunks": collection_size(settings, name)}
            for name in list_collections(settings)
        ]

    return {"object": "list", "data": await asyncio.to_thread(read)}


@router.post("/knowledge_bases", status_code=201)
async def create_knowledge_base(request: Request, body: NewKnowledgeBase) -> dict:
    settings = _settings(request)
    name = validate_collection_name(body.name.strip())
    await asyncio.to_thread(open_knowledge_base, settings, name)  # creates the collection
    return {"name": name, "chunks": 0}


@router.get("/knowledge_bases/{name}/documents")
async def list_documents(request: Request, name: str) -> dict:
    settings = _settings(request)
    _existing(settings, name)

    def read() -> list[dict]:
        counts = chunk_counts(open_knowledge_base(settings, name).store)
        return [{"source": s, "chunks": n} for s, n in sorted(counts.items())]

    return {"object": "list", "data": await asyncio.to_thread(read)}


@router.post("/knowledge_bases/{name}/documents", status_code=202)
async def upload_documents(request: Request, name: str, files: list[UploadFile]) -> dict:
    """Save the files (each checked on its own), then index the folder in the background.

    Two files of one request that end up with the same name (`same.txt` twice, or `café`
    in NFC and NFD) would replace each other: the second is refused. A file that replaces
    one uploaded earlier is saved and named in `replaced` (that is how a document is updated).
    """
    settings = _settings(request)
    _existing(settings, name)
    saved, refused, replaced = [], [], []
    for upload in files:
        data = await upload.read(int(settings.max_file_mb * 1_000_000) + 1)
        try:
            filename = safe_filename(upload.filename or "")
            if filename in saved:
                raise UploadError(
                    f"{filename}: another file of this upload has the same name; rename one"
                )
            existed = (upload_folder(settings, name) / filename).is_file()
            path = await asyncio.to_thread(save_upload, settings, name, upload.filename or "", data)
            saved.append(path.name)
            if existed:
                replaced.append(path.name)
        except UploadError as exc:
            refused.append({"file": upload.filename, "reason": str(exc)})
    jobs = _jobs(request)
    job = jobs.submit("index-uploads", name, _owner(request)).as_dict() if saved else None
    return {"saved": saved, "replaced": replaced, "refused": refused, "job": job}


@router.delete("/knowledge_bases/{name}/documents/{source:path}")
async def delete_document(request: Request, name: str, source: str) -> dict:
    settings = _settings(request)
    _existing(settings, name)

    def delete() -> int:
        deleted = delete_source(open_knowledge_base(settings, name), source)
        removed_file = delete_upload(settings, name, source)
        if not deleted and not removed_file:
            raise HTTPException(404, f"no document {source!r} in {name!r}")
        return deleted

    return {"source": source, "chunks_deleted": await asyncio.to_thread(delete)}


@router.post("/knowledge_bases/{name}/reindex", status_code=202)
async def reindex_knowledge_base(request: Request, name: str) -> dict:
    _existing(_settings(request), name)
    return {"job": _jobs(request).submit("reindex", name, _owner(request)).as_dict()}


@router.get("/jobs/{job_id}")
async def job_status(request: Request, job_id: str) -> dict:
    status = _jobs(request).get(job_id, _owner(request))
    if status is None:  # another key's job is not there either
        raise HTTPException(404, f"no job {job_id!r}")
    return status.as_dict()
