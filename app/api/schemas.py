"""OpenAI's chat-completion shapes (the parts clients send and read), and zhiku's extras.

Requests are validated by pydantic with unknown fields allowed, since clients send
parameters zhiku does not use (presence_penalty, user, …). Responses are plain dicts in
OpenAI's layout, built in one place each, with zhiku's extras beside the standard keys:
`citations`, `contexts`, `abstention`, and `zhiku` (queue position, strategy).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.errors import UserError
from app.schema import (
    AbstentionInfo,
    AnswerResult,
    CitationInfo,
    CuratedInfo,
    QuoteInfo,
    Timings,
)
from app.settings import STRATEGIES
from app.text import detect_language, escape_markdown


class MessageTooLong(UserError, ValueError):
    """A chat message longer than the model could ever read (400 at once)."""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The text of the message; content parts other than text are ignored."""
        if isinstance(self.content, str):
            return self.content
        parts = self.content or []
        return "".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    # zhiku's own: the strategy (also as a model suffix, zhiku/<kb>:<strategy>) and top-k
    strategy: Literal[STRATEGIES] | None = None  # type: ignore[valid-type]
    k: int | None = Field(default=None, ge=1, le=50)
    n: int | None = Field(default=None, description="choices wanted; only 1 is supported")
    # a saved conversation to continue, or "new" to start one (app.api.conversations)
    conversation_id: str | None = Field(default=None, max_length=64)

    @field_validator("n")
    @classmethod
    def _one_choice(cls, n: int | None) -> int | None:
        if n not in (None, 1):
            raise ValueError("only n=1 is supported (one answer per request)")
        return n

    def check_size(self, max_chars: int) -> None:
        """Refuse a message longer than ZHIKU_MAX_QUESTION_CHARS: it cannot fit the model's
        context, and finding out by generating takes minutes (then a 500)."""
        for number, message in enumerate(self.messages):
            if len(text := message.text()) > max_chars:
                raise MessageTooLong(
                    f"messages[{number}] has {len(text):,} characters; the limit is "
                    f"{max_chars:,} (ZHIKU_MAX_QUESTION_CHARS): ask a shorter question"
                )

    def question_and_history(self) -> tuple[str, list[dict]]:
        """The last user message is the question; earlier turns are the history."""
        turns = [m for m in self.messages if m.role in ("user", "assistant")]
        if not turns or turns[-1].role != "user":
            raise ValueError("the last message must come from the user")
        history = [{"role": m.role, "content": m.text()} for m in turns[:-1]]
        return turns[-1].text(), history


# --- responses: the shapes `completion` and `list_models` build, for OpenAPI and tests -----


class ContextExcerpt(BaseModel):
    """A retrieved chunk as the API shows it (the result's context without its ranking)."""

    n: int
    source: str | None
    page: int | None
    chunk_id: str | None
    score: float | None
    relevance: Literal["strong", "partial", "weak"]  # app/retrieval/relevance.py
    text: str


class ZhikuInfo(BaseModel):
    strategy: str
    standalone_question: str
    draft: str
    timings: Timings
    curated: CuratedInfo | None = Field(
        default=None, description="the FAQ entry whose answer this is, verbatim (no model)"
    )


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop"]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """`POST /v1/chat/completions` without streaming: OpenAI's shape and zhiku's extras."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[CitationInfo]
    quotes: list[QuoteInfo]
    contexts: list[ContextExcerpt]
    abstention: AbstentionInfo
    zhiku: ZhikuInfo
    conversation_id: str | None = Field(
        default=None,
        description="only when the request named a conversation; null if it was not saved",
    )


def model_id(collection: str) -> str:
    return f"zhiku/{collection}"


def parse_model(model: str) -> tuple[str, str | None]:
    """`zhiku/<kb>` or `zhiku/<kb>:<strategy>` (the prefix may be left out)."""
    name = model.removeprefix("zhiku/")
    collection, _, strategy = name.partition(":")
    return collection, strategy or None


def _sources(result: AnswerResult) -> str:
    """ "来源：[1] a.txt, p.3" under the answer, for clients that show only the content."""
    cited = {c["n"] for c in result["citations"]}
    lines = [  # a file name is text, never Markdown the client renders (an image it fetches)
        f"[{c['n']}] {escape_markdown(c['source'] or '')}"
        + (f", p.{c['page']}" if c.get("page") else "")
        for c in result["contexts"]
        if c["n"] in cited
    ]
    if not lines:
        return ""
    title = "来源" if detect_language(result["question"]) == "zh" else "Sources"
    return f"\n\n{title}:\n" + "\n".join(lines)


def _quotes(result: AnswerResult) -> str:
    """The grounded strategy's evidence under the answer: "原文：> sentence [1]"."""
    quotes = result.get("quotes") or []
    if not quotes or result["refused"]:
        return ""
    title = "原文" if detect_language(result["question"]) == "zh" else "Quoted"
    lines = [f"> {escape_markdown(q['text'])} [{q['n']}]" for q in quotes]
    return f"\n\n{title}:\n" + "\n".join(lines)


def answer_content(result: AnswerResult, with_sources: bool) -> str:
    """The message text: the answer, the quoted evidence (grounded strategy), then (if
    configured) the cited sources, numbered."""
    return result["answer"] + _quotes(result) + (_sources(result) if with_sources else "")


def extras(result: AnswerResult) -> dict:
    """zhiku's fields beside OpenAI's: what was cited, what was retrieved, whether withheld."""
    return {
        "citations": result["citations"],
        "quotes": result.get("quotes") or [],
        "contexts": [
            {k: c[k] for k in ("n", "source", "page", "chunk_id", "score", "relevance", "text")}
            for c in result["contexts"]
        ],
        "abstention": result["abstention"],
        "zhiku": {
            "strategy": result["strategy"],
            "standalone_question": result["standalone_question"],
            "draft": result["draft"],
            "timings": result["timings"],
            "curated": result.get("curated"),
        },
    }


def usage(result: AnswerResult) -> dict:
    tokens = result["tokens"]
    prompt = int(tokens.get("input_tokens", 0) or 0)
    completion = int(tokens.get("output_tokens", 0) or 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def new_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def completion(cid: str, model: str, result: AnswerResult, with_sources: bool) -> dict:
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer_content(result, with_sources)},
                "finish_reason": "stop",
            }
        ],
        "usage": usage(result),
        **extras(result),
    }


def chunk(cid: str, model: str, delta: dict, finish: str | None = None, **more: Any) -> dict:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **more,
    }


def error(message: str, kind: str, code: str | None = None) -> dict:
    """OpenAI's error body."""
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}
