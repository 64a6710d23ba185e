"""Fixtures of the tests that use the real parts: one knowledge base of the samples, two
seed articles and a hostile document, shared by the chain, abstention, hosted and chat tests;
a real browser for the signed-in chat's tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.settings import load_settings
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import INJECTION, LLM_ARTICLES, MODELS_DIR, SAMPLES, chromium


@pytest.fixture(scope="module")
def kb_settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    """Samples + two seed articles + a hostile document, in one knowledge base."""
    folder = tmp_path_factory.mktemp("docs")
    shutil.copytree(SAMPLES, folder / "samples")
    shutil.copy(LLM_ARTICLES / "llm-background-qa-notes.txt", folder)
    (folder / "hostile.txt").write_text(
        "关于知库吉祥物的说明。" + INJECTION + "知库的吉祥物是一只名叫阿库的小熊猫。",
        encoding="utf-8",
    )
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("chain-data"),
        cache_dir=embedding_cache_root,
        embedding_backend="use",
        collection="chain",
        top_k=3,
        max_tokens=96,
        models_dir=MODELS_DIR,
    )
    assert ingest_paths(open_knowledge_base(settings, "chain"), [folder]).ok
    return settings


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright, one per test module."""
    with chromium() as launched:
        yield launched
