"""`POST /v1/embeddings`: zhiku's own configured embedder in OpenAI's shape, so one box
can embed for others (`ZHIKU_EMBEDDING_BACKEND=openai` on theirs, or TEI-style clients).

- `input`: a string or a list of strings (at most `ZHIKU_API_MAX_EMBEDDING_INPUTS`, else
  413); token arrays are refused with a 400, since zhiku's models take text.
- `input_type` (NVIDIA's extra field): `passage` (the default: what OpenAI clients send
  is usually documents) or `query`. E5 embeds a question and a passage differently; zhiku
  as a client says which it sends, so retrieval through the server ranks as locally.
- `encoding_format`: `float`, or `base64` (little-endian float32, as OpenAI; the openai
  SDK asks for it by default).
- `usage` counts approximate tokens: a Han character, a Latin/digit word or another
  symbol is one.

The model is synchronous and CPU-bound: requests run one at a time on their own worker
thread, never on the event loop (chat requests go on being served), and `ZHIKU_MAX_QUEUE`
of them may wait before a 429.
"""

from __future__ import annotations

import asyncio
import base64
import re
import struct
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict

from app.answering.admission import QueueFull
from app.api.permits import allow_anywhere
from app.settings import Settings
from app.text import HAN_RANGES

router = APIRouter()
_TOKEN = re.compile(rf"[{HAN_RANGES}]|[A-Za-z0-9]+|[^\s{HAN_RANGES}A-Za-z0-9]")


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # clients send `user` and the like

    model: str
    input: str | list[Any]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    input_type: Literal["passage", "document", "query"] = "passage"


class EmbeddingInputError(ValueError):
    """The request's input cannot be embedded; `status` is 400 or 413."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def texts_of(raw: str | list[Any], max_inputs: int) -> list[str]:
    """The request's texts, or an `EmbeddingInputError` saying what is wrong with them."""
    texts = [raw] if isinstance(raw, str) else raw
    if not texts:
        raise EmbeddingInputError("input: send at least one text")
    if len(texts) > max_inputs:
        raise EmbeddingInputError(
            f"input: {len(texts)} texts in one request; at most {max_inputs} "
            "(ZHIKU_API_MAX_EMBEDDING_INPUTS): send them in smaller batches",
            status=413,
        )
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise EmbeddingInputError(
                f"input[{i}]: token arrays are not supported; send text (a string or a list "
                "of strings)"
            )
        if not text.strip():
            raise EmbeddingInputError(f"input[{i}]: empty text; every text needs content")
    return texts


def encode(vector: list[float], encoding_format: str) -> list[float] | str:
    """A vector as OpenAI sends it: floats, or base64 of little-endian float32."""
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


def approx_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def response(model: str, texts: list[str], vectors: list[list[float]], fmt: str) -> dict:
    """OpenAI's `list` of `embedding` objects, in the order of the input."""
    tokens = sum(approx_tokens(t) for t in texts)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": encode(vector, fmt)}
            for i, vector in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


class EmbeddingService:
    """The configured embedder behind one worker thread, with a bounded wait."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhiku-embed")
        self._pending = 0  # requests running or waiting; only touched on the event loop

    @property
    def embeddings(self):
        from app.models.embeddings import make_embeddings

        return make_embeddings(self.settings)  # made once per process (app.once)

    def model_id(self) -> str:
        """The name clients send as `model`: the id collections record for this embedder."""
        from app.models.embeddings import embedding_id

        return embedding_id(self.embeddings)

    def model_card(self) -> dict:
        return {"id": self.model_id(), "object": "model", "created": 0, "owned_by": "zhiku"}

    def _compute(self, texts: list[str], as_query: bool) -> list[list[float]]:
        from app.models.embeddings import embed_queries

        embeddings = self.embeddings
        if as_query:
            return embed_queries(embeddings, texts)
        return embeddings.embed_documents(texts)

    async def run(self, body: EmbeddingRequest) -> dict:
        texts = texts_of(body.input, self.settings.serving.api_max_embedding_inputs)
        if self._pending > self.settings.serving.max_queue:
            raise QueueFull(self._pending, retry_after=5)
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            model = await loop.run_in_executor(self._executor, self.model_id)
            if body.model != model:
                raise LookupError(
                    f"no embedding model {body.model!r}: this server embeds with {model!r} "
                    "(GET /v1/models)"
                )
            as_query = body.input_type == "query"
            vectors = await loop.run_in_executor(self._executor, self._compute, texts, as_query)
        finally:
            self._pending -= 1
        if body.dimensions is not None and body.dimensions != len(vectors[0]):
            raise EmbeddingInputError(
                f"dimensions: {model!r} gives {len(vectors[0])}-dimensional vectors only"
            )
        return response(model, texts, vectors, body.encoding_format)


@router.post("/v1/embeddings")
async def create_embeddings(request: Request, body: EmbeddingRequest) -> dict:
    allow_anywhere(request, "ask")  # a scoped key needs `ask` (embeddings read no base)
    service: EmbeddingService = request.app.state.embeddings
    try:
        return await service.run(body)
    except EmbeddingInputError as exc:
        raise HTTPException(exc.status, str(exc)) from None
