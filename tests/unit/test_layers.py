"""The layers of pyproject.toml's import-linter contracts hold, no modules of app/ and
ingest/ import each other in a circle, and both checks catch a planted wrong import or
cycle (a copy of the tree with one planted import must fail them)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import REPO_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ["app", "ingest", "bench", "tests"]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_its_layers() -> None:
    result = lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted"),
    [
        ("ingest/splitting.py", "from app.cli.errors import user_errors"),  # ingest → CLI
        ("app/store/bm25/_index.py", "from app.answering import prompts"),  # store → answering
        ("app/models/chat.py", "from ingest import loaders"),  # models → ingest
        ("ingest/indexing.py", "from app.retrieval.hybrid import rrf"),  # ingest → retrieval
        ("bench/common.py", "from tests import helpers"),  # bench → tests
        ("app/answering/chain.py", "from app.ui import state"),  # anything → UI
        ("ingest/roots.py", "from ingest.indexing import reindex"),  # a cycle
        # The BM25 index is one object; its machinery is private to app.store.bm25:
        ("app/retrieval/hybrid.py", "from app.store.bm25._segments import SegmentedIndex"),
        # Pages, routes and commands go through the knowledge-base service (app.knowledge):
        ("app/ui/knowledge_page.py", "from ingest.uploads import delete_upload"),
        ("app/api/knowledge.py", "from app.store.knowledge_bases import chunk_counts"),
        ("app/cli/ingest.py", "from ingest.indexing import delete_source"),
        ("app/knowledge/service.py", "from app.api import jobs"),  # the service → API
    ],
)
def test_a_planted_wrong_import_breaks_the_check(tmp_path: Path, module: str, planted: str) -> None:
    for package in PACKAGES:
        shutil.copytree(
            REPO_ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "results"),
        )
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / module
    # Inside a function, where only a function-level import would hide it.
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n\ndef _planted():\n    {planted}\n",
        encoding="utf-8",
    )
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout


def module_cycles() -> list[list[str]]:
    """Every group of app/ and ingest/ modules that import each other in a circle, as
    found by grimp (import-linter's graph, so function-level imports count too): the
    strongly connected components of the import graph with more than one module."""
    import grimp

    graph = grimp.build_graph("app", "ingest", cache_dir=None)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        order[module] = low[module] = len(order)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            group = [stack.pop()]
            while group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in order:
            visit(module)
    return found


def cycles_in(root: Path) -> list[list[str]]:
    """`module_cycles()` of the tree at `root`, in a fresh interpreter that imports it."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, tests.unit.test_layers as t; print(json.dumps(t.module_cycles()))",
        ],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert module_cycles() == []


@pytest.mark.parametrize(
    ("module", "planted", "cycle"),
    [
        # the cycle embeddings ↔ remote_embeddings had, through the shared base module
        (
            "app/models/lazy_embeddings.py",
            "from app.models.embeddings import make_embeddings",
            ["app.models.embeddings", "app.models.lazy_embeddings"],
        ),
        # a package and the module it exports (layers cannot see this one)
        (
            "app/store/bm25/_index.py",
            "from app.store.bm25 import BM25Index",
            ["app.store.bm25", "app.store.bm25._index"],
        ),
        (
            "ingest/roots.py",
            "from ingest.indexing import reindex",
            ["ingest.indexing", "ingest.roots"],
        ),
    ],
)
def test_a_planted_cycle_is_found(tmp_path: Path, module: str, planted: str, cycle: list) -> None:
    for package in PACKAGES:
        shutil.copytree(
            REPO_ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "results"),
        )
    target = tmp_path / module
    # Inside a function, where only a function-level import would hide it.
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n\ndef _planted():\n    {planted}\n",
        encoding="utf-8",
    )
    assert any(set(cycle) <= set(group) for group in cycles_in(tmp_path))
