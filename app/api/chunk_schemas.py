"""Request and response models of the chunk-fix and retrieval-test routes (issue 28):
the OpenAPI schema says what each returns, and FastAPI checks every response against it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a field the route adds must be declared


class ChunkEdit(BaseModel):
    text: str
    expected_revision: int = Field(ge=0, description="The revision the editor started from.")


class ChunkAction(BaseModel):
    expected_revision: int = Field(ge=0)


class ChunkOut(_Out):
    chunk_id: str
    source: str
    chunk_index: int | None
    page: int | None
    text: str
    state: Literal["original", "edited", "disabled", "deleted"]
    revision: int
    original_text: str
    changed_by: str | None
    changed_at: float | None


class ChunkList(_Out):
    object: Literal["list"] = "list"
    data: list[ChunkOut]


class ChangeOut(_Out):
    chunk_id: str
    source: str
    kind: Literal["edit", "disable", "enable", "delete", "restore", "dropped"]
    who: str
    at: float
    before: str | None
    after: str | None
    note: str


class ChangeList(_Out):
    object: Literal["list"] = "list"
    data: list[ChangeOut]


class ProbeRequest(BaseModel):
    knowledge_base: str
    query: str
    k: int | None = None
    candidates: int = 20


class ProbedChunkOut(_Out):
    rank: int
    chunk_id: str
    source: str
    page: int | None
    text: str
    dense: float | None
    bm25: float | None
    fused: float | None
    rerank: float | None
    entity: bool
    reaches_model: bool


class ProbedFaqOut(_Out):
    entry_id: int
    question: str
    answer: str
    score: float
    verdict: Literal["answer", "context", "none"]


class ProbeOut(_Out):
    knowledge_base: str
    query: str
    k: int
    retriever: str
    reranker: bool
    chunks: list[ProbedChunkOut]
    faq: ProbedFaqOut | None = None
