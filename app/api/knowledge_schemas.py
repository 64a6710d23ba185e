"""Response models of the knowledge-base and job routes: the OpenAPI schema says what
each returns, and FastAPI checks every response against it (issue 27: typed results)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a field the route adds must be declared


class KnowledgeBaseOut(_Out):
    name: str
    chunks: int


class KnowledgeBaseList(_Out):
    object: Literal["list"] = "list"
    data: list[KnowledgeBaseOut]


class DocumentOut(_Out):
    source: str
    chunks: int
    size_bytes: int | None = Field(None, description="The file's size, if it is still there.")
    modified: float | None = Field(None, description="The file's date (Unix time), likewise.")
    state: Literal["indexed", "indexing", "skipped", "failed"] = Field(
        "indexed", description="What the last ingest made of it."
    )
    reason: str = Field("", description="Why it was skipped or failed (one line).")
    code: str = Field("", description="The reason's stable code (e.g. empty, too_large).")
    params: dict[str, str | int | float] = Field(default_factory=dict)


class DocumentList(_Out):
    object: Literal["list"] = "list"
    data: list[DocumentOut]


class JobOut(_Out):
    """A background job (app/api/jobs.py JobStatus), without its owner."""

    id: str
    kind: Literal["index-uploads", "reindex", "index-urls", "import-faq"]
    knowledge_base: str
    state: Literal["queued", "waiting-for-writer", "running", "done", "failed"]
    files_total: int
    files_done: int
    counts: dict[str, int]
    problems: list[dict[str, str]]
    error: str | None
    created: float
    finished: float | None
    resumed: int
    urls: list[str]  # index-urls: the web pages it fetches
    filename: str = ""  # import-faq: the sheet (rows added: counts; rows left out: problems)


class RefusedOut(_Out):
    file: str
    reason: str
    code: str = ""  # set when one of ingest's limits refused it (too many pages, …)
    params: dict[str, str | int | float] = Field(default_factory=dict)


class UploadAccepted(_Out):
    saved: list[str]
    replaced: list[str]
    refused: list[RefusedOut]
    job: JobOut | None


class DeletedOut(_Out):
    source: str
    chunks_deleted: int


class RenameKnowledgeBase(BaseModel):
    name: str = Field(description="The new name (as for a new knowledge base).")


class KnowledgeBaseDeleted(_Out):
    name: str
    deleted: Literal[True] = True


class JobAccepted(_Out):
    job: JobOut


class FaqOut(_Out):
    """An FAQ entry (app/faq/store.py FaqEntry); times in seconds since the epoch."""

    id: int
    knowledge_base: str
    question: str
    phrasings: list[str]
    answer: str
    source: str
    author: str
    created_at: float
    updated_at: float


class FaqList(_Out):
    object: Literal["list"] = "list"
    data: list[FaqOut]


class FaqDeleted(_Out):
    id: int
    deleted: bool
