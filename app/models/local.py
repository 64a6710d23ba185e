"""The local chat backend: the GGUF model through llama.cpp (langchain-community's ChatLlamaCpp).

The model is loaded once per file and process, whatever the temperature or max_tokens
asked for (it keeps its KV cache between calls, which is what lets a second question reuse
the evaluated static prompt prefix). It holds one context, which cannot serve two
generations at once (`batch()` runs threads, the chat serves several sessions), so its
generations take one lock and its requests one slot.
"""

from __future__ import annotations

import threading
import warnings
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel

from app.models.backend import BaseChat
from app.models.gguf import resolve_model_path
from app.once import once_per_arguments

_generation_lock = threading.Lock()


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


def loaded_local_models() -> int:
    """How many llama.cpp models this process holds (the memory tests count them)."""
    return int(_local_model.cache_info().currsize)  # type: ignore[attr-defined]


def local_client(model: Any) -> Any:
    """The llama_cpp.Llama behind a local chat model, or None for any other model."""
    model = getattr(model, "bound", model)  # a model with its sampling options bound
    return getattr(model, "client", None) if type(model).__name__ == "ChatLlamaCpp" else None


@lru_cache(maxsize=64)
def _grammar(gbnf: str) -> Any:
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(gbnf, verbose=False)


class LocalChat(BaseChat):
    """The GGUF model named by ZHIKU_LLM_MODEL, run in this process."""

    name: ClassVar[str] = "local"

    @property
    def display_name(self) -> str:
        return self.settings.chat_model.llm_model

    @property
    def offered(self) -> bool:
        return True

    @property
    def slots(self) -> int:
        return 1

    @property
    def admission_key(self) -> tuple[object, ...]:
        return (self.name,)

    @property
    def client(self) -> Any:
        """The llama_cpp.Llama answering (None when a test swapped in another model)."""
        return local_client(self.model)

    def _load(self) -> BaseChatModel:
        s, path = self.settings.chat_model, resolve_model_path(self.settings)
        return _local_model(str(path), s.llm_context, s.llm_threads, s.llm_seed)

    def sampling_options(self) -> dict[str, Any]:
        """The model cannot write more tokens than its context holds."""
        options = super().sampling_options()
        options["max_tokens"] = min(options["max_tokens"], self.settings.chat_model.llm_context)
        return options

    def call_options(self) -> dict[str, Any]:
        """llama.cpp's repetition penalty as well as the stop sequences."""
        return {**super().call_options(), "repeat_penalty": self.settings.chat_model.repeat_penalty}

    def turn(self) -> AbstractContextManager[Any]:
        return _generation_lock

    def grammar_options(self, gbnf: str) -> dict[str, Any]:
        return {"grammar": _grammar(gbnf)}

    def token_counts(self, text: str, usage: dict[str, Any], pieces: int) -> dict[str, Any]:
        """Reported usage; else llama.cpp's KV cache (prompt + generated tokens)."""
        client = self.client
        if usage or client is None:
            return super().token_counts(text, usage, pieces)
        output = len(client.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0
        total = int(client.n_tokens)
        return {
            "input_tokens": max(total - output, 0),
            "output_tokens": output,
            "total_tokens": total,
        }
