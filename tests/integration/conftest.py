"""Fixtures of the tests that use the real parts: one knowledge base of the samples, two
seed articles and a hostile document, shared by the chain, abstention, hosted and chat tests;
a real browser for the signed-in chat's tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failed browser test reports what each of its open pages showed: the test log of
    a CI run is then enough to tell a slow page from a wrong one."""
    report = yield
    if report.when == "call" and report.failed:
        for number, page in enumerate(_open_pages(getattr(item, "funcargs", {}))):
            try:
                shown = page.inner_text("body", timeout=5_000)
            except Exception as exc:  # a closed page says why, not a traceback
                shown = f"(unreadable: {exc})"
            report.sections.append((f"page {number}: {page.url}", shown[-4_000:]))
    return report


def _open_pages(funcargs: dict) -> Iterator:
    """The Playwright pages a test holds: a browser's, or a fixture's `page`."""
    for value in funcargs.values():
        if hasattr(value, "contexts"):  # a Browser
            yield from (page for context in value.contexts for page in context.pages)
        elif hasattr(getattr(value, "page", None), "inner_text"):  # e.g. the first hour's walk
            yield value.page
