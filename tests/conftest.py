"""Shared fixtures: isolated data folders, real models, the shared test data."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.settings import REPO_ROOT, Settings, load_settings
from app.settings import settings_env as app_settings_env

SHARED = REPO_ROOT.parent / "shared"
LLM_ARTICLES = SHARED / "corpora" / "llm_articles"
CMRC = SHARED / "corpora" / "cmrc2018_trial"
# Assembled models are shared by all tests (and with `make run`) to avoid 500 MB copies.
MODELS_DIR = REPO_ROOT / ".cache" / "models"


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


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a subprocess the same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIKU_")}
    return {**env, **app_settings_env(settings), "PYTHONUNBUFFERED": "1"}


def zhiku(settings: Settings, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real `zhiku` console script with these settings."""
    script = Path(sys.executable).with_name("zhiku")
    return subprocess.run(
        [str(script), *args],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, proc, timeout: float = 120, headers: dict | None = None) -> None:
    """Poll `url` until it answers 200, failing fast if the server process dies."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, f"the server for {url} exited"
        assert time.monotonic() < deadline, f"{url} did not come up in {timeout:.0f} s"
        time.sleep(0.3)


def open_chat_app(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    """The Streamlit app under streamlit.testing, with these settings, after its first run."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from app.settings import get_settings

    for key, value in app_settings_env(settings).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(REPO_ROOT / "app" / "ui" / "main.py"), default_timeout=600)
    app.run()
    assert not app.exception, app.exception
    return app
