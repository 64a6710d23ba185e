"""Chat models: the local GGUF through llama.cpp, or any hosted OpenAI-compatible server.

Both are LangChain chat models, so the chain streams from either the same way. The local
model is loaded once per process (it keeps its KV cache between calls, which is what
lets a second question reuse the evaluated static prompt prefix).
"""

from __future__ import annotations

import warnings

from langchain_core.language_models import BaseChatModel

from app.errors import UserError
from app.once import once_per_arguments
from app.settings import Settings


class ChatModelError(UserError, RuntimeError):
    """The chat model cannot answer; the message says what to fix."""


@once_per_arguments(maxsize=2)
def _local_model(
    path: str,
    n_ctx: int,
    threads: int,
    temperature: float,
    top_p: float,
    max_tokens: int,
    seed: int = -1,
) -> BaseChatModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # langchain-community notice
        from langchain_community.chat_models import ChatLlamaCpp

    return ChatLlamaCpp(
        model_path=path,
        n_ctx=n_ctx,
        n_threads=threads,
        n_batch=512,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        seed=seed,
        verbose=False,
    )


def make_chat_model(settings: Settings, backend: str | None = None) -> BaseChatModel:
    """The configured chat model; `backend` ("local" or "hosted") overrides the setting."""
    backend = backend or settings.backend
    if backend == "local":
        from app.models.gguf import resolve_model_path

        path = resolve_model_path(settings)
        return _local_model(
            str(path),
            settings.llm_context,
            settings.llm_threads,
            settings.temperature,
            settings.top_p,
            settings.max_tokens,
            settings.llm_seed,
        )
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.hosted_base_url,
        api_key=settings.hosted_api_key,
        model=settings.hosted_model,
        temperature=settings.temperature,
        top_p=settings.top_p,
        max_tokens=settings.max_tokens,
        timeout=settings.timeout,
        max_retries=1,
        stream_usage=True,
    )


def local_client(model: BaseChatModel):
    """The llama_cpp.Llama behind a local chat model, or None for a hosted one."""
    return getattr(model, "client", None) if type(model).__name__ == "ChatLlamaCpp" else None


def explain_error(exc: Exception, settings: Settings) -> ChatModelError:
    """Turn connection and auth failures of a hosted server into one actionable line."""
    import openai

    url = settings.hosted_base_url
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ChatModelError(
            f"the server at {url} refused the API key; set ZHIKU_HOSTED_API_KEY in the environment"
        )
    if isinstance(exc, openai.APITimeoutError):
        return ChatModelError(
            f"the server at {url} did not answer within {settings.timeout:g} s (ZHIKU_TIMEOUT)"
        )
    if isinstance(exc, openai.APIConnectionError):
        return ChatModelError(
            f"cannot reach the chat server at {url}; start it or fix ZHIKU_HOSTED_BASE_URL "
            "(or use --backend local)"
        )
    if isinstance(exc, openai.NotFoundError):
        return ChatModelError(
            f"the server at {url} has no model {settings.hosted_model!r} (ZHIKU_HOSTED_MODEL)"
        )
    if isinstance(exc, openai.APIStatusError):
        return ChatModelError(f"the chat server at {url} answered HTTP {exc.status_code}")
    return ChatModelError(f"the chat model failed: {type(exc).__name__}: {exc}")
