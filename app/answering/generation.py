"""Generation: stream the model's reply, tell reasoning from answer, count tokens.

The local llama.cpp model holds one context, which cannot serve two generations at once
(`batch()` runs threads, the chat serves several sessions), so local generations take
`generation_lock`. A hosted server answers requests in parallel and is not locked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from app.models.chat import explain_error, local_client
from app.settings import Settings

generation_lock = threading.Lock()


@dataclass
class Draft:
    """The model's whole reply, with what the timings and token counts need."""

    text: str = ""
    first_token_at: float | None = None
    usage: dict = field(default_factory=dict)  # as the server reported it, if it did
    pieces: int = 0  # streamed pieces (≈ tokens when no usage is reported)
    looped: bool = False  # cut where the reply started repeating itself


class PartTracker:
    """Chain of thought streams reasoning first: everything up to the final-answer marker
    is "reasoning", the rest "answer". Other strategies stream only "answer"."""

    def __init__(self, marker: str | None) -> None:
        self.marker = marker.rstrip("：:") if marker else None
        self.seen = marker is None
        self.text = ""

    def part(self, piece: str) -> str:
        self.text += piece
        if not self.seen and self.marker and self.marker in self.text:
            self.seen = True
        return "answer" if self.seen else "reasoning"


def generation_options(backend: str, settings: Settings) -> dict:
    """Stop sequences for both backends; llama.cpp's repetition penalty for the local one."""
    options: dict = {"stop": list(settings.stop_sequences)}
    if backend == "local":
        options["repeat_penalty"] = settings.repeat_penalty
    return options


def loop_start(text: str, min_unit: int = 4, max_unit: int = 80, repeats: int = 3) -> int | None:
    """Where a loop begins: the text ends in `repeats` copies of one unit of 4–80 characters
    ("无监督预训练+有监督微调+无监督预训练+有监督微调+…"). Returns the end of the first copy,
    or None. Penalties make loops rarer; this cuts the ones that still happen."""
    for unit in range(min_unit, max_unit + 1):
        span = unit * repeats
        if len(text) < span:
            return None
        tail = text[-span:]
        piece = tail[:unit]
        if piece.strip() and tail == piece * repeats:
            return len(text) - span + unit
    return None


def stream_reply(
    model: BaseChatModel, messages, backend: str, settings: Settings
) -> Iterator[tuple[str, object]]:
    """("text", piece) for each streamed piece, then ("usage", counts) if reported.

    A hosted server's connection and auth failures become one actionable ChatModelError.
    """
    try:
        for chunk in model.stream(messages, **generation_options(backend, settings)):
            piece = chunk.content if isinstance(chunk.content, str) else ""
            if chunk.usage_metadata:
                yield "usage", dict(chunk.usage_metadata)
            if piece:
                yield "text", piece
    except Exception as exc:
        if backend == "hosted":
            raise explain_error(exc, settings) from None
        raise


def invoke_short(model: BaseChatModel, messages, backend: str, settings: Settings, **options):
    """One short non-streamed reply (a follow-up rewrite, an extractive choice), under the
    same rules: local calls take the lock, hosted failures become one clear line."""
    try:
        if backend == "local":
            with generation_lock:
                return model.invoke(messages, **options)
        return model.invoke(messages, **options)
    except Exception as exc:
        if backend == "hosted":
            raise explain_error(exc, settings) from None
        raise


def token_counts(model: BaseChatModel, draft: Draft) -> dict:
    """Reported usage; else llama.cpp's KV cache (prompt + generated tokens); else one
    streamed piece ≈ one token, flagged approximate."""
    if draft.usage:
        return draft.usage
    client = local_client(model)
    if client is not None:
        text = draft.text
        output = len(client.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0
        total = int(client.n_tokens)
        return {
            "input_tokens": max(total - output, 0),
            "output_tokens": output,
            "total_tokens": total,
        }
    return {"output_tokens": draft.pieces, "approximate": True}
