"""The hosted chat backend: any OpenAI-compatible server, through langchain-openai.

Requests go only to endpoints the operator configured, and the key only to the endpoint
configured with it (ZHIKU_HOSTED_BASE_URL); a visitor never types a URL. A server answers
in parallel, up to ZHIKU_HOSTED_CONCURRENCY requests at once, and is not locked.
"""

from __future__ import annotations

from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from app.models.backend import BaseChat, ChatModelError
from app.once import once_per_arguments
from app.settings import Settings


@once_per_arguments(maxsize=4)
def _hosted_model(base_url: str, api_key: str, model: str, timeout: float) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    class _ChatWithMaxTokens(ChatOpenAI):
        """Sends the reply limit as `max_tokens`, the field every OpenAI-compatible server
        reads. langchain-openai renames it to `max_completion_tokens`, which
        llama-cpp-python's server (and other older ones) ignore: replies ran on to the end
        of the context. One override covers the bound limit and per-call ones alike."""

        def _get_request_payload(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            payload = super()._get_request_payload(*args, **kwargs)
            if "max_completion_tokens" in payload:
                payload["max_tokens"] = payload.pop("max_completion_tokens")
            return payload

    return _ChatWithMaxTokens(
        base_url=base_url,
        api_key=api_key,
        model=model,
        timeout=timeout,
        max_retries=1,
        stream_usage=True,
    )


def hosted_endpoints(settings: Settings) -> list[str]:
    """The hosted endpoints a chat visitor may pick: the configured one (which alone gets
    the key), then ZHIKU_HOSTED_ALLOWED_BASE_URLS. A visitor never types a URL."""
    urls = [settings.chat_model.hosted_base_url] if settings.chat_model.hosted_base_url else []
    return urls + [url for url in settings.chat_model.hosted_allowed_base_urls if url not in urls]


def for_endpoint(settings: Settings, base_url: str) -> Settings:
    """Settings whose hosted requests go to `base_url`, one of `hosted_endpoints`. The key
    goes only to the endpoint configured with it: another allowed one gets no key."""
    if base_url == settings.chat_model.hosted_base_url:
        return settings
    if base_url not in settings.chat_model.hosted_allowed_base_urls:
        raise ChatModelError(
            "that hosted endpoint is not offered here; the operator lists endpoints in "
            "ZHIKU_HOSTED_BASE_URL and ZHIKU_HOSTED_ALLOWED_BASE_URLS"
        )
    update = {"hosted_base_url": base_url, "hosted_api_key": SecretStr("not-needed")}
    return settings.updated(**update)


def explain_error(exc: Exception, settings: Settings) -> ChatModelError:
    """Turn connection and auth failures of a hosted server into one actionable line."""
    import openai

    chat = settings.chat_model
    url = chat.hosted_base_url
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ChatModelError(
            f"the server at {url} refused the API key; set ZHIKU_HOSTED_API_KEY in the environment"
        )
    if isinstance(exc, openai.APITimeoutError):
        return ChatModelError(
            f"the server at {url} did not answer within {chat.hosted_timeout_s:g} s "
            "(ZHIKU_HOSTED_TIMEOUT_S)"
        )
    if isinstance(exc, openai.APIConnectionError):
        return ChatModelError(
            f"cannot reach the chat server at {url}; start it or fix ZHIKU_HOSTED_BASE_URL "
            "(or use --backend local)"
        )
    if isinstance(exc, openai.NotFoundError):
        return ChatModelError(
            f"the server at {url} has no model {chat.hosted_model!r} (ZHIKU_HOSTED_MODEL)"
        )
    if isinstance(exc, openai.APIStatusError):
        return ChatModelError(f"the chat server at {url} answered HTTP {exc.status_code}")
    return ChatModelError(f"the chat model failed: {type(exc).__name__}: {exc}")


class HostedChat(BaseChat):
    """The model ZHIKU_HOSTED_MODEL on the server at ZHIKU_HOSTED_BASE_URL."""

    name: ClassVar[str] = "hosted"

    @property
    def display_name(self) -> str:
        return self.settings.chat_model.hosted_model

    @property
    def offered(self) -> bool:
        return bool(self.endpoints())

    @property
    def slots(self) -> int:
        return self.settings.serving.hosted_concurrency

    @property
    def admission_key(self) -> tuple[object, ...]:
        return (
            self.name,
            self.settings.chat_model.hosted_base_url,
            self.settings.serving.hosted_concurrency,
        )

    def endpoints(self) -> list[str]:
        return hosted_endpoints(self.settings)

    def at_endpoint(self, base_url: str) -> HostedChat:
        settings = for_endpoint(self.settings, base_url)
        return self if settings is self.settings else HostedChat(settings)

    def _load(self) -> BaseChatModel:
        s = self.settings.chat_model
        if not s.hosted_base_url:
            raise ChatModelError("no hosted backend is configured (ZHIKU_HOSTED_BASE_URL)")
        key = s.hosted_api_key.get_secret_value()
        return _hosted_model(s.hosted_base_url, key, s.hosted_model, s.hosted_timeout_s)

    def explain(self, exc: Exception) -> Exception:
        return explain_error(exc, self.settings)
