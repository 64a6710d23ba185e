"""Chat models: the local GGUF through llama.cpp, or any hosted OpenAI-compatible server.

Both are LangChain chat models, so the chain streams from either the same way. The local
model is loaded once per file and process, whatever the temperature or max_tokens asked
for (it keeps its KV cache between calls, which is what lets a second question reuse the
evaluated static prompt prefix). Hosted requests go only to endpoints the operator
configured, and the key only to the endpoint configured with it.
"""

from __future__ import annotations

import warnings

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from app.errors import UserError
from app.once import once_per_arguments
from app.settings import Settings


class ChatModelError(UserError, RuntimeError):
    """The chat model cannot answer; the message says what to fix."""


def sampling_options(settings: Settings, backend: str = "local") -> dict:
    """The per-call sampling options. They are passed with each call, never used to pick
    or load a model: a request's temperature must not cost another copy of the weights.
    The local model cannot write more tokens than its context holds."""
    max_tokens = settings.max_tokens
    if backend == "local":
        max_tokens = min(max_tokens, settings.llm_context)
    return {"temperature": settings.temperature, "top_p": settings.top_p, "max_tokens": max_tokens}


@once_per_arguments(maxsize=2)
def _local_model(path: str, n_ctx: int, threads: int, seed: int = -1) -> BaseChatModel:
    """One llama.cpp model per file and context in a process: only what is fixed when the
    weights load is in the key (sampling options come with each call)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # langchain-community notice
        from langchain_community.chat_models import ChatLlamaCpp

    return ChatLlamaCpp(
        model_path=path, n_ctx=n_ctx, n_threads=threads, n_batch=512, seed=seed, verbose=False
    )


@once_per_arguments(maxsize=4)
def _hosted_model(base_url: str, api_key: str, model: str, timeout: float) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=base_url,
        api_key=api_key,
        model=model,
        timeout=timeout,
        max_retries=1,
        stream_usage=True,
    )


def offered_backends(settings: Settings) -> list[str]:
    """The backends the operator configured: hosted only with an endpoint to send it to."""
    return ["local", "hosted"] if hosted_endpoints(settings) else ["local"]


def hosted_endpoints(settings: Settings) -> list[str]:
    """The hosted endpoints a chat visitor may pick: the configured one (which alone gets
    the key), then ZHIKU_HOSTED_ALLOWED_BASE_URLS. A visitor never types a URL."""
    urls = [settings.hosted_base_url] if settings.hosted_base_url else []
    return urls + [url for url in settings.hosted_allowed_base_urls if url not in urls]


def for_endpoint(settings: Settings, base_url: str) -> Settings:
    """Settings whose hosted requests go to `base_url`, one of `hosted_endpoints`. The key
    goes only to the endpoint configured with it: another allowed one gets no key."""
    if base_url == settings.hosted_base_url:
        return settings
    if base_url not in settings.hosted_allowed_base_urls:
        raise ChatModelError(
            "that hosted endpoint is not offered here; the operator lists endpoints in "
            "ZHIKU_HOSTED_BASE_URL and ZHIKU_HOSTED_ALLOWED_BASE_URLS"
        )
    update = {"hosted_base_url": base_url, "hosted_api_key": SecretStr("not-needed")}
    return settings.model_copy(update=update)


def make_chat_model(settings: Settings, backend: str | None = None) -> BaseChatModel:
    """The configured chat model, shared by every chain, with this settings' sampling
    options bound to its calls; `backend` ("local" or "hosted") overrides the setting."""
    backend = backend or settings.backend
    if backend == "local":
        from app.models.gguf import resolve_model_path

        path = resolve_model_path(settings)
        model = _local_model(
            str(path), settings.llm_context, settings.llm_threads, settings.llm_seed
        )
    elif settings.hosted_base_url:
        key = settings.hosted_api_key.get_secret_value()
        model = _hosted_model(
            settings.hosted_base_url, key, settings.hosted_model, settings.timeout
        )
    else:
        raise ChatModelError("no hosted backend is configured (ZHIKU_HOSTED_BASE_URL)")
    return model.bind(**sampling_options(settings, backend))  # type: ignore[return-value]


def loaded_local_models() -> int:
    """How many llama.cpp models this process holds (the memory tests count them)."""
    return _local_model.cache_info().currsize  # type: ignore[attr-defined]


def local_client(model):
    """The llama_cpp.Llama behind a local chat model, or None for a hosted one."""
    model = getattr(model, "bound", model)  # a model with its sampling options bound
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
