"""Fixtures for every test: isolated data folders and settings. Models load only when a
test uses them (tests/integration/); tests/unit/ never does."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from app.settings import Settings, load_settings
from tests.helpers import FAST_MODEL, MODELS_DIR

# The suite answers with the fast 0.5B model: what the tests check (streaming, citations,
# abstention, the UI, the API) does not depend on which model writes, and the 1.5B default
# would double the suite's time on 2 cores. Tests of the default model name it (DEFAULT_MODEL).
os.environ.setdefault("ZHIKU_LLM_MODEL", FAST_MODEL)
# Likewise the strategy: the suite's streaming, citation, UI and API tests were written
# for the one-call zero-shot chain, and the 0.5B picks evidence less reliably than the
# default model. The default strategy (grounded) is tested with the default model in
# tests/integration/test_grounded.py, and by name where a test needs it.
os.environ.setdefault("ZHIKU_STRATEGY", "zero-shot")


@pytest.fixture(scope="session")
def embedding_cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedding cache per test session: tests start cold, then share the work."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def make_settings(tmp_path: Path, embedding_cache_root: Path) -> Callable[..., Settings]:
    """Settings on a fresh data folder; USE embeddings unless a test asks otherwise."""

    def factory(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "cache_dir": embedding_cache_root,
            "models_dir": MODELS_DIR,
            "embedding_backend": "use",
        }
        values.update(overrides)
        return load_settings(**values)

    return factory
