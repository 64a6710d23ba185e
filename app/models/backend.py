"""What a chat backend is to the rest of zhiku: one protocol, so no caller asks which one.

A backend holds everything that differs between the local llama.cpp model and a hosted
OpenAI-compatible server: its options, how many requests it serves at once (its slots and
lock), how it streams and explains failures, how its tokens are counted, and which model
is answering. `app.models.chat.chat_backend` picks one from the settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar, Protocol

from langchain_core.language_models import BaseChatModel

from app.errors import UserError
from app.settings import Settings


class ChatModelError(UserError, RuntimeError):
    """The chat model cannot answer; the message says what to fix."""


class ChatBackend(Protocol):
    """The chat model as the chain, the queue and the pages use it."""

    name: ClassVar[str]  # "local" or "hosted", as settings, requests and results spell it
    settings: Settings

    @property
    def display_name(self) -> str:
        """Which model is answering (saved with each answer, written to eval runs)."""
        ...

    @property
    def offered(self) -> bool:
        """Whether the operator configured this backend (the chat offers only those)."""
        ...

    @property
    def slots(self) -> int:
        """Requests it generates at once."""
        ...

    @property
    def admission_key(self) -> tuple[object, ...]:
        """Which requests share one queue: one for the local model, one per hosted server."""
        ...

    @property
    def model(self) -> BaseChatModel:
        """The LangChain chat model with this settings' sampling options bound."""
        ...

    def endpoints(self) -> list[str]:
        """The endpoints a chat visitor may pick (none for the local model)."""
        ...

    def at_endpoint(self, base_url: str) -> ChatBackend:
        """This backend sending its requests to `base_url`, one of `endpoints()`."""
        ...

    def sampling_options(self) -> dict[str, Any]:
        """Temperature, top_p, max_tokens: passed with each call, never loading a model."""
        ...

    def turn(self) -> AbstractContextManager[Any]:
        """Held while generating: the local model's one context is not shared."""
        ...

    def stream(self, messages: Any) -> Iterator[tuple[str, object]]:
        """("text", piece) for each streamed piece, ("usage", counts) when reported."""
        ...

    def invoke(self, messages: Any, **options: Any) -> Any:
        """One short non-streamed reply, taking its turn."""
        ...

    def grammar_options(self, gbnf: str) -> dict[str, Any]:
        """Call options constraining the reply to a GBNF grammar, where supported."""
        ...

    def token_counts(self, text: str, usage: dict[str, Any], pieces: int) -> dict[str, Any]:
        """The reply's token counts: as reported, else as well as this backend can tell."""
        ...


class BaseChat:
    """What both backends share: a lazily loaded, settable model and the calls on it."""

    name: ClassVar[str]

    def __init__(self, settings: Settings, model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self._model = model

    def _load(self) -> BaseChatModel:
        raise NotImplementedError

    @property
    def model(self) -> BaseChatModel:
        if self._model is None:
            self._model = self._load().bind(**self.sampling_options())  # type: ignore[assignment]
        return self._model  # type: ignore[return-value]

    @model.setter
    def model(self, value: BaseChatModel) -> None:
        self._model = value

    def endpoints(self) -> list[str]:
        return []

    def at_endpoint(self, base_url: str) -> ChatBackend:
        return self  # type: ignore[return-value]

    def sampling_options(self) -> dict[str, Any]:
        s = self.settings.chat_model
        return {"temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens}

    def call_options(self) -> dict[str, Any]:
        """Options of every generation: the prompt's own markers stop it."""
        return {"stop": list(self.settings.chat_model.stop_sequences)}

    def turn(self) -> AbstractContextManager[Any]:
        return nullcontext()

    def explain(self, exc: Exception) -> Exception:
        """The error to show for a failed call (the exception itself unless known)."""
        return exc

    def stream(self, messages: Any) -> Iterator[tuple[str, object]]:
        try:
            for chunk in self.model.stream(messages, **self.call_options()):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if chunk.usage_metadata:
                    yield "usage", dict(chunk.usage_metadata)
                if piece:
                    yield "text", piece
        except Exception as exc:
            explained = self.explain(exc)
            if explained is exc:
                raise
            raise explained from None

    def invoke(self, messages: Any, **options: Any) -> Any:
        try:
            with self.turn():
                return self.model.invoke(messages, **options)
        except Exception as exc:
            explained = self.explain(exc)
            if explained is exc:
                raise
            raise explained from None

    def grammar_options(self, gbnf: str) -> dict[str, Any]:
        return {}

    def token_counts(self, text: str, usage: dict[str, Any], pieces: int) -> dict[str, Any]:
        """Reported usage, else one streamed piece ≈ one token, flagged approximate."""
        return usage or {"output_tokens": pieces, "approximate": True}
