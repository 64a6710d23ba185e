"""Fixtures for every test: isolated data folders and settings. Models load only when a
test uses them (tests/integration/); tests/unit/ never does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.settings import Settings, load_settings
from tests.helpers import MODELS_DIR


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
