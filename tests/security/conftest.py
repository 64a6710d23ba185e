"""The attacks of issue 22 replayed against a real `zhiku serve` on 127.0.0.1.

Each server runs in its own process with its own data folder, `TMPDIR` (to see what a
refused body left on disk) and stderr file (to see that nothing printed a traceback):
`tests.helpers.start_serve`, shared with the team walkthrough."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.settings import load_settings
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import MODELS_DIR, SAMPLES, Server
from tests.helpers import start_serve as start

K1, K2 = "sk-zhiku-security-one", "sk-zhiku-security-two"


@pytest.fixture(scope="module")
def samples_settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    """A data folder with the samples indexed as knowledge base `samples`."""
    folder = tmp_path_factory.mktemp("security-docs")
    shutil.copytree(SAMPLES, folder / "samples")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("security-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="samples",
        top_k=3,
        max_tokens=32,
    )
    assert ingest_paths(open_knowledge_base(settings, "samples"), [folder]).ok
    return settings


@pytest.fixture(scope="module")
def keyless(samples_settings, tmp_path_factory) -> Iterator[Server]:
    """The server as the README starts it: no keys, loopback only (uploads capped at 30 MB,
    so the streamed-upload test sends 30 MB, not the default 100, before the 413)."""
    server = start(samples_settings, tmp_path_factory.mktemp("keyless"), ZHIKU_MAX_REQUEST_MB="30")
    yield server
    err = server.stop()
    assert "Traceback" not in err, err


@pytest.fixture(scope="module")
def two_keys(samples_settings, tmp_path_factory) -> Iterator[Server]:
    """The same data served with two keys, K1 and K2."""
    keyed = samples_settings.updated(**{"api_keys": []})
    server = start(keyed, tmp_path_factory.mktemp("two-keys"), ZHIKU_API_KEYS=f'["{K1}", "{K2}"]')
    yield server
    err = server.stop()
    assert "Traceback" not in err, err
    assert K1 not in err and K2 not in err
