"""A knowledge base's FAQ entries over HTTP: list, read, create, update, delete, import.

Every route calls the FAQ service (`app.knowledge.faq`), the one the chat's page and
`zhiku faq` use. The server's key check runs first, as for every knowledge-base route;
the entry's author is the `author` the request gives, else the key's owner name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field

from app.api import knowledge_schemas as out
from app.knowledge.faq import FaqDraft, FaqDuplicate, FaqEntry, FaqNotFound, FaqService

router = APIRouter(prefix="/v1/knowledge_bases/{name}/faq")
T = TypeVar("T")


class FaqIn(BaseModel):
    question: str = Field(max_length=2000)
    answer: str = Field(max_length=40_000)
    phrasings: list[str] = Field(default_factory=list, max_length=50)
    source: str = Field(default="", max_length=2000)
    author: str = Field(default="", max_length=200, description="Default: the key's owner.")

    def draft(self) -> FaqDraft:
        return FaqDraft(self.question, self.answer, tuple(self.phrasings), self.source)


def _service(request: Request) -> FaqService:
    service = getattr(request.app.state, "faq", None)
    if service is None:
        service = request.app.state.faq = FaqService(request.app.state.settings)
    return service


def _author(request: Request, given: str) -> str:
    return given.strip() or request.state.owner


async def _call(function: Callable[..., T], *args: Any) -> T:
    """The service call in a worker thread; not found is 404, a duplicate 409."""
    try:
        return await asyncio.to_thread(function, *args)
    except FaqNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except FaqDuplicate as exc:
        raise HTTPException(409, str(exc)) from None


def _out(entry: FaqEntry) -> dict:
    return {**asdict(entry), "phrasings": list(entry.phrasings)}


@router.get("", response_model=out.FaqList)
async def list_entries(request: Request, name: str, query: str = "") -> dict:
    entries = await _call(_service(request).list, name, query)
    return {"object": "list", "data": [_out(e) for e in entries]}


@router.post("", status_code=201, response_model=out.FaqOut)
async def create_entry(request: Request, name: str, body: FaqIn) -> dict:
    author = _author(request, body.author)
    return _out(await _call(_service(request).add, name, body.draft(), author))


@router.post("/import", status_code=202, response_model=out.JobAccepted)
async def import_entries(request: Request, name: str, file: UploadFile) -> dict:
    """A csv or xlsx file (问题,答案[,相似问题,来源]) imported by a background job: 10,000
    rows take minutes to embed on two cores. `GET /v1/jobs/{id}` counts the rows added
    as it runs; once done, each row left out is one of its `problems`. A file that cannot
    be read is refused at once (400)."""
    data, filename = await file.read(), file.filename or "faq.csv"
    await _call(_service(request).check_sheet, name, filename, data)
    sheet = (filename, data, _author(request, ""))
    jobs = request.app.state.jobs
    job = await asyncio.to_thread(jobs.submit, "import-faq", name, request.state.owner, None, sheet)
    return {"job": job.as_dict()}


@router.get("/{entry_id}", response_model=out.FaqOut)
async def get_entry(request: Request, name: str, entry_id: int) -> dict:
    return _out(await _call(_service(request).get, name, entry_id))


@router.put("/{entry_id}", response_model=out.FaqOut)
async def update_entry(request: Request, name: str, entry_id: int, body: FaqIn) -> dict:
    author = _author(request, body.author)
    return _out(await _call(_service(request).update, name, entry_id, body.draft(), author))


@router.delete("/{entry_id}", response_model=out.FaqDeleted)
async def delete_entry(request: Request, name: str, entry_id: int) -> dict:
    await _call(_service(request).delete, name, entry_id)
    return {"id": entry_id, "deleted": True}
