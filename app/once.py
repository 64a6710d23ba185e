"""Objects made once per process, safely when many threads ask at the same moment.

`functools.lru_cache` alone lets two threads that miss the cache together both build
the object: two Chroma clients on one folder (chromadb then fails with KeyError or
"Could not connect to tenant"), two copies of a model in memory. Here the first caller
builds it under a lock and the others wait for that one. Every shared resource — the
Chroma client, the embedding and chat models, the reranker — is made through this.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def once_per_arguments(maxsize: int = 8) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """`lru_cache(maxsize)`, with creation serialised by one lock per function."""

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        cached = functools.lru_cache(maxsize=maxsize)(function)
        lock = threading.RLock()

        @functools.wraps(function)
        def call(*args, **kwargs) -> T:
            with lock:
                return cached(*args, **kwargs)

        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        call.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return call

    return decorate
