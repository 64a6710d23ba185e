"""The chat backend, chosen once from the settings: the local GGUF model through llama.cpp
(`app.models.local`) or a hosted OpenAI-compatible server (`app.models.hosted`).

Both are `ChatBackend`s (`app.models.backend`) around LangChain chat models, so the chain,
the queue and the pages use either the same way and never ask which one they hold.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from app.models.backend import BaseChat, ChatBackend, ChatModelError
from app.models.hosted import HostedChat
from app.models.local import LocalChat
from app.settings import Settings

BACKENDS: dict[str, type[BaseChat]] = {LocalChat.name: LocalChat, HostedChat.name: HostedChat}


def chat_backend(settings: Settings, name: str | None = None) -> ChatBackend:
    """The backend `name` (default: ZHIKU_BACKEND) over these settings. Cheap: its model
    is loaded on first use, once per process (see `app.models.local`)."""
    name = name or settings.chat_model.backend
    if name not in BACKENDS:
        raise ChatModelError(f"no chat backend {name!r}: use one of {', '.join(BACKENDS)}")
    return BACKENDS[name](settings)  # type: ignore[return-value]


def offered_backends(settings: Settings) -> list[str]:
    """The backends the operator configured: hosted only with an endpoint to send it to."""
    return [name for name in BACKENDS if chat_backend(settings, name).offered]


def make_chat_model(settings: Settings, backend: str | None = None) -> BaseChatModel:
    """The configured chat model, shared by every chain, with this settings' sampling
    options bound to its calls; `backend` ("local" or "hosted") overrides the setting."""
    return chat_backend(settings, backend).model
